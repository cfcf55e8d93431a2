package redisstore_test

import (
	"testing"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
)

// NearCacheStats counts hits, misses and invalidations, and reports the
// subscription's state.
func TestNearCacheStats(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)

	plain, err := redisstore.New(client, redisstore.WithPrefix(prefix+"plain:"))
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.NearCacheStats(); got != (redisstore.NearCacheStats{}) {
		t.Fatalf("without a near-cache: %+v, want the zero value", got)
	}

	s := newNearStore(t, client, prefix, 0, 0)
	created := s.NearCacheStats().Invalidations
	id := newSession(t, s, "alice")
	// The login's own invalidation message would drop what the reads cache.
	waitFor(t, "the login's invalidation message", func() bool {
		return s.NearCacheStats().Invalidations > created
	})
	before := s.NearCacheStats()
	if !before.Enabled || !before.Healthy {
		t.Fatalf("stats of a ready near-cache: %+v", before)
	}
	for range 3 {
		if _, found, err := s.State(t.Context(), "alice", id); err != nil || !found {
			t.Fatalf("State: found %v, err %v", found, err)
		}
	}
	after := s.NearCacheStats()
	if hits, misses := after.Hits-before.Hits, after.Misses-before.Misses; hits != 2 || misses != 1 {
		t.Errorf("3 reads of one session: %d hits and %d misses, want 2 and 1", hits, misses)
	}
	if after.Entries != 1 {
		t.Errorf("entries %d, want 1", after.Entries)
	}
	if err := s.DeleteSession(t.Context(), "alice", id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the invalidation message", func() bool {
		return s.NearCacheStats().Invalidations > after.Invalidations
	})
	_ = s.Close()
	if st := s.NearCacheStats(); st.Healthy || st.Flushes <= after.Flushes {
		t.Errorf("after Close: %+v, want unhealthy and one more flush", st)
	}
}
