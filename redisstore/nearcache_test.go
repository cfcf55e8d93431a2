package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/storetest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// newNearStore returns a store with the near-cache on, ready (subscribed).
// plainStore is a store on client under prefix, without the near-cache:
// another application instance, for the near-cache tests.
func plainStore(t *testing.T, client redis.UniversalClient, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newNearStore(t *testing.T, client redis.UniversalClient, prefix string, entries int, ttl time.Duration, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, append([]redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithNearCache(entries, ttl)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	_, _, _ = s.State(t.Context(), "warm-up", "x") // the first call starts the subscription
	waitFor(t, "near-cache subscription", s.NearCacheHealthy)
	// The first check for lost state finds no marker and flushes: wait for
	// it, so that it cannot drop what a test caches next.
	waitFor(t, "the lost-state marker", func() bool {
		n, err := client.Exists(t.Context(), prefix+"invalidate:alive").Result()
		return err == nil && n == 1
	})
	return s
}

// cacheSession reads a session until s's near-cache keeps it as its only
// entry: the login's own invalidation may arrive after a first fill and
// drop it.
func cacheSession(t *testing.T, s *redisstore.Store, subject, id string) {
	t.Helper()
	waitFor(t, "the session to stay cached", func() bool {
		if _, found, _ := s.State(t.Context(), subject, id); !found {
			t.Fatal("not found")
		}
		time.Sleep(20 * time.Millisecond)
		return redisstore.NearCacheLen(s) == 1
	})
}

// waitRefused waits until s finds the session missing, and fails the test
// when s still finds it 5 s after start.
func waitRefused(t *testing.T, s *redisstore.Store, subject, id string, start time.Time, what string) {
	t.Helper()
	for {
		_, found, err := s.State(t.Context(), subject, id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: B still accepts session %s 5s after", what, id)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func newSession(t *testing.T, s ginjwt.Store, subject string) string {
	t.Helper()
	id := fmt.Sprintf("s%021d", time.Now().UnixNano()%1e15)
	if _, err := s.CreateSession(t.Context(), subject, ginjwt.NewSession{ID: id, TTL: time.Hour, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The contract holds with the near-cache on.
func TestNearCacheConformance(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			client := b.Client(t)
			storetest.Run(t, func(t *testing.T, now func() time.Time) ginjwt.Store {
				return newNearStore(t, client, redistest.Prefix(t, b), 0, 0, redisstore.WithClock(now))
			})
		})
	}
}

// A revocation through instance A reaches instance B (near-cache on, B's
// cache warm): B refuses the session soon after, long before the entry's
// one-minute TTL could end it. bench's BenchmarkRevocationPropagation
// measures how soon.
func TestNearCacheRevocationReachesOtherInstance(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			a := plainStore(t, b.Client(t), prefix)
			storeB := newNearStore(t, b.Client(t), prefix, 0, time.Minute)
			ctx := t.Context()
			const trials = 20
			for i := range trials {
				subject := fmt.Sprintf("user-%d", i)
				id := newSession(t, a, subject)
				for range 2 { // the second read is served by B's cache
					if _, found, err := storeB.State(ctx, subject, id); err != nil || !found {
						t.Fatalf("B: found %v, %v", found, err)
					}
				}
				start := time.Now()
				var err error
				if i%2 == 0 {
					err = a.DeleteSession(ctx, subject, id)
				} else {
					err = a.RevokeUser(ctx, subject)
				}
				if err != nil {
					t.Fatal(err)
				}
				waitRefused(t, storeB, subject, id, start, fmt.Sprintf("trial %d, after the revocation", i))
			}
		})
	}
}

// While the subscription is down the cache is bypassed: a revocation made
// meanwhile, whose message B never receives, is still refused by B.
func TestNearCacheBypassedWhileUnsubscribed(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		if b.IsCluster() {
			continue // the proxy fronts one node
		}
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			a := plainStore(t, b.Client(t), prefix)
			proxy := redistest.NewProxy(t, b.Addr)
			clientB := redis.NewClient(&redis.Options{Addr: proxy.Addr(), MaxRetries: -1})
			t.Cleanup(func() { _ = clientB.Close() })
			storeB := newNearStore(t, clientB, prefix, 0, time.Hour)
			ctx := t.Context()
			id := newSession(t, a, "alice")
			for range 2 {
				if _, found, err := storeB.State(ctx, "alice", id); err != nil || !found {
					t.Fatalf("B: found %v, %v", found, err)
				}
			}
			proxy.Down()
			waitFor(t, "B to notice the lost subscription", func() bool { return !storeB.NearCacheHealthy() })
			if err := a.DeleteSession(ctx, "alice", id); err != nil {
				t.Fatal(err)
			}
			proxy.Up()
			if _, found, err := storeB.State(ctx, "alice", id); err != nil || found {
				t.Fatalf("B after a revocation it never heard of: found %v, err %v; want not found", found, err)
			}
			waitFor(t, "B to subscribe again", storeB.NearCacheHealthy)
			if _, found, _ := storeB.State(ctx, "alice", id); found {
				t.Fatal("B found the revoked session after resubscribing")
			}
		})
	}
}

// A lost message keeps a revoked session alive at most for the entry TTL.
func TestNearCacheEntryTTL(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)
	s := newNearStore(t, client, prefix, 0, 200*time.Millisecond)
	ctx := t.Context()
	id := newSession(t, s, "alice")
	cacheSession(t, s, "alice", id)
	keys, err := redistest.Keys(ctx, client, prefix+"*:s:*")
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys %v, %v", keys, err)
	}
	client.Del(ctx, keys[0]) // deleted behind the store's back: no message
	start := time.Now()
	for {
		_, found, err := s.State(ctx, "alice", id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("the cached entry outlived its TTL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Fatalf("the stale entry lived %v, TTL 200ms", d)
	}
}

// The cache stays within its bound under many users.
func TestNearCacheBounded(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	s := newNearStore(t, client, redistest.Prefix(t, b), 100, time.Hour)
	ctx := t.Context()
	for i := range 1000 {
		subject := fmt.Sprintf("u%d", i)
		id := newSession(t, s, subject)
		if _, found, err := s.State(ctx, subject, id); err != nil || !found {
			t.Fatal(found, err)
		}
		if n := redisstore.NearCacheLen(s); n > 100 {
			t.Fatalf("near-cache holds %d entries, bound 100", n)
		}
	}
	if n := redisstore.NearCacheLen(s); n == 0 {
		t.Fatal("near-cache is empty: it cached nothing")
	}
}

// Lost data without a lost subscription (FLUSHALL) flushes the cache within
// moments, long before the entries' TTL: no session Redis no longer holds is
// served from memory for long.
func TestNearCacheFlushedWhenRedisLosesState(t *testing.T) {
	b := redistest.Backends(t)[0] // FLUSHALL on a private miniredis disturbs no one
	client := b.Client(t)
	s := newNearStore(t, client, redistest.Prefix(t, b), 0, time.Hour)
	ctx := t.Context()
	id := newSession(t, s, "alice")
	for range 2 {
		if _, found, err := s.State(ctx, "alice", id); err != nil || !found {
			t.Fatalf("before: found %v, %v", found, err)
		}
	}
	if redisstore.NearCacheLen(s) != 1 {
		t.Fatal("the session is not cached")
	}
	b.Mini.FlushAll()
	start := time.Now()
	waitFor(t, "the cache to drop the lost session", func() bool {
		_, found, err := s.State(ctx, "alice", id)
		return err == nil && !found
	})
	t.Logf("lost state noticed after %v (entry TTL 1h)", time.Since(start))
}

// FreshState reads Redis even when the cache holds the session, and
// replaces the cached entry: the guard asks it for a token newer than the
// cached state.
func TestNearCacheFreshState(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)
	s := newNearStore(t, client, prefix, 0, time.Hour)
	ctx := t.Context()
	id := newSession(t, s, "alice")
	cacheSession(t, s, "alice", id)
	keys, err := redistest.Keys(ctx, client, prefix+"*:s:*")
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys %v, %v", keys, err)
	}
	client.HSet(ctx, keys[0], "g", 2) // a rotation the cache never heard of
	if st, _, _ := s.State(ctx, "alice", id); st.Generation != 1 {
		t.Fatalf("State = generation %d; want the cached 1", st.Generation)
	}
	if st, found, err := s.FreshState(ctx, "alice", id); err != nil || !found || st.Generation != 2 {
		t.Fatalf("FreshState = %+v, %v, %v; want generation 2", st, found, err)
	}
	if st, _, _ := s.State(ctx, "alice", id); st.Generation != 2 {
		t.Fatalf("after FreshState, State = generation %d; want 2", st.Generation)
	}
}

// CachedState answers from the near-cache only: nothing before a State
// call filled it, then the cached answer, counted as a hit; nothing
// without a near-cache.
func TestNearCacheCachedState(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)
	s := newNearStore(t, client, prefix, 0, time.Hour)
	id := newSession(t, s, "alice")
	if _, _, ok := s.CachedState("alice", "never-seen-session-id"); ok {
		t.Fatal("CachedState answered for a session never read")
	}
	cacheSession(t, s, "alice", id)
	before := s.NearCacheStats()
	st, found, ok := s.CachedState("alice", id)
	if !ok || !found || st.Generation != 1 {
		t.Fatalf("CachedState = %+v, %v, %v; want generation 1, found, ok", st, found, ok)
	}
	if _, _, ok := s.CachedState("alice", "other-session-id-00000"); ok {
		t.Fatal("CachedState answered for another session")
	}
	after := s.NearCacheStats()
	if after.Hits != before.Hits+1 || after.Misses != before.Misses {
		t.Fatalf("hits %d→%d, misses %d→%d; want one more hit, no miss", before.Hits, after.Hits, before.Misses, after.Misses)
	}

	plain := plainStore(t, client, prefix)
	if _, _, ok := plain.CachedState("alice", id); ok {
		t.Fatal("CachedState answered without a near-cache")
	}
}
