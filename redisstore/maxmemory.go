package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// PolicyNoEviction is the only maxmemory-policy under which Redis never
// deletes the store's keys to make room: a full Redis refuses writes (logins
// and refreshes answer 503) instead of logging users out.
const PolicyNoEviction = "noeviction"

// WithLogger sets where the store logs. Default slog.Default(); nil turns
// logging off, and with it the start-up check.
//
// At start-up, New reads maxmemory-policy (CheckEvictionPolicy, within the
// store's timeout) and logs a warning when Redis may evict the store's keys.
// An evicted key is lost state: it logs its user out. That fails closed, but
// under memory pressure it looks like random logouts.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		s.logger = l
		return nil
	}
}

// CheckEvictionPolicy reads maxmemory-policy from the servers behind client
// (every master of a Cluster, every shard of a Ring) and reports whether
// Redis may evict the store's keys to free memory. Every policy but
// "noeviction" may: the allkeys-* policies pick any key, and the volatile-*
// ones any key with a TTL, which is every key the store writes. When the
// servers disagree, policy is the first risky one, in sorted order.
//
// It returns an error when the policy cannot be read, for example where
// CONFIG is disabled, as on some managed services.
func CheckEvictionPolicy(ctx context.Context, client redis.UniversalClient) (policy string, risky bool, err error) {
	if client == nil {
		return "", false, errors.New("redisstore: client is nil")
	}
	var (
		mu       sync.Mutex
		policies []string
	)
	read := func(ctx context.Context, c redis.Cmdable) error {
		p, err := policyOf(ctx, c)
		if err != nil {
			return err
		}
		mu.Lock()
		policies = append(policies, p)
		mu.Unlock()
		return nil
	}
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return read(ctx, n) })
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return read(ctx, n) })
	default:
		err = read(ctx, client)
	}
	if err != nil {
		return "", false, fmt.Errorf("redisstore: reading maxmemory-policy: %w", err)
	}
	if len(policies) == 0 {
		return "", false, errors.New("redisstore: reading maxmemory-policy: no server answered")
	}
	slices.Sort(policies)
	for _, p := range policies {
		if p != PolicyNoEviction {
			return p, true, nil
		}
	}
	return PolicyNoEviction, false, nil
}

// policyOf reads one server's maxmemory-policy.
func policyOf(ctx context.Context, c redis.Cmdable) (string, error) {
	m, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return "", err
	}
	p, ok := m["maxmemory-policy"]
	if !ok || p == "" {
		return "", errors.New("CONFIG GET maxmemory-policy returned no value")
	}
	return p, nil
}

// checkEviction is New's start-up check: it logs a warning when Redis may
// evict the store's keys, and a notice when it cannot tell. It never fails
// New, and takes at most the store's timeout.
func (s *Store) checkEviction() {
	if s.logger == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	type result struct {
		policy string
		risky  bool
		err    error
	}
	done := make(chan result, 1)
	go func() { // a client without ContextTimeoutEnabled would ignore ctx while it reads
		p, r, err := CheckEvictionPolicy(ctx, s.client)
		done <- result{p, r, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		res.err = fmt.Errorf("redisstore: reading maxmemory-policy: %w", ctx.Err())
	}
	switch {
	case res.err != nil:
		s.logger.Info("redisstore: could not check Redis' maxmemory-policy; make sure it is noeviction, "+
			"or Redis may evict session keys and log users out", "error", res.err)
	case res.risky:
		s.logger.Warn("redisstore: Redis' maxmemory-policy lets it evict session keys when memory runs out, "+
			"which logs users out; set maxmemory-policy noeviction", "maxmemory-policy", res.policy)
	}
}
