package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the start-up check of a real Redis.
const pingTimeout = 3 * time.Second

// openRedis returns a client for the Redis that cfg names — one server, a
// Cluster or a primary found through Sentinel — which must answer PING, or,
// when it names none, for an embedded miniredis it starts. The returned
// function closes the client and stops the embedded server.
func openRedis(cfg config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	var (
		client redis.UniversalClient
		what   string
	)
	switch {
	case len(cfg.sentinelAddrs) > 0:
		client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: cfg.masterName, SentinelAddrs: cfg.sentinelAddrs, ContextTimeoutEnabled: true,
		})
		what = "REDIS_SENTINEL_ADDRS=" + strings.Join(cfg.sentinelAddrs, ",") + " REDIS_MASTER_NAME=" + cfg.masterName
	case len(cfg.clusterAddrs) > 0:
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.clusterAddrs, ContextTimeoutEnabled: true})
		what = "REDIS_CLUSTER_ADDRS=" + strings.Join(cfg.clusterAddrs, ",")
	case cfg.redisAddr != "":
		client = redis.NewClient(&redis.Options{Addr: cfg.redisAddr, ContextTimeoutEnabled: true})
		what = "REDIS_ADDR=" + cfg.redisAddr
	default:
		return startEmbedded(log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("%s: Redis does not answer PING: %w", what, err)
	}
	log.Info("using Redis", "config", what)
	warnIfEvicting(ctx, client, log)
	return client, func() { _ = client.Close() }, nil
}

// startEmbedded starts an in-memory miniredis and a client for it.
func startEmbedded(log *slog.Logger) (redis.UniversalClient, func(), error) {
	m, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded miniredis: %w", err)
	}
	stopClock := runClock(m)
	log.Warn("no Redis is set: using an embedded in-memory Redis (miniredis); "+
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
