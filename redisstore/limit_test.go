package redisstore_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// loginLimited logs a session of subject in at the env clock's time with
// limit, and returns its id and the ids the login evicted.
func (e *env) loginLimited(t *testing.T, subject string, limit int) (id string, evicted []string) {
	t.Helper()
	id = newID()
	res, err := e.store.CreateSession(t.Context(), subject, ginjwt.NewSession{ID: id, Device: "Pixel 8", TTL: ttl, MaxAge: maxAge, Limit: limit})
	if err != nil {
		t.Fatalf("CreateSession(%q): %v", subject, err)
	}
	return id, res.Evicted
}

// userKeys returns the keys of subject, found by their common start.
func (e *env) userKeys(t *testing.T, subject string) []string {
	t.Helper()
	version, _, _, _ := redisstore.UserKeys(e.store, subject, "")
	keys, err := redistest.Keys(t.Context(), e.client, strings.TrimSuffix(version, "v")+"*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// found reports whether State finds session id of subject.
func (e *env) found(t *testing.T, subject, id string) bool {
	t.Helper()
	_, ok, err := e.store.State(t.Context(), subject, id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// 2,000 logins of one subject with limit 100: every login past the limit
// evicts exactly the session logged in 100 logins earlier, the index never
// holds more than 100 entries, the subject never has more than 100 session
// keys, and the list, with its JSON, stays the size of 100 sessions.
func TestLimitBoundsIndexAndList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		const limit, logins = 100, 2000
		var order []string
		var early, late time.Duration // the logins just past the limit, and the last ones
		for i := range logins {
			e.clock.Set(base.Add(time.Duration(i) * time.Millisecond))
			start := time.Now()
			id, evicted := e.loginLimited(t, "alice", limit)
			took := time.Since(start)
			switch {
			case i >= limit && i < 2*limit:
				early += took
			case i >= logins-limit:
				late += took
			}
			order = append(order, id)
			var want []string
			if i >= limit {
				want = order[i-limit : i-limit+1]
			}
			if !slices.Equal(evicted, want) {
				t.Fatalf("login %d: evicted %q, want %q", i+1, evicted, want)
			}
		}
		_, index, _, _ := redisstore.UserKeys(e.store, "alice", "")
		if n := e.client.ZCard(t.Context(), index).Val(); n != limit {
			t.Fatalf("index holds %d entries after %d logins with limit %d", n, logins, limit)
		}
		if keys := e.userKeys(t, "alice"); len(keys) != limit+2 {
			t.Fatalf("alice has %d keys, want %d sessions, the version and the index", len(keys), limit)
		}
		for _, id := range []string{order[0], order[logins-limit-1]} {
			if e.found(t, "alice", id) {
				t.Fatalf("session %s, evicted, is still found", id)
			}
		}
		for _, id := range []string{order[logins-limit], order[logins-1]} {
			if !e.found(t, "alice", id) {
				t.Fatalf("session %s, within the limit, is not found", id)
			}
		}
		start := time.Now()
		list, err := e.store.Sessions(t.Context(), "alice")
		listed := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(list)
		if len(list) != limit || list[0].ID != order[logins-limit] || list[limit-1].ID != order[logins-1] {
			t.Fatalf("Sessions lists %d sessions from %s to %s, want %d from %s to %s", len(list), list[0].ID, list[len(list)-1].ID, limit, order[logins-limit], order[logins-1])
		}
		if len(body) > 200*limit {
			t.Fatalf("the list of %d sessions takes %d bytes of JSON", limit, len(body))
		}
		t.Logf("%s: logins %d to %d took %v each, logins %d to %d %v each; Sessions of %d took %v, %d bytes of JSON",
			b.Name, limit+1, 2*limit, early/limit, logins-limit+1, logins, late/limit, len(list), listed, len(body))
		e.allHaveTTL(t, "after the logins")
	})
}

// At the limit, the entries of sessions that expired since are dropped
// before a live session is evicted, wherever they are in the index: a
// session capped by a short max age expires before sessions used less
// recently.
func TestLimitDropsExpiredEntriesFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		const limit = 3
		e.clock.Set(base)
		s1, _ := e.loginLimited(t, "alice", limit)
		e.clock.Set(base.Add(time.Minute))
		s2 := newID() // expires first, though used after s1
		if _, err := e.store.CreateSession(t.Context(), "alice", ginjwt.NewSession{ID: s2, TTL: ttl, MaxAge: 2 * time.Second, Limit: limit}); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(base.Add(2 * time.Minute))
		s3, _ := e.loginLimited(t, "alice", limit)
		_, index, _, s2Key := redisstore.UserKeys(e.store, "alice", s2)
		if b.Mini != nil {
			b.Mini.FastForward(3 * time.Second)
		} else {
			waitFor(t, "the session capped at 2s to expire", func() bool { return e.client.Exists(t.Context(), s2Key).Val() == 0 })
		}
		if n := e.client.ZCard(t.Context(), index).Val(); n != limit {
			t.Fatalf("index holds %d entries, want %d: the expired session's entry stays until needed", n, limit)
		}

		e.clock.Set(base.Add(3 * time.Minute))
		s4, evicted := e.loginLimited(t, "alice", limit)
		if len(evicted) != 0 {
			t.Fatalf("a login with an expired session in the index evicted %q, want none", evicted)
		}
		for _, id := range []string{s1, s3, s4} {
			if !e.found(t, "alice", id) {
				t.Fatalf("session %s is gone", id)
			}
		}
		if ids := e.client.ZRange(t.Context(), index, 0, -1).Val(); !slices.Equal(ids, []string{s1, s3, s4}) {
			t.Fatalf("index %q, want %q", ids, []string{s1, s3, s4})
		}
		e.clock.Set(base.Add(4 * time.Minute))
		_, evicted = e.loginLimited(t, "alice", limit)
		if !slices.Equal(evicted, []string{s1}) {
			t.Fatalf("the next login evicted %q, want %q", evicted, s1)
		}
	})
}

// legacySession is a session as 0.1.0 stored it: in an index scored by idle
// expiry.
type legacySession struct {
	id               string
	created, rotated time.Time // rotated zero: never rotated
	gone             bool      // indexed, but its hash has expired
}

// writeLegacy writes subject's state as 0.1.0 left it: the version, the
// index :x scored by idle expiry, and the sessions' hashes, every key with
// its TTL. It returns the version.
func writeLegacy(t *testing.T, e *env, subject string, sessions []legacySession) int64 {
	t.Helper()
	ctx := t.Context()
	const version = 4711
	versionKey, _, legacy, _ := redisstore.UserKeys(e.store, subject, "")
	pipe := e.client.TxPipeline()
	pipe.Set(ctx, versionKey, version, ttl)
	for _, s := range sessions {
		last := s.created
		if s.rotated.After(last) {
			last = s.rotated
		}
		pipe.ZAdd(ctx, legacy, redis.Z{Score: float64(last.Add(ttl).UnixMilli()), Member: s.id})
		if s.gone {
			continue
		}
		_, _, _, key := redisstore.UserKeys(e.store, subject, s.id)
		fields := []any{"g", 1, "c", s.created.UnixMilli(), "d", "old phone"}
		if !s.rotated.IsZero() {
			fields = append(fields, "g", 2, "r", s.rotated.UnixMilli())
		}
		pipe.HSet(ctx, key, fields...)
		pipe.PExpire(ctx, key, ttl)
	}
	pipe.PExpire(ctx, legacy, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return version
}

// 0.1.0 indexed sessions by idle expiry under :x. The first script that
// walks the index moves it to :u, scored by last use taken from each
// session's hash, so that after an upgrade every old session is listed,
// revoked by RevokeOtherSessions, and evicted in least recently used order.
func TestLimitMigratesLegacyIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		// Session i of n logged in at i minutes; every third rotated at
		// 5000+i minutes; every tenth is gone. Least recently used first:
		// the unrotated ones by login, then the rotated ones.
		legacyStateOf := func(n int) (sessions []legacySession, lru []string) {
			var rotated []string
			for i := range n {
				s := legacySession{id: fmt.Sprintf("old%019d", i), created: base.Add(time.Duration(i) * time.Minute)}
				if i%3 == 0 {
					s.rotated = base.Add(time.Duration(5000+i) * time.Minute)
				}
				s.gone = i%10 == 5
				sessions = append(sessions, s)
				switch {
				case s.gone:
				case s.rotated.IsZero():
					lru = append(lru, s.id)
				default:
					rotated = append(rotated, s.id)
				}
			}
			return sessions, append(lru, rotated...)
		}
		legacyState := func() ([]legacySession, []string) { return legacyStateOf(250) }
		t.Run("login", func(t *testing.T) {
			e := newEnv(t, b)
			sessions, lru := legacyState()
			version := writeLegacy(t, e, "alice", sessions)
			e.clock.Set(base.Add(time.Hour * 200))
			id, evicted := e.loginLimited(t, "alice", 100)
			if !slices.Equal(evicted, lru[:len(lru)-99]) {
				t.Fatalf("the first login after the upgrade evicted %d sessions %q..., want the %d least recently used %q...", len(evicted), evicted[:3], len(lru)-99, lru[:3])
			}
			_, index, legacy, _ := redisstore.UserKeys(e.store, "alice", "")
			if n := e.client.Exists(t.Context(), legacy).Val(); n != 0 {
				t.Fatal("0.1.0's index is still there")
			}
			if ids := e.client.ZRange(t.Context(), index, 0, -1).Val(); !slices.Equal(ids, append(slices.Clone(lru[len(lru)-99:]), id)) {
				t.Fatalf("index after the move: %d ids, want the 99 most recently used and the new one", len(ids))
			}
			for _, id := range lru[len(lru)-99:] {
				if st, ok, _ := e.store.State(t.Context(), "alice", id); !ok || st.UserVersion != version {
					t.Fatalf("old session %s within the limit: %+v, %v", id, st, ok)
				}
			}
			for _, id := range evicted {
				if e.found(t, "alice", id) {
					t.Fatalf("evicted old session %s is still found", id)
				}
			}
			if list, err := e.store.Sessions(t.Context(), "alice"); err != nil || len(list) != 100 {
				t.Fatalf("Sessions = %d sessions, %v; want 100", len(list), err)
			}
			e.allHaveTTL(t, "after the move")
		})
		t.Run("login, thousands", func(t *testing.T) {
			// More sessions than one EXISTS counts at once.
			e := newEnv(t, b)
			sessions, lru := legacyStateOf(2400)
			writeLegacy(t, e, "alice", sessions)
			e.clock.Set(base.Add(time.Hour * 200))
			const limit = 1500
			_, evicted := e.loginLimited(t, "alice", limit)
			if len(lru) != 2160 || !slices.Equal(evicted, lru[:len(lru)-limit+1]) {
				t.Fatalf("evicted %d of %d old sessions, want the %d least recently used", len(evicted), len(lru), len(lru)-limit+1)
			}
			if list, err := e.store.Sessions(t.Context(), "alice"); err != nil || len(list) != limit {
				t.Fatalf("Sessions = %d sessions, %v; want %d", len(list), err, limit)
			}
		})
		t.Run("list", func(t *testing.T) {
			e := newEnv(t, b)
			sessions, lru := legacyState()
			writeLegacy(t, e, "alice", sessions)
			list, err := e.store.Sessions(t.Context(), "alice")
			if err != nil || len(list) != len(lru) {
				t.Fatalf("Sessions = %d sessions, %v; want the %d live old ones", len(list), err, len(lru))
			}
			_, index, _, _ := redisstore.UserKeys(e.store, "alice", "")
			scores := e.client.ZRangeWithScores(t.Context(), index, 0, -1).Val()
			for i, z := range scores {
				if z.Member != lru[i] {
					t.Fatalf("index[%d] = %v, want %s", i, z.Member, lru[i])
				}
			}
			e.allHaveTTL(t, "after the move")
			// Scored by last use: the first is the first unrotated session.
			if got, want := int64(scores[0].Score), base.Add(time.Minute).UnixMilli(); got != want {
				t.Fatalf("score of %s = %d, want its login %d", lru[0], got, want)
			}
		})
		t.Run("revoke others", func(t *testing.T) {
			e := newEnv(t, b)
			sessions, lru := legacyState()
			writeLegacy(t, e, "alice", sessions)
			keep := lru[7]
			if err := e.store.RevokeOtherSessions(t.Context(), "alice", keep); err != nil {
				t.Fatal(err)
			}
			for _, id := range lru {
				if e.found(t, "alice", id) != (id == keep) {
					t.Fatalf("after RevokeOtherSessions(%s) old session %s found %v", keep, id, e.found(t, "alice", id))
				}
			}
			if keys := e.userKeys(t, "alice"); len(keys) != 3 {
				t.Fatalf("keys after RevokeOtherSessions: %q, want the version, the index and the kept session", keys)
			}
		})
		t.Run("revoke user", func(t *testing.T) {
			e := newEnv(t, b)
			sessions, _ := legacyState()
			writeLegacy(t, e, "alice", sessions)
			if err := e.store.RevokeUser(t.Context(), "alice"); err != nil {
				t.Fatal(err)
			}
			if keys := e.keys(t); len(keys) != 1 {
				t.Fatalf("keys after RevokeUser: %d, want only the version", len(keys))
			}
		})
		t.Run("rotate first", func(t *testing.T) {
			e := newEnv(t, b)
			sessions, lru := legacyState()
			version := writeLegacy(t, e, "alice", sessions)
			// lru[0] rotates before anything moved the old index: it becomes
			// the most recently used, and the move keeps it so.
			e.clock.Set(base.Add(time.Hour * 200))
			res, err := e.store.Rotate(t.Context(), "alice", lru[0], ginjwt.Rotation{
				UserVersion: version, Generation: 1, Grace: time.Second, ReuseAfter: time.Second, TTL: ttl, MaxAge: 1000 * time.Hour,
			})
			if err != nil || res.Outcome != ginjwt.Rotated {
				t.Fatalf("rotate: %+v, %v", res, err)
			}
			e.clock.Set(base.Add(time.Hour * 201))
			_, evicted := e.loginLimited(t, "alice", len(lru))
			if !slices.Equal(evicted, lru[1:2]) {
				t.Fatalf("evicted %q, want %q", evicted, lru[1:2])
			}
			if !e.found(t, "alice", lru[0]) {
				t.Fatal("the rotated old session was evicted")
			}
		})
	})
}

// BenchmarkCreateSessionPastLimit logs one subject in again and again with
// the default limit of 100, after 0, 1,000 or 10,000 logins past it: the
// cost of a login, and of listing the sessions, does not grow with them.
// On miniredis by default; on a real Redis with REDIS_ADDR.
func BenchmarkCreateSessionPastLimit(b *testing.B) {
	for _, backend := range redistest.Backends(b) {
		for _, past := range []int{0, 1_000, 10_000} {
			b.Run(backend.Name+"/past="+strconv.Itoa(past), func(b *testing.B) {
				s, err := redisstore.New(backend.Client(b), redisstore.WithPrefix(redistest.Prefix(b, backend)))
				if err != nil {
					b.Fatal(err)
				}
				login := func() {
					if _, err := s.CreateSession(b.Context(), "alice", ginjwt.NewSession{ID: newID(), Device: "Pixel 8", TTL: ttl, MaxAge: maxAge}); err != nil {
						b.Fatal(err)
					}
				}
				for range ginjwt.DefaultMaxSessions + past {
					login()
				}
				b.Run("CreateSession", func(b *testing.B) {
					for b.Loop() {
						login()
					}
				})
				if past == 0 {
					// For comparison: the same login on another subject with
					// as many sessions, below its limit, which evicts
					// nothing and skips the limit's checks.
					below := func() {
						if _, err := s.CreateSession(b.Context(), "bob", ginjwt.NewSession{ID: newID(), Device: "Pixel 8", TTL: ttl, MaxAge: maxAge, Limit: 1 << 30}); err != nil {
							b.Fatal(err)
						}
					}
					for range ginjwt.DefaultMaxSessions {
						below()
					}
					b.Run("CreateSession below the limit", func(b *testing.B) {
						for b.Loop() {
							below()
						}
					})
				}
				b.Run("Sessions", func(b *testing.B) {
					var bytes int
					for b.Loop() {
						list, err := s.Sessions(b.Context(), "alice")
						if err != nil || len(list) != ginjwt.DefaultMaxSessions {
							b.Fatalf("Sessions: %d, %v", len(list), err)
						}
						body, _ := json.Marshal(list)
						bytes = len(body)
					}
					b.ReportMetric(float64(bytes), "JSON-B")
				})
			})
		}
	}
}

// A session evicted through instance A is refused soon after by instance
// B, whose near-cache held it (entry TTL one minute), as a deleted one
// is; B's own evictions are refused by B at once. One eviction publishes
// the session, several the subject.
func TestNearCacheEvictionReachesOtherInstance(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			a := plainStore(t, b.Client(t), prefix)
			storeB := newNearStore(t, b.Client(t), prefix, 0, time.Minute)
			ctx := t.Context()
			login := func(s *redisstore.Store, subject string, limit int) (string, []string) {
				t.Helper()
				id := newID()
				res, err := s.CreateSession(ctx, subject, ginjwt.NewSession{ID: id, TTL: time.Hour, MaxAge: time.Hour, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				return id, res.Evicted
			}
			cache := func(subject string, ids ...string) {
				t.Helper()
				for _, id := range ids {
					for range 2 { // the second read is served by B's cache
						if _, found, err := storeB.State(ctx, subject, id); err != nil || !found {
							t.Fatalf("B: session %s found %v, %v", id, found, err)
						}
					}
				}
			}
			refusedSoon := func(what, subject string, ids ...string) {
				t.Helper()
				start := time.Now()
				for _, id := range ids {
					waitRefused(t, storeB, subject, id, start, what)
				}
			}

			for i := range 10 {
				subject := fmt.Sprintf("user-%d", i)
				s1, _ := login(a, subject, 2)
				s2, _ := login(a, subject, 2)
				cache(subject, s1, s2)
				if _, evicted := login(a, subject, 2); !slices.Equal(evicted, []string{s1}) {
					t.Fatalf("A evicted %q, want %q", evicted, s1)
				}
				refusedSoon("one eviction through A", subject, s1)
				if _, found, _ := storeB.State(ctx, subject, s2); !found {
					t.Fatalf("B refuses %s, which was not evicted", s2)
				}
			}

			// Several at once: the subject's message.
			s1, _ := login(a, "bob", 0)
			s2, _ := login(a, "bob", 0)
			cache("bob", s1, s2)
			if _, evicted := login(a, "bob", 1); !slices.Equal(evicted, []string{s1, s2}) {
				t.Fatalf("A evicted %q, want %q", evicted, []string{s1, s2})
			}
			refusedSoon("two evictions through A", "bob", s1, s2)

			// B's own eviction: refused by B at once, message or not.
			c1, _ := login(a, "carol", 0)
			c2, _ := login(a, "carol", 0)
			cache("carol", c1, c2)
			if _, evicted := login(storeB, "carol", 2); !slices.Equal(evicted, []string{c1}) {
				t.Fatalf("B evicted %q, want %q", evicted, c1)
			}
			if _, found, _ := storeB.State(ctx, "carol", c1); found {
				t.Fatal("B still accepts the session it evicted itself")
			}
		})
	}
}

// With replica acks on, a login that evicts a session returns only once a
// replica holds the eviction too.
func TestReplicaAcksCoverEvictions(t *testing.T) {
	redistest.SkipUnlessReal(t)
	primary, replica := redistest.StartReplicated(t)
	s, err := redisstore.New(primary.Client(), redisstore.WithReplicaAcks(1, 500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var ids []string
	for i := range 3 {
		id := newID()
		res, err := s.CreateSession(ctx, "alice", ginjwt.NewSession{ID: id, TTL: time.Hour, MaxAge: 24 * time.Hour, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if want := ids[:max(i-1, 0)]; !slices.Equal(res.Evicted, want) {
			t.Fatalf("login %d evicted %q, want %q", i+1, res.Evicted, want)
		}
	}
	_, _, _, evictedKey := redisstore.UserKeys(s, "alice", ids[0])
	_, index, _, _ := redisstore.UserKeys(s, "alice", "")
	if n := replica.Client().Exists(ctx, evictedKey).Val(); n != 0 {
		t.Fatal("the replica still holds the evicted session after the acknowledged login")
	}
	if got := replica.Client().ZRange(ctx, index, 0, -1).Val(); !slices.Equal(got, ids[1:]) {
		t.Fatalf("the replica's index holds %q, want %q", got, ids[1:])
	}
}
