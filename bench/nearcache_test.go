package bench

import (
	"context"
	"net/http"
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

// BenchmarkOurGuardRevokedWarm: token cache and near-cache on, a revoked
// (logged-out) token presented again and again, as a client that keeps
// retrying with it, or a flood of replayed tokens, would: the near-cache
// keeps the "not found", so no round trip in the steady state (one per
// session per near-cache TTL), where it used to cost one per request.
func BenchmarkOurGuardRevokedWarm(b *testing.B) {
	a, tr := ourGuard(b, warmConfig)
	checkRevocation(b, a, tr) // revokes the session; the guard refuses it
	req := getRequest(tr.AccessToken)
	b.StartTimer()
	b.ReportAllocs()
	b.ResetTimer()
	start := a.trips.load()
	for b.Loop() {
		if code := serve(a.engine, req); code != http.StatusUnauthorized {
			b.Fatalf("guard answered %d to a revoked token", code)
		}
	}
	reportTrips(b, a.trips, start)
}
