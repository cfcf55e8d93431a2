package bench

import (
	"context"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/redisstore"
)

// nearCacheOption is the near-cache as an app would turn it on: the default
// size (100,000 entries) and entry TTL (1 s).
func nearCacheOption() redisstore.Option { return redisstore.WithNearCache(0, 0) }

// waitNearCache starts the store's invalidation subscription (the first
// State call does) and waits until it is up, so that the cache is in use.
func waitNearCache(tb testing.TB, s *redisstore.Store) {
	tb.Helper()
	_, _, _ = s.State(context.Background(), "warm-up", "x")
	deadline := time.Now().Add(5 * time.Second)
	for !s.NearCacheHealthy() {
		if time.Now().After(deadline) {
			tb.Fatal("near-cache subscription not up after 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// closeStore stops the store's near-cache subscription.
func closeStore(tb testing.TB, s *redisstore.Store) {
	if err := s.Close(); err != nil {
		tb.Errorf("close store: %v", err)
	}
}
