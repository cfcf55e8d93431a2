// Package storetest is the conformance suite of ginjwt.Store. Every Store
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) ginjwt.Store {
//			return newEmptyStore(t, now)
//		})
//	}
//
// The suite checks each clause of the contract documented on ginjwt.Store and
// ginjwt.RotateOutcome: versions, generations, every rotation outcome, delete,
// revoke-user, the session limit, subjects made of awkward bytes, and
// concurrent logins and refreshes. The suite owns the store's clock: the
// store must take every time its rules use (creation, rotation, grace,
// retries, maximum age) from now, which the suite sets to a base time years
// from the real one and moves as it goes, so it never sleeps. Idle expiry (the TTL) may follow the
// store's own clock, as Redis key expiry does. Session ids are 22 random
// base64url characters, the shape ginjwt uses.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/clocktest"
)

// base is the suite's "now": in the future, so that a store which reads the
// real clock instead of the times it is given gets the refresh rules wrong,
// and so that no session the suite creates is past any real-time expiry.
var base = time.Date(2035, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

// The session policy of the suite unless a test says otherwise.
const (
	ttl        = time.Hour
	maxAge     = 24 * time.Hour
	grace      = 5 * time.Second
	reuseAfter = 10 * time.Second
)

// concurrency is how many goroutines race in the concurrency tests.
const concurrency = 50

// retries is the suite's Rotation.Retries unless a test says otherwise.
const retries = 3

// NewStore returns a Store with no state, independent of the stores it
// returned before (for a Redis store, one with a fresh key prefix), whose
// rules take the time from now. It may register cleanups on t.
type NewStore func(t *testing.T, now func() time.Time) ginjwt.Store

// Run runs the conformance suite as subtests of t. newStore is called once
// per subtest, sometimes more, with that subtest's t. The stores must
// tolerate concurrent use.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, newStore NewStore)
	}{
		{"CreateSession/generation 1 and a nonzero version", testCreateFirstSession},
		{"CreateSession/sessions of one subject share the version", testCreateSharesVersion},
		{"CreateSession/versions differ between subjects", testCreateVersionsDiffer},
		{"CreateSession/version is random when state starts afresh", testCreateVersionRandom},
		{"State/unknown session or subject is not found", testStateUnknown},
		{"Rotate/current generation rotates", testRotateCurrent},
		{"Rotate/previous generation within grace converges", testRotateConverged},
		{"Rotate/previous generation after grace is superseded", testRotateSuperseded},
		{"Rotate/previous generation after reuse window is reuse", testRotateReusedLate},
		{"Rotate/older generation is reuse", testRotateReusedOlder},
		{"Rotate/generation ahead of the store heals", testRotateHealed},
		{"Rotate/previous generation after grace is retried within the bound", testRotateRetried},
		{"Rotate/a thief and the client taking turns end the session", testRotateThief},
		{"Rotate/wrong user version is revoked", testRotateWrongVersion},
		{"Rotate/missing session is revoked", testRotateMissing},
		{"Rotate/session past max age expires", testRotateExpired},
		{"Rotate/rules apply in the documented order", testRotateOrder},
		{"Rotate/refreshes past Limit are throttled", testLimitThrottlesRefreshes},
		{"Rotate/convergence counts against Limit; reuse is never throttled", testLimitCountsConvergence},
		{"DeleteSession", testDeleteSession},
		{"RevokeOtherSessions", testRevokeOthers},
		{"Sessions/lists live sessions with their metadata", testSessions},
		{"RevokeUser", testRevokeUser},
		{"RevokeUser/unknown subject", testRevokeUnknown},
		{"Limit/a login past the limit ends the least recently used session", testLimitEvictsLeastRecentlyUsed},
		{"Limit/a rotation makes a session the most recently used", testLimitRotationRefreshesRecency},
		{"Limit/removed sessions make room", testLimitRemovedMakeRoom},
		{"Limit/a lower limit evicts as many as needed", testLimitLowered},
		{"Limit/zero or less means the default", testLimitDefault},
		{"Subjects/awkward bytes stay separate", testAwkwardSubjects},
		{"Concurrency/first logins agree on the version", testConcurrentLogins},
		{"Concurrency/refreshes within grace converge", testConcurrentGrace},
		{"Concurrency/refreshes without grace are superseded", testConcurrentNoGrace},
		{"Concurrency/sessions rotate independently", testConcurrentSessions},
		{"Concurrency/logins past the limit evict each session once", testConcurrentLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore) })
	}
	runThrottle(t, newStore)
	t.Run("Monotonic", func(t *testing.T) { RunMonotonic(t, newStore) })
	if _, ok := newStore(t, time.Now).(ginjwt.ProofStore); ok {
		t.Run("ProofStore", func(t *testing.T) { RunProofStore(t, newStore) })
	}
}

// AwkwardSubjects are subjects that break naive key schemes: Redis hash-tag
// braces, key separators, bytes that are not UTF-8, NUL, multi-byte
// characters, the longest subject ginjwt accepts (256 bytes), and subjects
// that are prefixes of each other. Store tests may reuse them.
var AwkwardSubjects = []string{
	"{",
	"}",
	":",
	"{}",
	"a}b{c",
	"\x00\xff",
	"\x00",
	"ユーザー🙂",
	strings.Repeat("s", 255) + "}",
	"u",
	"u:",
	"u:s:x",
	"u}:s:x",
	"*?[",
	" ",
}

// fixture is one store, its clock and the helpers the tests use on it.
type fixture struct {
	t     *testing.T
	s     ginjwt.Store
	clock *clocktest.Clock
}

func newFixture(t *testing.T, newStore NewStore) *fixture {
	t.Helper()
	c := clocktest.New(base)
	s := newStore(t, c.Now)
	if s == nil {
		t.Fatal("newStore returned nil")
	}
	return &fixture{t: t, s: s, clock: c}
}

// sessionID returns a fresh session id as ginjwt makes them.
func sessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// session is what a test knows of one session: what its latest tokens carry.
type session struct {
	subject, id string
	version     int64
	generation  int64
}

// create logs subject in at time at with the suite's policy.
func (f *fixture) create(subject string, at time.Time) *session {
	f.t.Helper()
	f.clock.Set(at)
	return f.createWith(subject, ginjwt.NewSession{ID: sessionID(), Device: "test device", TTL: ttl, MaxAge: maxAge})
}

// createWith logs subject in with ns, at the clock's time, and fails the
// test if the login evicted a session: the tests that use it stay far below
// the default limit.
func (f *fixture) createWith(subject string, ns ginjwt.NewSession) *session {
	f.t.Helper()
	s, evicted := f.createEvicting(subject, ns)
	if len(evicted) != 0 {
		f.t.Fatalf("CreateSession(%q) with limit %d evicted %q", subject, ns.Limit, evicted)
	}
	return s
}

// createEvicting logs subject in with ns, at the clock's time, and returns
// the new session and the ids of the sessions the login evicted.
func (f *fixture) createEvicting(subject string, ns ginjwt.NewSession) (*session, []string) {
	f.t.Helper()
	res, err := f.s.CreateSession(f.t.Context(), subject, ns)
	if err != nil {
		f.t.Fatalf("CreateSession(%q): %v", subject, err)
	}
	if res.UserVersion == 0 {
		f.t.Fatalf("CreateSession(%q) returned user version 0", subject)
	}
	return &session{subject: subject, id: ns.ID, version: res.UserVersion, generation: 1}, res.Evicted
}

// state returns the stored state of s, failing the test on an error.
func (f *fixture) state(s *session) (ginjwt.SessionState, bool) {
	f.t.Helper()
	st, found, err := f.s.State(f.t.Context(), s.subject, s.id)
	if err != nil {
		f.t.Fatalf("State(%q, %s): %v", s.subject, s.id, err)
	}
	return st, found
}

// alive fails the test unless the store holds exactly what s's tokens carry.
func (f *fixture) alive(what string, s *session) {
	f.t.Helper()
	st, found := f.state(s)
	want := ginjwt.SessionState{UserVersion: s.version, Generation: s.generation}
	if !found || st != want {
		f.t.Fatalf("%s: State = %+v, found %v; want %+v, found", what, st, found, want)
	}
}

// gone fails the test unless the session is not found.
func (f *fixture) gone(what string, s *session) {
	f.t.Helper()
	if st, found := f.state(s); found {
		f.t.Fatalf("%s: State = %+v, found; want not found", what, st)
	}
}

// dead fails the test if s's tokens could still pass: the session must be
// gone, or its user version must differ from the one s's tokens carry.
func (f *fixture) dead(what string, s *session) {
	f.t.Helper()
	if st, found := f.state(s); found && st.UserVersion == s.version {
		f.t.Fatalf("%s: State = %+v, found with the version of the old tokens; want not found or another version", what, st)
	}
}

// passes reports whether tokens carrying s's version and generation pass.
func (f *fixture) passes(s *session) bool {
	st, found := f.state(s)
	return found && st.UserVersion == s.version && st.Generation == s.generation
}

// policy is the rotation policy of one call.
type policy struct {
	grace, reuseAfter, ttl, maxAge time.Duration
	retries                        int
}

var (
	defaultPolicy = policy{grace: grace, retries: retries, reuseAfter: reuseAfter, ttl: ttl, maxAge: maxAge}
	noRetries     = policy{grace: grace, reuseAfter: reuseAfter, ttl: ttl, maxAge: maxAge}
)

// rotation is a refresh with a session's tokens at a time of the suite's
// clock.
type rotation struct {
	ginjwt.Rotation
	at time.Time
}

// rotation is a refresh with s's tokens at time at.
func (p policy) rotation(s *session, at time.Time) rotation {
	return rotation{ginjwt.Rotation{
		UserVersion: s.version, Generation: s.generation,
		Grace: p.grace, Retries: p.retries, ReuseAfter: p.reuseAfter, TTL: p.ttl, MaxAge: p.maxAge,
	}, at}
}

// rotate sets the clock to r's time, calls Rotate and fails the test on an
// error.
func (f *fixture) rotate(s *session, r rotation) ginjwt.RotateResult {
	f.t.Helper()
	f.clock.Set(r.at)
	res, err := f.s.Rotate(f.t.Context(), s.subject, s.id, r.Rotation)
	if err != nil {
		f.t.Fatalf("Rotate(%q, %s, %+v): %v", s.subject, s.id, r, err)
	}
	return res
}

// expect fails the test unless res has the outcome and, unless generation
// is 0, the generation.
func (f *fixture) expect(what string, res ginjwt.RotateResult, outcome ginjwt.RotateOutcome, generation int64) {
	f.t.Helper()
	if res.Outcome != outcome {
		f.t.Fatalf("%s: outcome %s (generation %d), want %s", what, name(res.Outcome), res.Generation, name(outcome))
	}
	if generation != 0 && res.Generation != generation {
		f.t.Fatalf("%s: %s with generation %d, want %d", what, name(outcome), res.Generation, generation)
	}
}

// expectEnded fails the test unless res says the session ended by its age:
// Expired, or Revoked from a store whose idle expiry, which never outlasts
// MaxAge, follows the same clock and has dropped the session already.
func (f *fixture) expectEnded(what string, res ginjwt.RotateResult) {
	f.t.Helper()
	if res.Outcome != ginjwt.Expired && res.Outcome != ginjwt.Revoked {
		f.t.Fatalf("%s: outcome %s, want expired (or revoked, the session already dropped)", what, name(res.Outcome))
	}
}

// refresh rotates s's current generation at time at with the default policy,
// expects Rotated, and updates s to the new generation.
func (f *fixture) refresh(s *session, at time.Time) {
	f.t.Helper()
	res := f.rotate(s, defaultPolicy.rotation(s, at))
	f.expect("refresh", res, ginjwt.Rotated, s.generation+1)
	s.generation = res.Generation
}

// stale returns a copy of s carrying another generation.
func stale(s *session, generation int64) *session {
	c := *s
	c.generation = generation
	return &c
}

// withVersion returns a copy of s carrying another user version.
func withVersion(s *session, version int64) *session {
	c := *s
	c.version = version
	return &c
}

func name(o ginjwt.RotateOutcome) string { return o.String() }

func testCreateFirstSession(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	if s.version == 1 {
		t.Fatalf("user version 1 for a new subject: versions must be random")
	}
	f.alive("new session", s)
}

func testCreateSharesVersion(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	phone := f.create("alice", base)
	laptop := f.create("alice", base.Add(time.Minute))
	if phone.version != laptop.version {
		t.Fatalf("two sessions of one subject got versions %d and %d", phone.version, laptop.version)
	}
	f.refresh(phone, base.Add(2*time.Minute))
	tablet := f.create("alice", base.Add(3*time.Minute))
	if tablet.version != phone.version {
		t.Fatalf("a rotation changed the user version from %d to %d", phone.version, tablet.version)
	}
	f.alive("phone", phone)
	f.alive("laptop", laptop)
	f.alive("tablet", tablet)
}

func testCreateVersionsDiffer(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	seen := map[int64]string{}
	for i := range 16 {
		subject := fmt.Sprintf("user-%d", i)
		s := f.create(subject, base)
		if s.version == 0 || s.version == 1 {
			t.Fatalf("subject %q got predictable user version %d", subject, s.version)
		}
		if other, ok := seen[s.version]; ok {
			t.Fatalf("subjects %q and %q got the same user version %d", other, subject, s.version)
		}
		seen[s.version] = subject
	}
}

// testCreateVersionRandom creates the same subject in fresh stores, as after
// a loss of all state: the versions must differ, or tokens issued before the
// loss would match again.
func testCreateVersionRandom(t *testing.T, newStore NewStore) {
	var versions []int64
	for i := range 8 {
		f := newFixture(t, newStore)
		v := f.create("alice", base).version
		for j, w := range versions {
			if v == w {
				t.Fatalf("fresh stores %d and %d gave subject alice the same user version %d", j, i, v)
			}
			if v-w == 1 || w-v == 1 {
				t.Fatalf("fresh stores %d and %d gave subject alice consecutive user versions %d and %d", j, i, w, v)
			}
		}
		versions = append(versions, v)
	}
}

func testStateUnknown(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	known := f.create("alice", base)
	for _, tc := range []struct {
		what string
		s    *session
	}{
		{"unknown session of a known subject", &session{subject: "alice", id: sessionID()}},
		{"unknown subject", &session{subject: "nobody", id: sessionID()}},
		{"known session id under another subject", &session{subject: "bob", id: known.id}},
	} {
		st, found, err := f.s.State(t.Context(), tc.s.subject, tc.s.id)
		if err != nil || found {
			t.Errorf("%s: State = %+v, found %v, err %v; want not found and nil error", tc.what, st, found, err)
		}
	}
	f.alive("known session", known)
}

func testRotateCurrent(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	other := f.create("alice", base)
	for i := range 3 {
		res := f.rotate(s, defaultPolicy.rotation(s, base.Add(time.Duration(i+1)*time.Minute)))
		f.expect("rotation of the current generation", res, ginjwt.Rotated, s.generation+1)
		s.generation = res.Generation
		f.alive("after rotation", s)
	}
	f.alive("other session of the subject", other)
}

func testRotateConverged(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	old := stale(s, 1)
	at := base.Add(time.Minute)
	f.refresh(s, at)
	for _, d := range []time.Duration{0, time.Millisecond, time.Second, grace - time.Millisecond} {
		res := f.rotate(old, defaultPolicy.rotation(old, at.Add(d)))
		f.expect(fmt.Sprintf("previous generation %v after the rotation", d), res, ginjwt.Converged, 2)
		f.alive("after converging", s)
	}
	f.refresh(s, at.Add(2*time.Second))
	f.alive("current generation after the convergence", s)
}

func testRotateSuperseded(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	old := stale(s, 1)
	at := base.Add(time.Minute)
	f.refresh(s, at)
	for _, d := range []time.Duration{grace + time.Millisecond, grace + time.Second, reuseAfter - time.Millisecond} {
		res := f.rotate(old, noRetries.rotation(old, at.Add(d)))
		f.expect(fmt.Sprintf("previous generation %v after the rotation", d), res, ginjwt.Superseded, 0)
		f.alive("after a superseded refresh", s)
	}
	// With no grace at all, the previous generation is superseded at once.
	noGrace := policy{grace: 0, reuseAfter: reuseAfter, ttl: ttl, maxAge: maxAge}
	at2 := at.Add(time.Minute)
	f.refresh(s, at2)
	res := f.rotate(stale(s, 2), noGrace.rotation(stale(s, 2), at2))
	f.expect("previous generation without grace", res, ginjwt.Superseded, 0)
	f.alive("after a superseded refresh without grace", s)
	f.refresh(s, at2.Add(time.Second))
}

func testRotateReusedLate(t *testing.T, newStore NewStore) {
	for _, d := range []time.Duration{reuseAfter + time.Millisecond, reuseAfter + time.Second, ttl / 2} {
		t.Run(d.String(), func(t *testing.T) {
			f := newFixture(t, newStore)
			s := f.create("alice", base)
			other := f.create("alice", base)
			bob := f.create("bob", base)
			old := stale(s, 1)
			at := base.Add(time.Minute)
			f.refresh(s, at)
			res := f.rotate(old, noRetries.rotation(old, at.Add(d)))
			f.expect("previous generation after the reuse window", res, ginjwt.Reused, 0)
			f.gone("session after reuse", s)
			f.expect("current generation after reuse", f.rotate(s, noRetries.rotation(s, at.Add(d+time.Second))), ginjwt.Revoked, 0)
			f.alive("other session of the subject", other)
			f.alive("other subject", bob)
		})
	}
	t.Run("grace equals reuse window", func(t *testing.T) {
		f := newFixture(t, newStore)
		s := f.create("alice", base)
		old := stale(s, 1)
		f.refresh(s, base)
		p := policy{grace: grace, reuseAfter: grace, ttl: ttl, maxAge: maxAge}
		f.expect("previous generation just after grace", f.rotate(old, p.rotation(old, base.Add(grace+time.Millisecond))), ginjwt.Reused, 0)
		f.gone("session after reuse", s)
	})
}

func testRotateReusedOlder(t *testing.T, newStore NewStore) {
	for _, gen := range []int64{1, 2, 0, -1} {
		t.Run(fmt.Sprintf("generation %d", gen), func(t *testing.T) {
			f := newFixture(t, newStore)
			s := f.create("alice", base)
			other := f.create("alice", base)
			f.refresh(s, base.Add(time.Second))
			f.refresh(s, base.Add(2*time.Second))
			f.refresh(s, base.Add(3*time.Second)) // generation 4
			// Within grace of the last rotation: only the previous
			// generation may converge, an older one is reuse.
			old := stale(s, gen)
			res := f.rotate(old, defaultPolicy.rotation(old, base.Add(3*time.Second+time.Millisecond)))
			f.expect("old generation within grace", res, ginjwt.Reused, 0)
			f.gone("session after reuse", s)
			f.alive("other session of the subject", other)
		})
	}
	t.Run("generation 0 before any rotation", func(t *testing.T) {
		f := newFixture(t, newStore)
		s := f.create("alice", base)
		old := stale(s, 0)
		res := f.rotate(old, defaultPolicy.rotation(old, base))
		f.expect("generation 0 right after login", res, ginjwt.Reused, 0)
		f.gone("session after reuse", s)
	})
}

func testRotateHealed(t *testing.T, newStore NewStore) {
	for _, ahead := range []int64{1, 3} {
		t.Run(fmt.Sprintf("%d ahead", ahead), func(t *testing.T) {
			f := newFixture(t, newStore)
			s := f.create("alice", base)
			other := f.create("alice", base)
			f.refresh(s, base.Add(time.Second)) // generation 2
			// The client holds a later generation the store lost.
			client := stale(s, s.generation+ahead)
			res := f.rotate(client, defaultPolicy.rotation(client, base.Add(time.Minute)))
			f.expect("generation ahead of the session", res, ginjwt.Healed, client.generation+1)
			client.generation = res.Generation
			f.alive("healed session", client)
			if f.passes(s) {
				t.Fatal("the tokens of the generation the store had still pass")
			}
			// The healed session rotates on, and the token that healed it
			// converges like any replaced token.
			healer := stale(client, client.generation-1)
			f.expect("the healing token again, within grace", f.rotate(healer, defaultPolicy.rotation(healer, base.Add(time.Minute+time.Second))),
				ginjwt.Converged, client.generation)
			f.refresh(client, base.Add(2*time.Minute))
			f.expect("the generation before the loss, later", f.rotate(s, defaultPolicy.rotation(s, base.Add(3*time.Minute))), ginjwt.Reused, 0)
			f.alive("other session of the subject", other)
		})
	}
}

func testRotateRetried(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	other := f.create("alice", base)
	at := base.Add(time.Minute)
	// Each lost response: the client rotated, never heard back, and retries
	// with the replaced token long after grace.
	for i := range retries {
		old := stale(s, s.generation)
		f.refresh(s, at)
		at = at.Add(10 * time.Minute)
		res := f.rotate(old, defaultPolicy.rotation(old, at))
		f.expect(fmt.Sprintf("retry %d after grace", i+1), res, ginjwt.Retried, s.generation)
		f.alive("session after a retry", s)
		at = at.Add(time.Minute)
	}
	old := stale(s, s.generation)
	f.refresh(s, at)
	res := f.rotate(old, defaultPolicy.rotation(old, at.Add(10*time.Minute)))
	f.expect("a retry past the bound", res, ginjwt.Reused, 0)
	f.gone("session after the retries ran out", s)
	f.alive("other session of the subject", other)

	t.Run("within grace costs no retry", func(t *testing.T) {
		f := newFixture(t, newStore)
		s := f.create("alice", base)
		p := policy{grace: grace, retries: 1, reuseAfter: grace, ttl: ttl, maxAge: maxAge}
		for i := range 5 {
			old := stale(s, s.generation)
			at := base.Add(time.Duration(i+1) * time.Minute)
			f.clock.Set(at)
			res := f.rotate(s, p.rotation(s, at))
			f.expect("refresh", res, ginjwt.Rotated, s.generation+1)
			s.generation = res.Generation
			f.expect("concurrent duplicate within grace", f.rotate(old, p.rotation(old, at.Add(time.Second))), ginjwt.Converged, s.generation)
		}
		old := stale(s, s.generation-1)
		f.expect("the one retry", f.rotate(old, p.rotation(old, base.Add(time.Hour))), ginjwt.Retried, s.generation)
		f.expect("a second retry", f.rotate(old, p.rotation(old, base.Add(time.Hour+time.Minute))), ginjwt.Reused, 0)
	})
}

func testRotateThief(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	honest := f.create("alice", base)
	thief := stale(honest, honest.generation) // a copy of the refresh token
	at := base.Add(time.Minute)
	f.refresh(honest, at)
	for turn := 1; turn <= 2*retries+2; turn++ {
		at = at.Add(10 * time.Minute)
		res := f.rotate(thief, defaultPolicy.rotation(thief, at))
		switch res.Outcome {
		case ginjwt.Retried:
			thief.generation = res.Generation
		case ginjwt.Reused:
			f.gone("session once the thief is caught", honest)
			if turn > retries+1 {
				t.Fatalf("the thief got %d turns, the bound is %d", turn-1, retries)
			}
			return
		default:
			t.Fatalf("thief's turn %d: %s", turn, name(res.Outcome))
		}
		at = at.Add(10 * time.Minute)
		res = f.rotate(honest, defaultPolicy.rotation(honest, at))
		switch res.Outcome {
		case ginjwt.Rotated:
			honest.generation = res.Generation
		case ginjwt.Reused, ginjwt.Revoked:
			return // caught on the honest side: the session is over either way
		default:
			t.Fatalf("honest turn %d: %s", turn, name(res.Outcome))
		}
	}
	t.Fatal("a thief and the client took turns without end")
}

func testRotateWrongVersion(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	bob := f.create("bob", base)
	for _, v := range []int64{s.version + 1, s.version - 1, 0, 1, bob.version} {
		if v == s.version {
			continue
		}
		wrong := withVersion(s, v)
		res := f.rotate(wrong, defaultPolicy.rotation(wrong, base.Add(time.Second)))
		f.expect(fmt.Sprintf("user version %d for %d", v, s.version), res, ginjwt.Revoked, 0)
		if st, found := f.state(s); found && st.Generation != 1 {
			t.Fatalf("a refused rotation changed the generation: %+v", st)
		}
	}
	f.alive("bob", bob)
}

func testRotateMissing(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	deleted := f.create("alice", base)
	if err := f.s.DeleteSession(t.Context(), "alice", deleted.id); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		s    *session
	}{
		{"unknown session of a known subject", &session{subject: "alice", id: sessionID(), version: s.version, generation: 1}},
		{"unknown subject", &session{subject: "nobody", id: sessionID(), version: s.version, generation: 1}},
		{"session id of another subject", &session{subject: "bob", id: s.id, version: s.version, generation: 1}},
		{"deleted session", deleted},
	} {
		res := f.rotate(tc.s, defaultPolicy.rotation(tc.s, base.Add(time.Second)))
		f.expect(tc.what, res, ginjwt.Revoked, 0)
	}
	f.alive("existing session", s)
	f.gone("unknown session after the attempt", &session{subject: "nobody", id: sessionID()})
}

func testRotateExpired(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	p := policy{grace: grace, reuseAfter: reuseAfter, ttl: time.Hour, maxAge: 2 * time.Hour}
	login := func() *session {
		f.clock.Set(base)
		return f.createWith("alice", ginjwt.NewSession{ID: sessionID(), TTL: p.ttl, MaxAge: p.maxAge})
	}
	s, other := login(), login()
	for _, m := range []time.Duration{50, 100, 119} { // minutes after login
		res := f.rotate(s, p.rotation(s, base.Add(m*time.Minute)))
		f.expect(fmt.Sprintf("rotation %d minutes after login", m), res, ginjwt.Rotated, s.generation+1)
		s.generation = res.Generation
	}
	res := f.rotate(s, p.rotation(s, base.Add(p.maxAge+time.Millisecond)))
	f.expectEnded("rotation past max age", res)
	f.gone("session past max age", s)
	f.expect("rotation after expiry", f.rotate(s, p.rotation(s, base.Add(p.maxAge+time.Second))), ginjwt.Revoked, 0)

	// Max age counts from the login, not from the last rotation.
	res = f.rotate(other, p.rotation(other, base.Add(p.maxAge+time.Minute)))
	f.expectEnded("first rotation past max age", res)
	f.gone("other session past max age", other)
}

func testRotateOrder(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	late := base.Add(maxAge + time.Minute)

	// A user version that differs is Revoked even past max age, and the
	// refusal does not advance anything.
	s := f.create("alice", base)
	wrong := withVersion(s, s.version+1)
	f.expect("wrong version past max age", f.rotate(wrong, defaultPolicy.rotation(wrong, late)), ginjwt.Revoked, 0)
	if st, found := f.state(s); found && st != (ginjwt.SessionState{UserVersion: s.version, Generation: 1}) {
		t.Fatalf("a revoked rotation changed the state to %+v", st)
	}

	// Past max age, an old generation is Expired, not Reused.
	s = f.create("alice", base)
	f.refresh(s, base.Add(time.Minute))
	old := stale(s, 1)
	f.expectEnded("previous generation past max age", f.rotate(old, defaultPolicy.rotation(old, late)))
	f.gone("session past max age", s)

	// Past max age, even within grace of a rotation, it is Expired.
	s = f.create("alice", base)
	for at := base.Add(50 * time.Minute); at.Before(base.Add(maxAge - time.Second)); at = at.Add(50 * time.Minute) {
		f.refresh(s, at) // within the idle lifetime
	}
	f.refresh(s, base.Add(maxAge-time.Second))
	old = stale(s, s.generation-1)
	f.expectEnded("previous generation within grace past max age", f.rotate(old, defaultPolicy.rotation(old, base.Add(maxAge+time.Second))))
	f.gone("session past max age", s)
}

func testDeleteSession(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	ctx := t.Context()
	phone, laptop := f.create("alice", base), f.create("alice", base)
	bob := f.create("bob", base)
	f.clock.Set(base)
	carol := f.createWith("carol", ginjwt.NewSession{ID: phone.id, TTL: ttl, MaxAge: maxAge})
	f.refresh(laptop, base.Add(time.Second))

	if err := f.s.DeleteSession(ctx, "alice", phone.id); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	f.gone("deleted session", phone)
	f.expect("refresh of a deleted session", f.rotate(phone, defaultPolicy.rotation(phone, base.Add(2*time.Second))), ginjwt.Revoked, 0)
	f.alive("other session of the subject", laptop)
	f.alive("other subject", bob)
	f.alive("same session id under another subject", carol)

	for _, tc := range []struct{ what, subject, id string }{
		{"deleting twice", "alice", phone.id},
		{"unknown session", "alice", sessionID()},
		{"unknown subject", "nobody", sessionID()},
	} {
		if err := f.s.DeleteSession(ctx, tc.subject, tc.id); err != nil {
			t.Errorf("%s: DeleteSession = %v, want nil", tc.what, err)
		}
	}
	f.alive("other session of the subject at the end", laptop)
	f.alive("other subject at the end", bob)

	// The subject keeps its version: a new login matches the live session.
	tablet := f.create("alice", base.Add(time.Minute))
	if tablet.version != laptop.version {
		t.Fatalf("after DeleteSession a new session got version %d, the live one has %d", tablet.version, laptop.version)
	}
}

func testRevokeUser(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	ctx := t.Context()
	phone, laptop := f.create("alice", base), f.create("alice", base)
	f.refresh(phone, base.Add(time.Second))
	bob := f.create("bob", base)
	old := phone.version

	if err := f.s.RevokeUser(ctx, "alice"); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	for _, s := range []*session{phone, laptop} {
		f.dead("session after RevokeUser", s)
		f.expect("refresh after RevokeUser", f.rotate(s, defaultPolicy.rotation(s, base.Add(2*time.Second))), ginjwt.Revoked, 0)
	}
	f.alive("other subject", bob)
	f.refresh(bob, base.Add(3*time.Second))

	again := f.create("alice", base.Add(time.Minute))
	if again.version == old {
		t.Fatalf("a login after RevokeUser got the old user version %d", old)
	}
	f.alive("login after RevokeUser", again)
	for _, s := range []*session{phone, laptop} {
		f.dead("old session after a new login", s)
		f.expect("old refresh token after a new login", f.rotate(s, defaultPolicy.rotation(s, base.Add(time.Minute+time.Second))), ginjwt.Revoked, 0)
	}
	f.refresh(again, base.Add(2*time.Minute))
	f.alive("new session after its refresh", again)

	// A second revocation ends the new session too and moves the version on.
	if err := f.s.RevokeUser(ctx, "alice"); err != nil {
		t.Fatalf("second RevokeUser: %v", err)
	}
	f.dead("new session after the second RevokeUser", again)
	third := f.create("alice", base.Add(3*time.Minute))
	if third.version == old || third.version == again.version {
		t.Fatalf("versions %d, %d, %d across two revocations: want all different", old, again.version, third.version)
	}
	f.alive("login after the second RevokeUser", third)
	f.alive("other subject at the end", bob)
}

func testRevokeUnknown(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	bob := f.create("bob", base)
	if err := f.s.RevokeUser(t.Context(), "nobody"); err != nil {
		t.Fatalf("RevokeUser of an unknown subject: %v", err)
	}
	if err := f.s.RevokeUser(t.Context(), "nobody"); err != nil {
		t.Fatalf("RevokeUser of an unknown subject, twice: %v", err)
	}
	s := f.create("nobody", base.Add(time.Second))
	f.alive("login after RevokeUser of an unknown subject", s)
	f.refresh(s, base.Add(2*time.Second))
	f.alive("other subject", bob)
}

// testAwkwardSubjects gives every awkward subject a session with the same
// session id and a different history, then checks each sees only its own.
func testAwkwardSubjects(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	id := sessionID()
	sessions := make([]*session, len(AwkwardSubjects))
	versions := map[int64]string{}
	for i, subject := range AwkwardSubjects {
		f.clock.Set(base)
		s := f.createWith(subject, ginjwt.NewSession{ID: id, Device: subject, TTL: ttl, MaxAge: maxAge})
		if other, ok := versions[s.version]; ok {
			t.Fatalf("subjects %q and %q share user version %d", other, subject, s.version)
		}
		versions[s.version] = subject
		sessions[i] = s
		for j := range i % 4 {
			f.refresh(s, base.Add(time.Duration(j+1)*time.Minute))
		}
	}
	for i, s := range sessions {
		f.alive(fmt.Sprintf("subject %q", AwkwardSubjects[i]), s)
	}
	// A second session per subject shares its subject's version only.
	for _, s := range sessions {
		if v := f.create(s.subject, base.Add(time.Hour/2)).version; v != s.version {
			t.Fatalf("second session of %q got version %d, first has %d", s.subject, v, s.version)
		}
	}

	// Reuse, delete and revoke one subject each; the others are untouched.
	reused, deleted, revoked := sessions[1], sessions[2], sessions[3] // "}" has rotated once
	old := stale(reused, reused.generation-1)
	f.expect("reuse for "+reused.subject, f.rotate(old, noRetries.rotation(old, base.Add(time.Hour/2))), ginjwt.Reused, 0)
	if err := f.s.DeleteSession(t.Context(), deleted.subject, id); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeUser(t.Context(), revoked.subject); err != nil {
		t.Fatal(err)
	}
	f.gone("reused", reused)
	f.gone("deleted", deleted)
	f.dead("revoked", revoked)
	for i, s := range sessions {
		if s != reused && s != deleted && s != revoked {
			f.alive(fmt.Sprintf("subject %q after the others changed", AwkwardSubjects[i]), s)
			f.refresh(s, base.Add(50*time.Minute))
		}
	}
}

// race runs do concurrently from n goroutines released at once and returns
// their results in goroutine order.
func race[T any](n int, do func(i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = do(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

type rotateReply struct {
	res ginjwt.RotateResult
	err error
}

func testConcurrentLogins(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	type reply struct {
		id      string
		version int64
		err     error
	}
	f.clock.Set(base)
	replies := race(concurrency, func(int) reply {
		id := sessionID()
		res, err := f.s.CreateSession(context.Background(), "alice", ginjwt.NewSession{ID: id, TTL: ttl, MaxAge: maxAge})
		if err == nil && len(res.Evicted) != 0 {
			err = fmt.Errorf("%d logins, within the default limit, evicted %q", concurrency, res.Evicted)
		}
		return reply{id, res.UserVersion, err}
	})
	for _, r := range replies {
		if r.err != nil {
			t.Fatalf("concurrent CreateSession: %v", r.err)
		}
		if r.version != replies[0].version {
			t.Fatalf("concurrent first logins of one subject got versions %d and %d", replies[0].version, r.version)
		}
	}
	for _, r := range replies {
		f.alive("concurrent login", &session{subject: "alice", id: r.id, version: r.version, generation: 1})
	}
}

func testConcurrentGrace(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	r := defaultPolicy.rotation(s, base.Add(time.Minute))
	f.clock.Set(r.at)
	replies := race(concurrency, func(int) rotateReply {
		res, err := f.s.Rotate(context.Background(), s.subject, s.id, r.Rotation)
		return rotateReply{res, err}
	})
	counts := map[ginjwt.RotateOutcome]int{}
	for _, rep := range replies {
		if rep.err != nil {
			t.Fatalf("concurrent Rotate: %v", rep.err)
		}
		counts[rep.res.Outcome]++
		if o := rep.res.Outcome; o != ginjwt.Rotated && o != ginjwt.Converged {
			t.Fatalf("a concurrent refresh within grace got %s", name(o))
		}
		if rep.res.Generation != 2 {
			t.Fatalf("a concurrent refresh got generation %d, want 2 for all", rep.res.Generation)
		}
	}
	if counts[ginjwt.Rotated] != 1 {
		t.Fatalf("%d of %d concurrent refreshes rotated, want exactly 1", counts[ginjwt.Rotated], concurrency)
	}
	s.generation = 2
	f.alive("session after the concurrent refreshes", s)
	f.refresh(s, base.Add(2*time.Minute))
}

func testConcurrentNoGrace(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	p := policy{grace: 0, reuseAfter: 2 * time.Second, ttl: ttl, maxAge: maxAge}
	r := p.rotation(s, base.Add(time.Minute))
	f.clock.Set(r.at)
	replies := race(concurrency, func(int) rotateReply {
		res, err := f.s.Rotate(context.Background(), s.subject, s.id, r.Rotation)
		return rotateReply{res, err}
	})
	rotated := 0
	for _, rep := range replies {
		if rep.err != nil {
			t.Fatalf("concurrent Rotate: %v", rep.err)
		}
		switch rep.res.Outcome {
		case ginjwt.Rotated:
			rotated++
			if rep.res.Generation != 2 {
				t.Fatalf("the winning refresh got generation %d, want 2", rep.res.Generation)
			}
		case ginjwt.Superseded:
		default:
			t.Fatalf("a concurrent refresh without grace got %s, want Rotated or Superseded", name(rep.res.Outcome))
		}
	}
	if rotated != 1 {
		t.Fatalf("%d of %d concurrent refreshes rotated, want exactly 1", rotated, concurrency)
	}
	s.generation = 2
	f.alive("session after the concurrent refreshes", s)
	f.refresh(s, base.Add(2*time.Minute))
}

// testConcurrentSessions rotates many sessions of a few subjects at once:
// no session is disturbed by the traffic of another.
func testConcurrentSessions(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	sessions := make([]*session, 20)
	for i := range sessions {
		sessions[i] = f.create(fmt.Sprintf("user-%d", i%3), base)
	}
	f.clock.Set(base.Add(time.Minute))
	errs := race(len(sessions), func(i int) error {
		s := sessions[i]
		for j := range 5 {
			r := defaultPolicy.rotation(s, base.Add(time.Minute))
			res, err := f.s.Rotate(context.Background(), s.subject, s.id, r.Rotation)
			if err != nil {
				return err
			}
			if res.Outcome != ginjwt.Rotated || res.Generation != s.generation+1 {
				return fmt.Errorf("session %d, rotation %d: %s with generation %d, want Rotated with %d", i, j, name(res.Outcome), res.Generation, s.generation+1)
			}
			s.generation = res.Generation
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sessions {
		f.alive("session after concurrent rotations", s)
	}
}

func testRevokeOthers(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	keep, a, b := f.create("alice", base), f.create("alice", base), f.create("alice", base)
	bob := f.create("bob", base)
	if err := f.s.RevokeOtherSessions(t.Context(), "alice", keep.id); err != nil {
		t.Fatalf("RevokeOtherSessions: %v", err)
	}
	f.alive("kept session", keep)
	f.gone("other session", a)
	f.gone("third session", b)
	f.alive("another subject", bob)
	list, err := f.s.Sessions(t.Context(), "alice")
	if err != nil || len(list) != 1 || list[0].ID != keep.id {
		t.Fatalf("Sessions after RevokeOtherSessions = %+v, %v; want only the kept one", list, err)
	}
	if err := f.s.RevokeOtherSessions(t.Context(), "nobody", keep.id); err != nil {
		t.Fatalf("RevokeOtherSessions of an unknown subject = %v, want nil", err)
	}
}

func testSessions(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	ctx := t.Context()
	if list, err := f.s.Sessions(ctx, "alice"); err != nil || len(list) != 0 {
		t.Fatalf("Sessions of an unknown subject = %+v, %v; want empty, nil", list, err)
	}
	phoneClient := ginjwt.ClientInfo{IP: "192.0.2.7", UserAgent: "phone-app/1.0"}
	f.clock.Set(base)
	phone := f.createWith("alice", ginjwt.NewSession{ID: sessionID(), Device: "phone", TTL: ttl, MaxAge: maxAge, Client: phoneClient})
	f.clock.Set(base.Add(time.Minute))
	laptop := f.createWith("alice", ginjwt.NewSession{ID: sessionID(), Device: "laptop", TTL: ttl, MaxAge: maxAge,
		Client: ginjwt.ClientInfo{IP: "2001:db8::1", UserAgent: "browser"}})
	tablet := f.create("alice", base.Add(2*time.Minute))
	f.create("bob", base)

	r := defaultPolicy.rotation(phone, base.Add(3*time.Minute))
	r.Client = ginjwt.ClientInfo{IP: "198.51.100.9", UserAgent: "phone-app/1.1"}
	if res := f.rotate(phone, r); res.Outcome != ginjwt.Rotated {
		t.Fatalf("Rotate = %+v", res)
	}
	if err := f.s.DeleteSession(ctx, "alice", tablet.id); err != nil {
		t.Fatal(err)
	}

	list, err := f.s.Sessions(ctx, "alice")
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	want := []ginjwt.SessionInfo{
		{ID: phone.id, Device: "phone", Created: base, LastRefresh: base.Add(3 * time.Minute), IP: "198.51.100.9", UserAgent: "phone-app/1.1"},
		{ID: laptop.id, Device: "laptop", Created: base.Add(time.Minute), LastRefresh: base.Add(time.Minute), IP: "2001:db8::1", UserAgent: "browser"},
	}
	if len(list) != len(want) {
		t.Fatalf("Sessions = %+v, want %+v", list, want)
	}
	for i := range want {
		g, w := list[i], want[i]
		if g.ID != w.ID || g.Device != w.Device || !g.Created.Equal(w.Created) || !g.LastRefresh.Equal(w.LastRefresh) || g.IP != w.IP || g.UserAgent != w.UserAgent {
			t.Errorf("Sessions[%d] = %+v, want %+v", i, g, w)
		}
	}
	if err := f.s.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if list, err := f.s.Sessions(ctx, "alice"); err != nil || len(list) != 0 {
		t.Fatalf("Sessions after RevokeUser = %+v, %v; want empty", list, err)
	}
	if list, err := f.s.Sessions(ctx, "bob"); err != nil || len(list) != 1 {
		t.Fatalf("Sessions of another subject = %+v, %v; want its one session", list, err)
	}
}
