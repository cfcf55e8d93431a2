package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the start-up check of a real Redis.
const pingTimeout = 3 * time.Second

// openRedis returns a client for the Redis at addr, which must answer PING,
// or, when addr is empty, for an embedded miniredis it starts. The returned
// function closes the client and stops the embedded server.
func openRedis(addr string, log *slog.Logger) (*redis.Client, func(), error) {
	if addr == "" {
		return startEmbedded(log)
	}
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("REDIS_ADDR=%s: Redis does not answer PING: %w", addr, err)
	}
	log.Info("using Redis", "addr", addr)
	warnIfEvicting(ctx, client, log)
	return client, func() { _ = client.Close() }, nil
}

// startEmbedded starts an in-memory miniredis and a client for it.
func startEmbedded(log *slog.Logger) (*redis.Client, func(), error) {
	m, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded miniredis: %w", err)
	}
	stopClock := runClock(m)
	log.Warn("REDIS_ADDR is not set: using an embedded in-memory Redis (miniredis); "+
		"sessions are lost when the process stops. Set REDIS_ADDR=host:port to use a real Redis.",
		"addr", m.Addr())
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	return client, func() {
		_ = client.Close()
		stopClock()
		m.Close()
	}, nil
}

// runClock advances m's clock by a second every second. miniredis never
// expires keys on its own, so without this session TTLs would not elapse.
// The returned function stops the clock and waits for it.
func runClock(m *miniredis.Miniredis) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				m.FastForward(time.Second)
			case <-done:
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// warnIfEvicting logs a warning when Redis may evict session keys to free
// memory, which would log users out at random; see
// redisstore.CheckEvictionPolicy.
func warnIfEvicting(ctx context.Context, client redis.UniversalClient, log *slog.Logger) {
	policy, risky, err := redisstore.CheckEvictionPolicy(ctx, client)
	switch {
	case err != nil:
		log.Info("could not read Redis' maxmemory-policy; make sure it is noeviction, "+
			"or Redis may evict session keys and log users out", "error", err)
	case risky:
		log.Warn("Redis' maxmemory-policy lets it evict session keys when memory runs out, "+
			"which logs users out; set maxmemory-policy noeviction", "maxmemory-policy", policy)
	}
}
