package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// PolicyNoEviction is the only maxmemory-policy under which Redis never
// deletes the store's keys to make room: a full Redis refuses writes (logins
// and refreshes answer 503) instead of logging users out.
const PolicyNoEviction = "noeviction"

// CheckEvictionPolicy reads maxmemory-policy from the servers behind client
// (every master of a Cluster, every shard of a Ring) and reports whether
// Redis may evict the store's keys to free memory. Every policy but
// "noeviction" may: the allkeys-* policies pick any key, and the volatile-*
// ones any key with a TTL, which is every key the store writes. When the
// servers disagree, policy is the first risky one, in sorted order.
//
// It returns an error when the policy cannot be read, for example where
// CONFIG is disabled, as on some managed services, or when ctx ends first
// (also with a client that ignores context deadlines while it reads).
// Call it once at start-up and log what it finds; New does not.
func CheckEvictionPolicy(ctx context.Context, client redis.UniversalClient) (policy string, risky bool, err error) {
	if client == nil {
		return "", false, errors.New("redisstore: client is nil")
	}
	type result struct {
		policy string
		risky  bool
		err    error
	}
	done := make(chan result, 1)
	go func() {
		p, r, err := evictionPolicy(ctx, client)
		done <- result{p, r, err}
	}()
	select {
	case res := <-done:
		return res.policy, res.risky, res.err
	case <-ctx.Done():
		return "", false, fmt.Errorf("redisstore: reading maxmemory-policy: %w", ctx.Err())
	}
}

// evictionPolicy is CheckEvictionPolicy without its deadline guard.
func evictionPolicy(ctx context.Context, client redis.UniversalClient) (policy string, risky bool, err error) {
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
