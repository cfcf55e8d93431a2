package storetest

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// proofTTL and proofLimit are the replay check of these tests unless one
// says otherwise.
const (
	proofTTL   = time.Minute
	proofLimit = 100
)

// RunProofStore checks the ginjwt.ProofStore method of a store: a proof id
// is fresh once, then replayed until its TTL passes on the store's clock;
// ids of different sessions and subjects are independent; nothing is
// remembered for a session that is not found; a session holds at most
// Limit live ids; concurrent checks of one id find it fresh exactly once;
// and the state returned is State's. Run calls it for stores that
// implement ginjwt.ProofStore; newStore is as for Run, and its stores must
// implement it.
func RunProofStore(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *proofFixture)
	}{
		{"fresh, then replayed, with State's state", testProofReplayed},
		{"sessions and subjects are independent", testProofIndependent},
		{"nothing is remembered for a session not found", testProofUnknownSession},
		{"an id is forgotten TTL after it was remembered", testProofExpires},
		{"a session holds at most Limit live ids", testProofLimit},
		{"malformed checks are errors", testProofMalformed},
		{"Concurrency/one id is fresh exactly once", testConcurrentProofs},
		{"Concurrency/distinct ids never exceed Limit", testConcurrentProofLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, newStore)
			ps, ok := f.s.(ginjwt.ProofStore)
			if !ok {
				t.Fatalf("%T does not implement ginjwt.ProofStore", f.s)
			}
			tc.run(t, &proofFixture{fixture: f, ps: ps})
		})
	}
}

// proofFixture is a fixture whose store implements ginjwt.ProofStore.
type proofFixture struct {
	*fixture
	ps ginjwt.ProofStore
}

// proofID returns the id callers derive from a proof's key thumbprint and
// jti: base64url(SHA-256(jkt + "." + jti)).
func proofID(jti string) string {
	sum := sha256.Sum256([]byte("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I." + jti))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// check runs the replay check of jti for s at the clock's time with ttl and
// limit, and fails the test on an error.
func (f *proofFixture) check(s *session, jti string, ttl time.Duration, limit int) (ginjwt.SessionState, bool, ginjwt.ProofOutcome) {
	f.t.Helper()
	st, found, outcome, err := f.ps.StateAndProof(f.t.Context(), s.subject, s.id, ginjwt.ProofCheck{ID: proofID(jti), TTL: ttl, Limit: limit})
	if err != nil {
		f.t.Fatalf("StateAndProof(%q, %s, %s): %v", s.subject, s.id, jti, err)
	}
	return st, found, outcome
}

// expectProof fails the test unless the replay check of jti for s, with the
// suite's TTL and limit, finds the session with State's state and gives
// want.
func (f *proofFixture) expectProof(what string, s *session, jti string, want ginjwt.ProofOutcome) {
	f.t.Helper()
	f.expectProofWith(what, s, jti, proofTTL, proofLimit, want)
}

// expectProofWith is expectProof with a TTL and a limit.
func (f *proofFixture) expectProofWith(what string, s *session, jti string, ttl time.Duration, limit int, want ginjwt.ProofOutcome) {
	f.t.Helper()
	st, found, outcome := f.check(s, jti, ttl, limit)
	wantState := ginjwt.SessionState{UserVersion: s.version, Generation: s.generation}
	if !found || st != wantState {
		f.t.Fatalf("%s: StateAndProof = %+v, found %v; want %+v, found", what, st, found, wantState)
	}
	if outcome != want {
		f.t.Fatalf("%s: outcome %s, want %s", what, outcome, want)
	}
	if got, _ := f.state(s); got != st {
		f.t.Fatalf("%s: StateAndProof's state %+v differs from State's %+v", what, st, got)
	}
}

// notFound fails the test unless the replay check of jti for s reports the
// session not found, with no outcome.
func (f *proofFixture) notFound(what string, s *session, jti string) {
	f.t.Helper()
	st, found, outcome := f.check(s, jti, proofTTL, proofLimit)
	if found || st != (ginjwt.SessionState{}) || outcome != 0 {
		f.t.Fatalf("%s: StateAndProof = %+v, found %v, outcome %s; want the zero state, not found, no outcome", what, st, found, outcome)
	}
}

func testProofReplayed(t *testing.T, f *proofFixture) {
	s := f.create("alice", base)
	f.expectProof("first use", s, "jti-1", ginjwt.ProofFresh)
	f.expectProof("second use", s, "jti-1", ginjwt.ProofReplayed)
	f.clock.Set(base.Add(30 * time.Second))
	f.expectProof("third use, within the TTL", s, "jti-1", ginjwt.ProofReplayed)
	f.expectProof("another proof", s, "jti-2", ginjwt.ProofFresh)

	// The state follows rotations and revocations as State's does.
	f.refresh(s, base.Add(40*time.Second))
	f.clock.Set(base.Add(40 * time.Second))
	f.expectProof("after a rotation", s, "jti-3", ginjwt.ProofFresh)
	f.expectProof("after a rotation, replayed", s, "jti-1", ginjwt.ProofReplayed)
	other := f.create("alice", base.Add(40*time.Second))
	if err := f.s.RevokeUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	f.notFound("after RevokeUser", s, "jti-4")
	f.notFound("another session after RevokeUser", other, "jti-4")
}

func testProofIndependent(t *testing.T, f *proofFixture) {
	a1 := f.create("alice", base)
	a2 := f.create("alice", base)
	b := f.create("bob", base)
	for _, s := range []*session{a1, a2, b} {
		f.expectProof("one jti in three sessions", s, "shared", ginjwt.ProofFresh)
	}
	for _, s := range []*session{a1, a2, b} {
		f.expectProof("one jti in three sessions, again", s, "shared", ginjwt.ProofReplayed)
	}
	// A session at its limit leaves the others room.
	for i := range 3 {
		f.expectProofWith("filling alice's first session", a1, "fill-"+string(rune('a'+i)), proofTTL, 4, ginjwt.ProofFresh)
	}
	f.expectProofWith("alice's first session at its limit", a1, "more", proofTTL, 4, ginjwt.ProofLimited)
	f.expectProofWith("alice's second session", a2, "more", proofTTL, 4, ginjwt.ProofFresh)
	f.expectProofWith("bob's session", b, "more", proofTTL, 4, ginjwt.ProofFresh)

	// Subjects that break naive key schemes stay apart, and so does the
	// session id of one subject under another.
	var sessions []*session
	for _, subject := range AwkwardSubjects {
		s := f.create(subject, base)
		sessions = append(sessions, s)
		f.expectProof("awkward subject "+subject, s, "shared", ginjwt.ProofFresh)
	}
	for _, s := range sessions {
		f.expectProof("awkward subject "+s.subject+", again", s, "shared", ginjwt.ProofReplayed)
		foreign := &session{subject: "mallory", id: s.id}
		f.notFound("another subject's session id", foreign, "fresh")
	}
}

func testProofUnknownSession(t *testing.T, f *proofFixture) {
	f.clock.Set(base)
	never := &session{subject: "alice", id: sessionID()}
	f.notFound("a subject without state", never, "jti-1")
	s := f.create("alice", base)
	f.notFound("a session never created", never, "jti-1")
	f.notFound("a malformed session id", &session{subject: "alice", id: "not a session id!"}, "jti-1")
	f.notFound("an empty session id", &session{subject: "alice", id: ""}, "jti-1")

	// Logged in after the checks, the session has remembered none of them.
	late := f.createWith("alice", ginjwt.NewSession{ID: never.id, TTL: ttl, MaxAge: maxAge})
	f.expectProof("a session created after a check of its id", late, "jti-1", ginjwt.ProofFresh)

	// Removed sessions are not found, their ids or not.
	f.expectProof("before the logout", s, "jti-2", ginjwt.ProofFresh)
	if err := f.s.DeleteSession(t.Context(), s.subject, s.id); err != nil {
		t.Fatal(err)
	}
	f.notFound("after DeleteSession, a proof seen before", s, "jti-2")
	f.notFound("after DeleteSession, a new proof", s, "jti-3")
	if err := f.s.RevokeOtherSessions(t.Context(), "alice", "none"); err != nil {
		t.Fatal(err)
	}
	f.notFound("after RevokeOtherSessions", late, "jti-4")

	// A session past its idle lifetime on the store's clock is not found
	// either.
	short := f.createWith("bob", ginjwt.NewSession{ID: sessionID(), TTL: time.Minute, MaxAge: maxAge})
	f.expectProof("before the session expires", short, "jti-5", ginjwt.ProofFresh)
	f.clock.Set(base.Add(2 * time.Minute))
	if _, found := f.state(short); !found {
		f.notFound("after the session expired", short, "jti-6")
	}
}

func testProofExpires(t *testing.T, f *proofFixture) {
	s := f.create("alice", base)
	f.clock.Set(base)
	f.expectProof("first use", s, "jti-1", ginjwt.ProofFresh)
	f.clock.Set(base.Add(proofTTL - time.Millisecond))
	f.expectProof("a millisecond before the TTL", s, "jti-1", ginjwt.ProofReplayed)
	f.clock.Set(base.Add(proofTTL))
	f.expectProof("at the TTL", s, "jti-1", ginjwt.ProofFresh)
	f.clock.Set(base.Add(proofTTL + time.Second))
	f.expectProof("remembered again, from the TTL", s, "jti-1", ginjwt.ProofReplayed)

	// A replay does not push the expiry back, and each id has its own TTL.
	f.clock.Set(base.Add(10 * time.Minute))
	f.expectProofWith("a long TTL", s, "long", 5*time.Minute, proofLimit, ginjwt.ProofFresh)
	f.expectProofWith("a short TTL", s, "short", 10*time.Second, proofLimit, ginjwt.ProofFresh)
	f.clock.Set(base.Add(10*time.Minute + 9*time.Second))
	f.expectProofWith("the short one replayed", s, "short", 5*time.Minute, proofLimit, ginjwt.ProofReplayed)
	f.clock.Set(base.Add(10*time.Minute + 10*time.Second))
	f.expectProof("the short one, past its TTL", s, "short", ginjwt.ProofFresh)
	f.expectProof("the long one, within its TTL", s, "long", ginjwt.ProofReplayed)
	f.clock.Set(base.Add(15 * time.Minute))
	f.expectProof("the long one, past its TTL", s, "long", ginjwt.ProofFresh)
}

func testProofLimit(t *testing.T, f *proofFixture) {
	const limit = 3
	s := f.create("alice", base)
	for i, jti := range []string{"a", "b", "c"} {
		f.clock.Set(base.Add(time.Duration(i) * 10 * time.Second))
		f.expectProofWith("within the limit", s, jti, proofTTL, limit, ginjwt.ProofFresh)
	}
	f.expectProofWith("past the limit", s, "d", proofTTL, limit, ginjwt.ProofLimited)
	f.expectProofWith("past the limit, again", s, "d", proofTTL, limit, ginjwt.ProofLimited)
	f.expectProofWith("a remembered id at the limit", s, "a", proofTTL, limit, ginjwt.ProofReplayed)

	// When "a" expires there is room for one, and the refused id was never
	// remembered.
	f.clock.Set(base.Add(proofTTL))
	f.expectProofWith("once one expired", s, "d", proofTTL, limit, ginjwt.ProofFresh)
	f.expectProofWith("full again", s, "e", proofTTL, limit, ginjwt.ProofLimited)
	f.expectProofWith("the id remembered once room was made", s, "d", proofTTL, limit, ginjwt.ProofReplayed)

	// Once every id expired, the whole limit is free.
	f.clock.Set(base.Add(3 * proofTTL))
	for _, jti := range []string{"a", "b", "c"} {
		f.expectProofWith("all expired", s, jti, proofTTL, limit, ginjwt.ProofFresh)
	}
	f.expectProofWith("past the limit after expiry", s, "e", proofTTL, limit, ginjwt.ProofLimited)

	// A limit of 1 holds one id.
	one := f.create("bob", base.Add(3*proofTTL))
	f.expectProofWith("a limit of one", one, "a", proofTTL, 1, ginjwt.ProofFresh)
	f.expectProofWith("a limit of one, replayed", one, "a", proofTTL, 1, ginjwt.ProofReplayed)
	f.expectProofWith("a limit of one, full", one, "b", proofTTL, 1, ginjwt.ProofLimited)
}

func testProofMalformed(t *testing.T, f *proofFixture) {
	s := f.create("alice", base)
	for _, p := range []ginjwt.ProofCheck{
		{ID: "", TTL: proofTTL, Limit: proofLimit},
		{ID: strings.Repeat("x", ginjwt.MaxProofIDLen+1), TTL: proofTTL, Limit: proofLimit},
		{ID: "id", TTL: 0, Limit: proofLimit},
		{ID: "id", TTL: time.Millisecond - 1, Limit: proofLimit},
		{ID: "id", TTL: -time.Minute, Limit: proofLimit},
		{ID: "id", TTL: proofTTL, Limit: 0},
		{ID: "id", TTL: proofTTL, Limit: -1},
	} {
		if _, _, _, err := f.ps.StateAndProof(t.Context(), s.subject, s.id, p); err == nil {
			t.Fatalf("StateAndProof with %+v: nil error, want one", p)
		}
	}
	// Ids of any bytes up to the maximum are accepted and kept apart.
	for _, id := range []string{"x", strings.Repeat("x", ginjwt.MaxProofIDLen), "\x00\xff", "{}:*"} {
		for _, want := range []ginjwt.ProofOutcome{ginjwt.ProofFresh, ginjwt.ProofReplayed} {
			_, found, outcome, err := f.ps.StateAndProof(t.Context(), s.subject, s.id, ginjwt.ProofCheck{ID: id, TTL: proofTTL, Limit: proofLimit})
			if err != nil || !found || outcome != want {
				t.Fatalf("StateAndProof with id %q = found %v, %s, %v; want found, %s", id, found, outcome, err, want)
			}
		}
	}
}

type proofReply struct {
	st      ginjwt.SessionState
	found   bool
	outcome ginjwt.ProofOutcome
	err     error
}

// raceProofs runs concurrency checks of s at once, the i-th with jti(i),
// and counts the outcomes; every check must find the session with its
// state.
func (f *proofFixture) raceProofs(s *session, limit int, jti func(i int) string) map[ginjwt.ProofOutcome]int {
	f.t.Helper()
	replies := race(concurrency, func(i int) proofReply {
		p := ginjwt.ProofCheck{ID: proofID(jti(i)), TTL: proofTTL, Limit: limit}
		st, found, outcome, err := f.ps.StateAndProof(f.t.Context(), s.subject, s.id, p)
		return proofReply{st, found, outcome, err}
	})
	counts := map[ginjwt.ProofOutcome]int{}
	want := ginjwt.SessionState{UserVersion: s.version, Generation: s.generation}
	for i, r := range replies {
		if r.err != nil {
			f.t.Fatalf("check %d: %v", i, r.err)
		}
		if !r.found || r.st != want {
			f.t.Fatalf("check %d: StateAndProof = %+v, found %v; want %+v, found", i, r.st, r.found, want)
		}
		counts[r.outcome]++
	}
	return counts
}

func testConcurrentProofs(t *testing.T, f *proofFixture) {
	s := f.create("alice", base)
	counts := f.raceProofs(s, proofLimit, func(int) string { return "same" })
	if counts[ginjwt.ProofFresh] != 1 || counts[ginjwt.ProofReplayed] != concurrency-1 {
		t.Fatalf("%d concurrent checks of one id: %v; want exactly one fresh, the others replayed", concurrency, counts)
	}
	f.expectProof("after the race", s, "same", ginjwt.ProofReplayed)
}

func testConcurrentProofLimit(t *testing.T, f *proofFixture) {
	const limit = 10
	s := f.create("alice", base)
	counts := f.raceProofs(s, limit, func(i int) string { return "jti-" + string(rune('A'+i)) })
	if counts[ginjwt.ProofFresh] != limit || counts[ginjwt.ProofLimited] != concurrency-limit {
		t.Fatalf("%d concurrent checks of distinct ids with limit %d: %v; want %d fresh, the others limited", concurrency, limit, counts, limit)
	}
	f.expectProofWith("after the race", s, "one more", proofTTL, limit, ginjwt.ProofLimited)
}
