package memstore_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/storetest"
	"github.com/jwtguard/jwtguard/internal/clocktest"
	"github.com/jwtguard/jwtguard/memstore"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestConformance runs the shared Store suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) ginjwt.Store { return memstore.New(memstore.WithClock(now)) })
}

func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// login creates a session of subject at the clock's time.
func login(t *testing.T, s *memstore.Store, clk *clocktest.Clock, subject string, ttl, maxAge time.Duration) (id string, version int64) {
	t.Helper()
	id = newID()
	res, err := s.CreateSession(t.Context(), subject, ginjwt.NewSession{ID: id, TTL: ttl, MaxAge: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	return id, res.UserVersion
}

func found(t *testing.T, s *memstore.Store, subject, id string) bool {
	t.Helper()
	_, ok, err := s.State(t.Context(), subject, id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// A session disappears TTL after its login or last rotation on the store's
// clock, and never outlives its max age.
func TestIdleExpiry(t *testing.T) {
	clk := newClock()
	s := memstore.New(memstore.WithClock(clk.Now))
	id, v := login(t, s, clk, "alice", time.Hour, 3*time.Hour)

	clk.Advance(time.Hour - time.Millisecond)
	if !found(t, s, "alice", id) {
		t.Fatal("session gone before its TTL")
	}
	res, err := s.Rotate(t.Context(), "alice", id, ginjwt.Rotation{
		UserVersion: v, Generation: 1, Grace: time.Second, ReuseAfter: time.Second, TTL: time.Hour, MaxAge: 3 * time.Hour,
	})
	if err != nil || res.Outcome != ginjwt.Rotated {
		t.Fatalf("Rotate = %+v, %v", res, err)
	}
	clk.Advance(time.Hour - time.Millisecond)
	if !found(t, s, "alice", id) {
		t.Fatal("rotation did not restart the idle lifetime")
	}
	clk.Advance(time.Millisecond)
	if found(t, s, "alice", id) {
		t.Fatal("session alive TTL after its rotation")
	}
	if list, err := s.Sessions(t.Context(), "alice"); err != nil || len(list) != 0 {
		t.Fatalf("Sessions after expiry = %+v, %v", list, err)
	}
	res, err = s.Rotate(t.Context(), "alice", id, ginjwt.Rotation{
		UserVersion: v, Generation: 2, Grace: time.Second, ReuseAfter: time.Second, TTL: time.Hour, MaxAge: 3 * time.Hour,
	})
	if err != nil || res.Outcome != ginjwt.Revoked {
		t.Fatalf("Rotate after expiry = %+v, %v; want Revoked", res, err)
	}

	// Max age caps the idle lifetime, at login and at each rotation.
	capped, v := login(t, s, clk, "bob", time.Hour, 10*time.Minute)
	clk.Advance(8 * time.Minute)
	res, err = s.Rotate(t.Context(), "bob", capped, ginjwt.Rotation{
		UserVersion: v, Generation: 1, TTL: time.Hour, MaxAge: 10 * time.Minute,
	})
	if err != nil || res.Outcome != ginjwt.Rotated {
		t.Fatalf("Rotate = %+v, %v", res, err)
	}
	clk.Advance(2*time.Minute - time.Millisecond)
	if !found(t, s, "bob", capped) {
		t.Fatal("session gone before its max age")
	}
	clk.Advance(time.Millisecond)
	if found(t, s, "bob", capped) {
		t.Fatal("session alive at its max age")
	}
}

// The user version outlives the subject's sessions, as long as the longest
// of them could have lived, and is then forgotten.
func TestVersionLifetime(t *testing.T) {
	clk := newClock()
	s := memstore.New(memstore.WithClock(clk.Now))
	long, v := login(t, s, clk, "alice", 2*time.Hour, 24*time.Hour)
	if err := s.DeleteSession(t.Context(), "alice", long); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	_, v2 := login(t, s, clk, "alice", time.Minute, 24*time.Hour)
	if v2 != v {
		t.Fatalf("login after a deleted session got version %d, want the kept %d", v2, v)
	}
	if err := s.RevokeUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	_, v3 := login(t, s, clk, "alice", time.Minute, 24*time.Hour)
	if v3 != v+1 {
		t.Fatalf("login after RevokeUser got version %d, want %d", v3, v+1)
	}
	clk.Advance(time.Hour) // past every session alice ever had
	_, v4 := login(t, s, clk, "alice", time.Minute, 24*time.Hour)
	if v4 == v3 || v4 == v3+1 || v4 == v {
		t.Fatalf("login after all state expired got version %d; want a new random one (had %d, %d)", v4, v, v3)
	}
}

// Expired state is dropped: by every write for its subject, and by a sweep
// of the whole store at most once a minute.
func TestMemoryBounded(t *testing.T) {
	clk := newClock()
	s := memstore.New(memstore.WithClock(clk.Now))
	for i := range 1000 {
		login(t, s, clk, fmt.Sprintf("user-%d", i%100), time.Hour, 24*time.Hour)
	}
	if subjects, sessions := memstore.Size(s); subjects != 100 || sessions != 1000 {
		t.Fatalf("Size = %d subjects, %d sessions; want 100, 1000", subjects, sessions)
	}
	clk.Advance(time.Hour)
	login(t, s, clk, "user-0", time.Hour, 24*time.Hour)
	if subjects, sessions := memstore.Size(s); subjects != 1 || sessions != 1 {
		t.Fatalf("after expiry and a write: Size = %d subjects, %d sessions; want 1, 1", subjects, sessions)
	}

	// Within a minute of a sweep, a write drops its own subject's sessions.
	a, _ := login(t, s, clk, "user-1", time.Second, time.Second)
	login(t, s, clk, "user-1", time.Hour, 24*time.Hour)
	clk.Advance(time.Second)
	if err := s.DeleteSession(t.Context(), "user-1", newID()); err != nil {
		t.Fatal(err)
	}
	if _, sessions := memstore.Size(s); sessions != 2 {
		t.Fatalf("after a write for user-1: %d sessions, want 2 (session %s dropped)", sessions, a)
	}
}

// A session id that could not be one of ginjwt's is refused at login and
// never found, as by redisstore.
func TestMalformedSessionID(t *testing.T) {
	s := memstore.New()
	for _, id := range []string{"", "a.b", "a b", "x{y}", strings.Repeat("a", 65)} {
		_, err := s.CreateSession(t.Context(), "alice", ginjwt.NewSession{ID: id, TTL: time.Hour, MaxAge: time.Hour})
		if err == nil {
			t.Errorf("CreateSession with id %q: no error", id)
		}
		if _, ok, err := s.State(t.Context(), "alice", id); ok || err != nil {
			t.Errorf("State with id %q = %v, %v", id, ok, err)
		}
		if err := s.DeleteSession(t.Context(), "alice", id); err != nil {
			t.Errorf("DeleteSession with id %q = %v", id, err)
		}
	}
	if _, err := s.CreateSession(t.Context(), "alice", ginjwt.NewSession{ID: strings.Repeat("a", 64), TTL: time.Hour, MaxAge: time.Hour}); err != nil {
		t.Errorf("CreateSession with a 64-character id: %v", err)
	}
}

// A call whose context has ended fails, as it would on a networked store.
func TestContextDone(t *testing.T) {
	s := memstore.New()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id := newID()
	_, err1 := s.CreateSession(ctx, "alice", ginjwt.NewSession{ID: id, TTL: time.Hour, MaxAge: time.Hour})
	_, _, err2 := s.State(ctx, "alice", id)
	_, err3 := s.Rotate(ctx, "alice", id, ginjwt.Rotation{})
	err4 := s.DeleteSession(ctx, "alice", id)
	err5 := s.RevokeOtherSessions(ctx, "alice", id)
	err6 := s.RevokeUser(ctx, "alice")
	_, err7 := s.Sessions(ctx, "alice")
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call %d with a canceled context: %v, want context.Canceled", i+1, err)
		}
	}
}

// TestSameAnswersAsRedisstore drives memstore and redisstore on miniredis
// through the same random logins, refreshes with current, stale and future
// tokens, revocations, listings and passing time, and compares every answer.
func TestSameAnswersAsRedisstore(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			compareWithRedisstore(t, seed)
		})
	}
}

// token is what a client holds: one refresh token's claims, with the user
// version each store gave (the versions are random, so they differ).
type token struct {
	subject, id string
	generation  int64
	versions    [2]int64
	ttl, maxAge time.Duration
}

// pair is memstore and redisstore on miniredis, with one clock for both.
type pair struct {
	stores [2]ginjwt.Store // memstore, redisstore
	// advance moves both stores' clocks, and miniredis' key expiry.
	advance func(d time.Duration)
	// set sets both stores' clocks; key expiry follows when it moves on.
	set func(t time.Time)
}

func newPair(t *testing.T) pair {
	t.Helper()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	clk := newClock()
	rs, err := redisstore.New(client, redisstore.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	advance := func(d time.Duration) {
		clk.Advance(d)
		mr.FastForward(d)
	}
	return pair{
		stores:  [2]ginjwt.Store{memstore.New(memstore.WithClock(clk.Now)), rs},
		advance: advance,
		set: func(t time.Time) {
			d := t.Sub(clk.Now())
			clk.Set(t)
			if d > 0 {
				mr.FastForward(d)
			}
		},
	}
}

// TestBoundariesLikeRedisstore presents the previous and the current
// generation exactly at, and around, the ends of the grace window, the
// reuse window and the max age, with durations that are not whole
// milliseconds.
func TestBoundariesLikeRedisstore(t *testing.T) {
	const ttl, maxAge = time.Hour, 2 * time.Hour
	rotatedAt := time.Minute // after the login
	p := newPair(t)
	ctx := t.Context()
	base := time.Date(2031, time.June, 1, 8, 0, 0, 0, time.UTC)
	cases := 0
	for _, grace := range []time.Duration{0, 999 * time.Microsecond, 5500 * time.Microsecond, 5 * time.Second} {
		for _, reuseAfter := range []time.Duration{grace, 10 * time.Second} {
			var offsets []time.Duration // after the rotation
			for _, edge := range []time.Duration{0, grace, reuseAfter, maxAge - rotatedAt} {
				offsets = append(offsets, edge-time.Millisecond, edge-500*time.Microsecond, edge, edge+time.Millisecond)
			}
			for _, d := range offsets {
				for _, gen := range []int64{1, 2} {
					cases++
					subject, id := fmt.Sprint("user-", cases), newID()
					var res [2]ginjwt.RotateResult
					for i, s := range p.stores {
						p.set(base)
						created, err := s.CreateSession(ctx, subject, ginjwt.NewSession{ID: id, TTL: ttl, MaxAge: maxAge})
						if err != nil {
							t.Fatal(err)
						}
						p.set(base.Add(rotatedAt))
						r := ginjwt.Rotation{UserVersion: created.UserVersion, Generation: 1, Grace: grace, ReuseAfter: reuseAfter, TTL: ttl, MaxAge: maxAge}
						if res, err := s.Rotate(ctx, subject, id, r); err != nil || res.Outcome != ginjwt.Rotated {
							t.Fatalf("store %d: first rotation: %+v, %v", i, res, err)
						}
						p.set(base.Add(rotatedAt + d))
						r.Generation = gen
						if res[i], err = s.Rotate(ctx, subject, id, r); err != nil {
							t.Fatal(err)
						}
					}
					if res[0] != res[1] {
						t.Errorf("grace %v, reuse after %v: generation %d presented %v after the rotation: %+v in memstore, %+v in redisstore",
							grace, reuseAfter, gen, d, res[0], res[1])
					}
				}
			}
		}
	}
}

func compareWithRedisstore(t *testing.T, seed uint64) {
	rnd := mrand.New(mrand.NewPCG(seed, 0x6a77))
	p := newPair(t)
	stores := p.stores
	ctx := t.Context()
	var err error

	advance := p.advance
	subjects := []string{"alice", "bob", "{c}:x"}
	var tokens []token
	pick := func() token { return tokens[rnd.IntN(len(tokens))] }
	// Steps of time that land exactly on the boundaries of the policies
	// below, and some that do not.
	durations := []time.Duration{time.Millisecond, 999 * time.Microsecond, 5 * time.Millisecond, time.Second, 2 * time.Second,
		5 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, 2 * time.Hour}

	evictions := 0
	defer func() {
		t.Logf("%d sessions evicted", evictions)
		if !t.Failed() && evictions == 0 {
			t.Errorf("no login evicted a session: the comparison did not reach the limit")
		}
	}()
	for step := range 300 {
		what := ""
		switch op := rnd.IntN(12); {
		case op == 0 || op >= 10 || len(tokens) == 0:
			subject := subjects[rnd.IntN(len(subjects))]
			tok := token{subject: subject, id: newID(), generation: 1, ttl: []time.Duration{time.Hour, 10 * time.Minute}[rnd.IntN(2)]}
			tok.maxAge = []time.Duration{2 * time.Hour, 30 * time.Minute, 5 * time.Minute}[rnd.IntN(3)]
			// Small limits, so that logins evict: sessions of other TTLs
			// and max ages, some expired, are in the index when they do.
			ns := ginjwt.NewSession{ID: tok.id, Device: "d" + fmt.Sprint(step), TTL: tok.ttl, MaxAge: tok.maxAge,
				Client: ginjwt.ClientInfo{IP: "192.0.2.1", UserAgent: "ua"}, Limit: []int{0, 2, 3, 5}[rnd.IntN(4)]}
			var evicted [2][]string
			for i, s := range stores {
				res, err := s.CreateSession(ctx, subject, ns)
				if err != nil {
					t.Fatal(err)
				}
				tok.versions[i], evicted[i] = res.UserVersion, res.Evicted
			}
			if !slices.Equal(evicted[0], evicted[1]) {
				t.Fatalf("step %d: login of %q with limit %d evicted %q in memstore, %q in redisstore", step, subject, ns.Limit, evicted[0], evicted[1])
			}
			evictions += len(evicted[0])
			for _, old := range tokens {
				if old.subject == subject && (old.versions[0] == tok.versions[0]) != (old.versions[1] == tok.versions[1]) {
					t.Fatalf("step %d: login of %q: the stores disagree on keeping version %v of an earlier login (now %v)", step, subject, old.versions, tok.versions)
				}
			}
			tokens = append(tokens, tok)
			what = fmt.Sprintf("login %q, limit %d, evicted %q", subject, ns.Limit, evicted[0])
		case op <= 3:
			tok := pick()
			tok.generation += []int64{0, 0, 0, -1, -1, 1, -2}[rnd.IntN(7)]
			r := ginjwt.Rotation{Generation: tok.generation, Retries: rnd.IntN(3), TTL: tok.ttl, MaxAge: tok.maxAge,
				Client: ginjwt.ClientInfo{IP: "198.51.100." + fmt.Sprint(step%200)}}
			r.Grace = []time.Duration{0, 5 * time.Second, 5500 * time.Microsecond}[rnd.IntN(3)]
			r.ReuseAfter = max(r.Grace, []time.Duration{2 * time.Second, 10 * time.Second}[rnd.IntN(2)])
			var res [2]ginjwt.RotateResult
			for i, s := range stores {
				r.UserVersion = tok.versions[i]
				if res[i], err = s.Rotate(ctx, tok.subject, tok.id, r); err != nil {
					t.Fatal(err)
				}
			}
			if res[0] != res[1] {
				t.Fatalf("step %d: Rotate(%+v) = %+v in memstore, %+v in redisstore", step, tok, res[0], res[1])
			}
			if o := res[0].Outcome; o == ginjwt.Rotated || o == ginjwt.Healed || o == ginjwt.Retried {
				tok.generation = res[0].Generation
				tokens = append(tokens, tok)
			}
			what = fmt.Sprintf("rotate %+v: %+v", tok, res[0])
		case op == 4:
			tok := pick()
			for i, s := range stores {
				if err := s.DeleteSession(ctx, tok.subject, tok.id); err != nil {
					t.Fatalf("store %d: %v", i, err)
				}
			}
			what = "delete"
		case op == 5 && rnd.IntN(3) == 0:
			tok := pick()
			for i, s := range stores {
				if err := s.RevokeOtherSessions(ctx, tok.subject, tok.id); err != nil {
					t.Fatalf("store %d: %v", i, err)
				}
			}
			what = "revoke others"
		case op == 6 && rnd.IntN(3) == 0:
			subject := subjects[rnd.IntN(len(subjects))]
			for i, s := range stores {
				if err := s.RevokeUser(ctx, subject); err != nil {
					t.Fatalf("store %d: %v", i, err)
				}
			}
			what = "revoke user"
		default:
			d := durations[rnd.IntN(len(durations))]
			advance(d)
			what = fmt.Sprintf("advance %v", d)
		}

		// After every step, both stores agree on every token and list.
		// Tokens of sessions gone from both stores are kept for a while
		// only, to be presented again.
		live := tokens[:0]
		for _, tok := range tokens {
			var st [2]ginjwt.SessionState
			var ok [2]bool
			for i, s := range stores {
				if st[i], ok[i], err = s.State(ctx, tok.subject, tok.id); err != nil {
					t.Fatal(err)
				}
			}
			if ok[0] != ok[1] || st[0].Generation != st[1].Generation ||
				(st[0].UserVersion == tok.versions[0]) != (st[1].UserVersion == tok.versions[1]) {
				t.Fatalf("step %d (%s): State of %+v = %+v, %v in memstore; %+v, %v in redisstore", step, what, tok, st[0], ok[0], st[1], ok[1])
			}
			if ok[0] || rnd.IntN(4) == 0 {
				live = append(live, tok)
			}
		}
		tokens = live
		for _, subject := range subjects {
			var lists [2][]ginjwt.SessionInfo
			for i, s := range stores {
				if lists[i], err = s.Sessions(ctx, subject); err != nil {
					t.Fatal(err)
				}
			}
			// Sessions created in the same millisecond come in an order the
			// contract leaves open: memstore's is by id.
			slices.SortStableFunc(lists[1], func(a, b ginjwt.SessionInfo) int {
				return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
			})
			if len(lists[0]) != len(lists[1]) {
				t.Fatalf("step %d (%s): Sessions(%q) = %+v in memstore, %+v in redisstore", step, what, subject, lists[0], lists[1])
			}
			for i := range lists[0] {
				a, b := lists[0][i], lists[1][i]
				if a.ID != b.ID || !a.Created.Equal(b.Created) || !a.LastRefresh.Equal(b.LastRefresh) || a.Device != b.Device || a.IP != b.IP || a.UserAgent != b.UserAgent {
					t.Fatalf("step %d (%s): Sessions(%q)[%d] = %+v in memstore, %+v in redisstore", step, what, subject, i, a, b)
				}
			}
		}
	}
}
