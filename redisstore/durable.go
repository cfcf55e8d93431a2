package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is returned when a write reached the primary but fewer
// replicas than WithReplicaAcks asks for confirmed it within its timeout.
// The write may or may not survive a failover, so the caller is told it
// failed (503): a retry writes again and waits again.
var ErrNotReplicated = errors.New("redisstore: the write was not confirmed by enough replicas in time")

// markerTTL is how long the write marker of a durable write lives.
const markerTTL = 10 * time.Second

// WithReplicaAcks makes every write — login (with the sessions it evicts
// past the session limit), refresh rotation, logout of every scope,
// RevokeSession, RevokeOtherSessions, RevokeUser — wait until
// at least n replicas of the primary that holds the user's keys have it
// (Redis WAIT) before it succeeds. When fewer confirm within timeout, the
// call fails with ErrNotReplicated and ginjwt answers 503 store_unavailable:
// retry it. A success then means the write is on the primary and n
// replicas, so it survives a failover to any of them; Redis' own failover
// (Sentinel, Cluster) promotes the most up-to-date replica it can reach.
// See docs/operations.md for what that does and does not cover.
//
// Off by default. It works with single-primary (replicated), Sentinel and
// Cluster clients (on a Cluster, per slot: the master that holds the
// user's keys waits for its own replicas); not with a Ring. timeout must be
// shorter than the store's timeout (WithTimeout), so that a missing
// replica answers 503 rather than a timeout.
func WithReplicaAcks(n int, timeout time.Duration) Option {
	return func(s *Store) error {
		if n < 1 || timeout <= 0 {
			return fmt.Errorf("redisstore: replica acks need n >= 1 and a positive timeout, got %d and %v", n, timeout)
		}
		if _, ring := s.client.(*redis.Ring); ring {
			return errors.New("redisstore: replica acks do not work with a Ring, whose shards have no replicas it can wait for")
		}
		s.acks, s.ackTimeout = n, timeout
		return nil
	}
}

// write runs a mutation script on the keys of k. With replica acks on it
// runs the script, a write of k's marker and WAIT in one pipeline on the
// connection of the primary holding k: the marker makes WAIT cover the
// revocation even when a retry of it finds nothing left to change (WAIT
// only counts the connection's own writes), and the replication stream
// being ordered, everything written before it too.
func (s *Store) write(ctx context.Context, k keys, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.acks == 0 {
		return s.run(ctx, script, keys, args...)
	}
	cmd, err := within(ctx, s, keys[0], func(ctx context.Context) (*redis.Cmd, error) {
		return s.writeDurably(ctx, k, script, keys, args...)
	})
	if cmd == nil {
		cmd = redis.NewCmd(ctx)
	}
	if err != nil {
		cmd.SetErr(err)
	}
	return cmd
}

// writeDurably is write with replica acks, without the timeout.
func (s *Store) writeDurably(ctx context.Context, k keys, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	node, err := s.primaryFor(ctx, keys[0])
	if err != nil {
		return nil, err
	}
	// One ack budget for the write: a script missing on the primary (the
	// first use on a node, or on a replica just promoted, whose script cache
	// is empty) is loaded and run again within what is left of it.
	deadline := time.Now().Add(s.ackTimeout)
	for attempt := 0; ; attempt++ {
		var (
			eval *redis.Cmd
			wait *redis.Cmd
		)
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			eval = script.EvalSha(ctx, p, keys, args...)
			p.Set(ctx, k.marker(), 1, markerTTL)
			// WAIT 0 would block without end: at least a millisecond.
			wait = p.Do(ctx, "WAIT", s.acks, max(time.Until(deadline).Milliseconds(), 1))
			return nil
		})
		if eval != nil && isNoScript(eval.Err()) && attempt == 0 {
			if err := script.Load(ctx, node).Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err := eval.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		got, err := wait.Int64()
		if err != nil {
			if strings.HasPrefix(err.Error(), "UNBLOCKED") { // the primary was demoted while it waited
				return nil, fmt.Errorf("%w: %w", ErrNotReplicated, err)
			}
			return nil, err
		}
		if got < int64(s.acks) {
			return nil, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, got, s.acks, s.ackTimeout)
		}
		return eval, nil
	}
}

// primaryFor returns the client of the primary holding key: the node of its
// slot on a Cluster, the client itself otherwise (a Sentinel failover
// client always talks to the current primary).
func (s *Store) primaryFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("redisstore: replica acks do not support a %T", s.client)
}

// isNoScript reports whether err says the server does not have the script.
func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}
