// Package redisstore is a ginjwt.Store on Redis, through go-redis v9's
// UniversalClient: a single node, Sentinel or Cluster.
//
// A guard check is one pipelined GET + HGET (one round trip), or with a
// DPoP proof one script that also checks it (StateAndProof); every mutation
// is one Lua script. All keys of a subject share a Cluster hash tag. Every key has a TTL bounded by the
// longest session it serves, so abandoned state disappears by itself, and a
// lost key only ever logs people out (but for a session's DPoP proof ids:
// see StateAndProof). Refresh tokens are never stored.
//
// Revocation checks must read from the primary: New refuses a client that
// may read from replicas (ReadOnly, RouteByLatency, RouteRandomly).
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds each store call unless WithTimeout says otherwise.
const DefaultTimeout = time.Second

// Store is a ginjwt.Store on Redis. It is safe for concurrent use.
type Store struct {
	client        redis.UniversalClient
	prefix        string
	invalidations string // the pub/sub channel of invalidations: prefix + "invalidate"
	timeout       time.Duration

	// deadlines is true when the client applies context deadlines to its
	// socket I/O, so a call can be made without a goroutine; see run.
	deadlines bool

	near *nearCache // see WithNearCache; nil when off

	clock func() time.Time // a test clock for the scripts; nil: Redis' TIME (see WithClock)

	acks       int           // replicas every write waits for; 0: none (see WithReplicaAcks)
	ackTimeout time.Duration // how long a write waits for them
	breakers   *breakers     // fail fast while Redis is down
	limiter    *redis_rate.Limiter

	rotateConsts atomic.Pointer[rotateConstants] // see rotateArgs
}

var _ ginjwt.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store) error

// WithPrefix sets the prefix of every key, so that several apps can share one
// Redis. Default "jwtguard:". It must not contain '{' or '}'.
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		if err := checkPrefix(prefix); err != nil {
			return err
		}
		s.prefix = prefix
		return nil
	}
}

// WithTimeout bounds every store call, including the guard's check; a call
// that takes longer fails, and the request answers 503. Default 1 second.
//
// The bound holds with any client. With a go-redis client whose options set
// ContextTimeoutEnabled, go-redis enforces it on the connection itself;
// without that option go-redis ignores context deadlines while it reads, so
// the store waits for the reply in a goroutine and gives up at the deadline
// (the abandoned read ends at the client's ReadTimeout). Setting
// ContextTimeoutEnabled saves that goroutine.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("redisstore: timeout %v must be positive", d)
		}
		s.timeout = d
		return nil
	}
}

// WithClock makes the scripts take the time from now instead of Redis'
// clock (TIME): for tests that move a fake clock, such as the one given to
// ginjwt.Options.Now, through grace windows and maximum ages. Keys still
// expire on Redis' clock. Never in production: every instance must read
// one clock, Redis', or instances whose clocks disagree apply different
// rules.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		s.clock = now
		return nil
	}
}

// clockArg is the scripts' clock argument: the test clock in unix
// milliseconds, or "" for Redis' TIME.
func (s *Store) clockArg() string {
	if s.clock == nil {
		return ""
	}
	return strconv.FormatInt(s.clock().UnixMilli(), 10)
}

// New returns a Store on client. It does no I/O: an unreachable Redis shows
// in the first call, not here. Check the server's eviction policy once at
// start-up with CheckEvictionPolicy.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	deadlines, ok := honorsDeadlines(client)
	if !ok {
		return nil, errors.New("redisstore: client is nil")
	}
	if err := checkPrimaryReads(client); err != nil {
		return nil, err
	}
	s := &Store{client: client, prefix: DefaultPrefix, timeout: DefaultTimeout, deadlines: deadlines}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.acks > 0 && s.ackTimeout >= s.timeout {
		return nil, fmt.Errorf("redisstore: replica ack timeout %v must be shorter than the store timeout %v", s.ackTimeout, s.timeout)
	}
	s.invalidations = s.prefix + "invalidate"
	s.breakers = newBreakers(client)
	s.limiter = redis_rate.NewLimiter(client)
	return s, nil
}

// channel is the pub/sub channel of invalidations.
func (s *Store) channel() string { return s.invalidations }

// honorsDeadlines reports whether client applies context deadlines to
// socket reads and writes, which go-redis clients do only with
// ContextTimeoutEnabled; ok is false for a nil client, typed or not.
func honorsDeadlines(client redis.UniversalClient) (deadlines, ok bool) {
	switch c := client.(type) {
	case *redis.Client:
		if c != nil {
			return c.Options().ContextTimeoutEnabled, true
		}
	case *redis.ClusterClient:
		if c != nil {
			return c.Options().ContextTimeoutEnabled, true
		}
	case *redis.Ring:
		if c != nil {
			return c.Options().ContextTimeoutEnabled, true
		}
	default:
		return false, client != nil
	}
	return false, false
}

// run runs script within the store's timeout (see within).
func (s *Store) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd, err := within(ctx, s, keys[0], func(ctx context.Context) (*redis.Cmd, error) {
		cmd := script.Run(ctx, s.client, keys, args...)
		return cmd, cmd.Err()
	})
	if cmd == nil { // the deadline passed first
		cmd = redis.NewCmd(ctx)
		cmd.SetErr(err)
	}
	return cmd
}

// within runs fn, a call on the Redis that holds key, within the store's
// timeout and behind that Redis' circuit breaker, and makes a Cluster client
// reload its slot map after a failure. When the client would not stop
// reading at the deadline, fn runs in a goroutine and within gives up at the
// deadline, returning the zero T, so a hung or silent server costs the
// caller the timeout and no more.
func within[T any](ctx context.Context, s *Store, key string, fn func(context.Context) (T, error)) (v T, err error) {
	b := s.breakers.forKey(key)
	probe, err := b.allow()
	if err != nil {
		return v, err
	}
	defer func() {
		b.record(probe, err)
		s.reloadOnError(err)
	}()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if s.deadlines {
		return fn(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return v, ctx.Err()
	}
}

// errBadSessionID is returned for a session id that cannot be part of a key.
var errBadSessionID = errors.New("redisstore: malformed session id")

// CreateSession implements ginjwt.Store. The evicted sessions are deleted,
// and their invalidation published, by the same script as the login, so
// with replica acks the acknowledged login covers them too.
func (s *Store) CreateSession(ctx context.Context, subject string, ns ginjwt.NewSession) (ginjwt.CreateResult, error) {
	if !ginjwt.ValidSessionID(ns.ID) {
		return ginjwt.CreateResult{}, errBadSessionID
	}
	ttl := min(ns.TTL, ns.MaxAge)
	k := s.keysFor(subject)
	vals, err := s.write(ctx, k, createScript,
		[]string{k.version, k.index, k.session(ns.ID), k.legacy},
		randomVersion(), ns.ID, s.clockArg(), ttl.Milliseconds(), ns.Device,
		ns.Client.IP, ns.Client.UserAgent, k.sessionPrefix, s.channel(), k.tag, ns.SessionLimit(),
	).StringSlice()
	if err != nil {
		s.forget(subject, "") // the script may have evicted sessions
		return ginjwt.CreateResult{}, fmt.Errorf("redisstore: create session: %w", err)
	}
	if len(vals) == 0 {
		return ginjwt.CreateResult{}, errors.New("redisstore: create session: empty reply")
	}
	version, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil {
		return ginjwt.CreateResult{}, fmt.Errorf("redisstore: create session: user version %q: %w", vals[0], err)
	}
	res := ginjwt.CreateResult{UserVersion: version}
	if evicted := vals[1:]; len(evicted) > 0 {
		res.Evicted = evicted
		if len(evicted) == 1 { // as the script published it
			s.forget(subject, evicted[0])
		} else {
			s.forget(subject, "")
		}
	}
	return res, nil
}

// State implements ginjwt.Store with one round trip, or none when the
// near-cache holds the session's answer, found or not found (see
// negative.go).
func (s *Store) State(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	if s.near != nil {
		s.near.startOnce(s.client, s.channel())
		// Only answers read from Redis are cached, so only valid ids are found.
		if s.near.healthy.Load() {
			if st, found, ok := s.nearHit(subject, sessionID); ok {
				return st, found, nil
			}
		}
	}
	if !ginjwt.ValidSessionID(sessionID) {
		return ginjwt.SessionState{}, false, nil
	}
	switch {
	case s.near == nil:
		return s.state(ctx, subject, sessionID)
	case !s.near.healthy.Load():
		s.near.stats.bypasses.Add(1)
		return s.state(ctx, subject, sessionID)
	}
	s.near.stats.misses.Add(1)
	return s.readThrough(ctx, subject, sessionID)
}

// CachedState is State answered from the near-cache alone, without I/O:
// ok is false when the near-cache is off or down or holds no live answer
// for the session, and then only State can answer. A hit counts in
// NearCacheStats as State's would; a miss counts nothing, as the State
// call that follows counts it. Instrumentation uses it to tell the calls
// that reach Redis from those that do not (see otelguard.Store).
func (s *Store) CachedState(subject, sessionID string) (st ginjwt.SessionState, found, ok bool) {
	if s.near == nil || !ginjwt.ValidSessionID(sessionID) || !s.near.healthy.Load() {
		return ginjwt.SessionState{}, false, false
	}
	return s.nearHit(subject, sessionID)
}

// nearHit returns the near-cache's live answer for a session and counts
// the hit.
func (s *Store) nearHit(subject, sessionID string) (st ginjwt.SessionState, found, ok bool) {
	if st, found, ok = s.near.get(subject, sessionID); ok {
		s.near.stats.hits.Add(1)
	}
	return st, found, ok
}

// FreshState implements ginjwt.StateRefresher: State from Redis, never from
// the near-cache, whose entry it replaces.
func (s *Store) FreshState(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	if !ginjwt.ValidSessionID(sessionID) {
		return ginjwt.SessionState{}, false, nil
	}
	if s.near == nil || !s.near.healthy.Load() {
		return s.state(ctx, subject, sessionID)
	}
	return s.readThrough(ctx, subject, sessionID)
}

// readThrough reads a session's state from Redis and caches the answer,
// found or not found, unless an invalidation arrived while the read ran.
// The entry's TTL counts from when the read started, so that no entry
// outlives TTL after the moment Redis may have answered. A "not found" is
// cached per (subject, session id) only: see negative.go for why it can
// never refuse a token that Redis would accept.
func (s *Store) readThrough(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	ticket, started := s.near.epochs.ticket(subject), s.near.since()
	st, found, err := s.state(ctx, subject, sessionID)
	if err == nil {
		s.near.put(subject, sessionID, st, found, ticket, started)
	}
	return st, found, err
}

// state reads a session's state from Redis.
func (s *Store) state(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	k := s.keysFor(subject)
	st, err := within(ctx, s, k.version, func(ctx context.Context) (*ginjwt.SessionState, error) {
		// GET and HGET pipelined: one round trip, to the primary of the
		// subject's slot. No script is needed: both values only move forward
		// or disappear, so any interleaving reads a state that was true at
		// some moment, and a missing value means not found.
		pipe := s.client.Pipeline()
		version := pipe.Get(ctx, k.version)
		gen := pipe.HGet(ctx, k.session(sessionID), "g")
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for _, c := range []*redis.StringCmd{version, gen} {
			if err := c.Err(); errors.Is(err, redis.Nil) {
				return nil, nil
			} else if err != nil {
				return nil, err
			}
		}
		v, err1 := version.Int64()
		g, err2 := gen.Int64()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return &ginjwt.SessionState{UserVersion: v, Generation: g}, nil
	})
	if err != nil {
		return ginjwt.SessionState{}, false, fmt.Errorf("redisstore: state: %w", err)
	}
	if st == nil {
		return ginjwt.SessionState{}, false, nil
	}
	return *st, true, nil
}

// Rotate implements ginjwt.Store.
func (s *Store) Rotate(ctx context.Context, subject, sessionID string, r ginjwt.Rotation) (ginjwt.RotateResult, error) {
	if !ginjwt.ValidSessionID(sessionID) {
		return ginjwt.RotateResult{Outcome: ginjwt.Revoked}, nil
	}
	k := s.keysFor(subject)
	c := s.rotateArgs(&r)
	reply, err := s.write(ctx, k, rotateScript,
		[]string{k.version, k.index, k.session(sessionID)},
		r.UserVersion, r.Generation, s.clockArg(), c[0], c[1], c[2], c[3], sessionID,
		r.Client.IP, r.Client.UserAgent, c[4], k.tag, r.Retries, c[5], c[6],
	).Slice()
	s.forget(subject, sessionID)
	if err != nil {
		return ginjwt.RotateResult{}, fmt.Errorf("redisstore: rotate: %w", err)
	}
	outcome, n, ok := rotateReply(reply)
	if !ok || outcome < ginjwt.Rotated || outcome > ginjwt.Throttled {
		return ginjwt.RotateResult{}, fmt.Errorf("redisstore: rotate: unexpected reply %v", reply)
	}
	if outcome == ginjwt.Throttled {
		return ginjwt.RotateResult{Outcome: outcome, RetryAfter: time.Duration(n) * time.Millisecond}, nil
	}
	return ginjwt.RotateResult{Outcome: outcome, Generation: n}, nil
}

// rotateReply reads the rotate script's {outcome, number}; Redis turns Lua
// numbers into integers (a throttled refresh's wait into whole
// milliseconds).
func rotateReply(reply []any) (ginjwt.RotateOutcome, int64, bool) {
	if len(reply) != 2 {
		return 0, 0, false
	}
	outcome, ok1 := reply[0].(int64)
	n, ok2 := reply[1].(int64)
	return ginjwt.RotateOutcome(outcome), n, ok1 && ok2
}

// DeleteSession implements ginjwt.Store.
func (s *Store) DeleteSession(ctx context.Context, subject, sessionID string) error {
	if !ginjwt.ValidSessionID(sessionID) {
		return nil
	}
	k := s.keysFor(subject)
	err := s.write(ctx, k, deleteScript, []string{k.index, k.session(sessionID)}, sessionID, s.channel(), k.tag).Err()
	s.forget(subject, sessionID)
	if err != nil {
		return fmt.Errorf("redisstore: delete session: %w", err)
	}
	return nil
}

// RevokeOtherSessions implements ginjwt.Store.
func (s *Store) RevokeOtherSessions(ctx context.Context, subject, keepID string) error {
	k := s.keysFor(subject)
	err := s.write(ctx, k, revokeOthersScript, []string{k.index, k.legacy}, k.sessionPrefix, keepID, s.channel(), k.tag).Err()
	s.forget(subject, "")
	if err != nil {
		return fmt.Errorf("redisstore: revoke other sessions: %w", err)
	}
	return nil
}

// Sessions implements ginjwt.Store.
func (s *Store) Sessions(ctx context.Context, subject string) ([]ginjwt.SessionInfo, error) {
	k := s.keysFor(subject)
	vals, err := s.run(ctx, sessionsScript, []string{k.version, k.index, k.legacy}, k.sessionPrefix).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: sessions: %w", err)
	}
	const fields = 6
	if len(vals)%fields != 0 {
		return nil, fmt.Errorf("redisstore: sessions: unexpected reply of %d values", len(vals))
	}
	list := make([]ginjwt.SessionInfo, 0, len(vals)/fields)
	for i := 0; i < len(vals); i += fields {
		created, err1 := strconv.ParseInt(vals[i+1], 10, 64)
		rotated, err2 := int64(0), error(nil)
		if vals[i+2] != "" {
			rotated, err2 = strconv.ParseInt(vals[i+2], 10, 64)
		}
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("redisstore: sessions: %w", err)
		}
		info := ginjwt.SessionInfo{
			ID:          vals[i],
			Created:     time.UnixMilli(created),
			LastRefresh: time.UnixMilli(max(created, rotated)),
			Device:      vals[i+3],
			IP:          vals[i+4],
			UserAgent:   vals[i+5],
		}
		list = append(list, info)
	}
	slices.SortFunc(list, func(a, b ginjwt.SessionInfo) int { return a.Created.Compare(b.Created) })
	return list, nil
}

// RevokeUser implements ginjwt.Store.
func (s *Store) RevokeUser(ctx context.Context, subject string) error {
	k := s.keysFor(subject)
	err := s.write(ctx, k, revokeUserScript, []string{k.version, k.index, k.legacy}, k.sessionPrefix, s.channel(), k.tag).Err()
	s.forget(subject, "")
	if err != nil {
		return fmt.Errorf("redisstore: revoke user: %w", err)
	}
	return nil
}

// randomVersion returns a random user version in [1, 2^52]: exact as a Lua
// number and as a JSON number, and unpredictable, so a version created anew
// after data loss does not match tokens issued before.
func randomVersion() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>12) + 1
}
