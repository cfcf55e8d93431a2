package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// The tests of NewSession.Limit: a login past it ends the subject's least
// recently used sessions, by last login or rotation, and reports them.

// login logs subject in at time at with the suite's policy and limit, and
// returns the new session and the ids the login evicted.
func (f *fixture) login(subject string, at time.Time, limit int) (*session, []string) {
	f.t.Helper()
	f.clock.Set(at)
	return f.createEvicting(subject, ginjwt.NewSession{ID: sessionID(), Device: "test device", TTL: ttl, MaxAge: maxAge, Limit: limit})
}

// listIDs returns the ids Sessions lists for subject, in its order.
func (f *fixture) listIDs(subject string) []string {
	f.t.Helper()
	list, err := f.s.Sessions(f.t.Context(), subject)
	if err != nil {
		f.t.Fatalf("Sessions(%q): %v", subject, err)
	}
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

// ids returns the ids of sessions.
func ids(sessions ...*session) []string {
	out := make([]string, len(sessions))
	for i, s := range sessions {
		out[i] = s.id
	}
	return out
}

// expectEvicted fails the test unless the login evicted exactly want, in
// that order, and each of them is gone for good: not found, and its
// refresh token revoked.
func (f *fixture) expectEvicted(what string, evicted []string, at time.Time, want ...*session) {
	f.t.Helper()
	if !slices.Equal(evicted, ids(want...)) {
		f.t.Fatalf("%s: evicted %q, want %q", what, evicted, ids(want...))
	}
	for _, s := range want {
		f.gone(what+": evicted session", s)
		f.expect(what+": refresh of an evicted session", f.rotate(s, defaultPolicy.rotation(s, at)), ginjwt.Revoked, 0)
	}
}

// testLimitEvictsLeastRecentlyUsed logs one subject in again and again with
// a limit of 3: each login past it ends exactly the session used least
// recently, the others keep working, the list never grows past 3, and
// another subject is never touched.
func testLimitEvictsLeastRecentlyUsed(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	const limit = 3
	bob := f.create("bob", base)
	var lru []*session // alice's live sessions, least recently used first
	for i := range limit {
		s, evicted := f.login("alice", base.Add(time.Duration(i)*time.Minute), limit)
		f.expectEvicted(fmt.Sprintf("login %d of %d", i+1, limit), evicted, base)
		lru = append(lru, s)
	}
	at := base.Add(limit * time.Minute)
	s, evicted := f.login("alice", at, limit)
	f.expectEvicted("the login past the limit", evicted, at, lru[0])
	lru = append(lru[1:], s)
	for _, s := range lru {
		f.alive("a session within the limit", s)
	}
	if got, want := f.listIDs("alice"), ids(lru...); !slices.Equal(got, want) {
		t.Fatalf("Sessions after a login past the limit = %q, want %q", got, want)
	}
	if s.version != lru[0].version {
		t.Fatalf("a login past the limit changed the user version from %d to %d", lru[0].version, s.version)
	}
	f.refresh(s, at.Add(time.Second)) // the newest session works

	for i := range 2 * limit {
		at = at.Add(time.Minute)
		s, evicted := f.login("alice", at, limit)
		f.expectEvicted(fmt.Sprintf("login %d past the limit", i+2), evicted, at, lru[0])
		lru = append(lru[1:], s)
		if got := f.listIDs("alice"); len(got) != limit {
			t.Fatalf("Sessions after login %d past the limit: %d sessions %q, want %d", i+2, len(got), got, limit)
		}
	}
	for _, s := range lru {
		f.alive("a session within the limit at the end", s)
	}
	f.alive("another subject", bob)
	f.refresh(bob, at.Add(time.Second))
}

// testLimitRotationRefreshesRecency: a rotation (Rotated, Healed) makes a
// session the most recently used; a retry of the previous generation does
// not.
func testLimitRotationRefreshesRecency(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	const limit = 3
	s1, _ := f.login("alice", base, limit)
	s2, _ := f.login("alice", base.Add(time.Minute), limit)
	s3, _ := f.login("alice", base.Add(2*time.Minute), limit)

	f.refresh(s1, base.Add(3*time.Minute)) // s1 is now the most recently used
	s4, evicted := f.login("alice", base.Add(4*time.Minute), limit)
	f.expectEvicted("the login after s1 rotated", evicted, base.Add(4*time.Minute), s2)
	f.alive("s1, rotated after the others logged in", s1)
	f.alive("s3", s3)

	// Healed counts as a rotation: s3, healed, outlives s1 and s4.
	ahead := stale(s3, s3.generation+2)
	res := f.rotate(ahead, defaultPolicy.rotation(ahead, base.Add(5*time.Minute)))
	f.expect("heal s3", res, ginjwt.Healed, ahead.generation+1)
	s3.generation = res.Generation
	// A retry of s1's previous generation, after grace, is no use of the
	// session: s1, rotated at 3m, stays less recent than s4, logged in at 4m.
	prev := stale(s1, s1.generation-1)
	res = f.rotate(prev, defaultPolicy.rotation(prev, base.Add(6*time.Minute)))
	f.expect("retry of s1's previous generation", res, ginjwt.Retried, s1.generation)

	s5, evicted := f.login("alice", base.Add(7*time.Minute), limit)
	f.expectEvicted("the login after s3 healed and s1 retried", evicted, base.Add(7*time.Minute), s1)
	for _, s := range []*session{s3, s4, s5} {
		f.alive("a session used after s1", s)
	}
	if got, want := f.listIDs("alice"), ids(s3, s4, s5); !slices.Equal(got, want) {
		t.Fatalf("Sessions = %q, want %q (oldest first)", got, want)
	}
}

// testLimitRemovedMakeRoom: deleted, reused and revoked sessions no longer
// count, so no live session is evicted while there is room.
func testLimitRemovedMakeRoom(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	ctx := t.Context()
	const limit = 3
	s1, _ := f.login("alice", base, limit)
	s2, _ := f.login("alice", base.Add(time.Minute), limit)
	s3, _ := f.login("alice", base.Add(2*time.Minute), limit)

	if err := f.s.DeleteSession(ctx, "alice", s2.id); err != nil {
		t.Fatal(err)
	}
	s4, evicted := f.login("alice", base.Add(3*time.Minute), limit)
	f.expectEvicted("a login after a delete", evicted, base.Add(3*time.Minute))

	// s1 rotates, then its previous generation comes back, with no retries
	// and past the reuse window: reuse ends it.
	f.refresh(s1, base.Add(4*time.Minute))
	old := stale(s1, s1.generation-1)
	f.expect("reuse of s1", f.rotate(old, noRetries.rotation(old, base.Add(5*time.Minute))), ginjwt.Reused, 0)
	s5, evicted := f.login("alice", base.Add(6*time.Minute), limit)
	f.expectEvicted("a login after a reuse ended a session", evicted, base.Add(6*time.Minute))
	for _, s := range []*session{s3, s4, s5} {
		f.alive("a session within the limit", s)
	}

	if err := f.s.RevokeOtherSessions(ctx, "alice", s5.id); err != nil {
		t.Fatal(err)
	}
	s6, evicted := f.login("alice", base.Add(7*time.Minute), limit)
	f.expectEvicted("a login after RevokeOtherSessions", evicted, base.Add(7*time.Minute))
	s7, evicted := f.login("alice", base.Add(8*time.Minute), limit)
	f.expectEvicted("the second login after RevokeOtherSessions", evicted, base.Add(8*time.Minute))
	s8, evicted := f.login("alice", base.Add(9*time.Minute), limit)
	f.expectEvicted("the third login after RevokeOtherSessions", evicted, base.Add(9*time.Minute), s5)
	if got, want := f.listIDs("alice"), ids(s6, s7, s8); !slices.Equal(got, want) {
		t.Fatalf("Sessions = %q, want %q", got, want)
	}

	if err := f.s.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	var fresh []*session
	for i := range limit {
		s, evicted := f.login("alice", base.Add(time.Duration(10+i)*time.Minute), limit)
		f.expectEvicted(fmt.Sprintf("login %d after RevokeUser", i+1), evicted, base.Add(time.Duration(10+i)*time.Minute))
		fresh = append(fresh, s)
	}
	for _, s := range fresh {
		f.alive("a session after RevokeUser", s)
	}
}

// testLimitLowered: a login with a lower limit than the subject's earlier
// logins had evicts as many sessions as it takes, least recently used
// first.
func testLimitLowered(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	var all []*session
	for i := range 6 {
		s, _ := f.login("alice", base.Add(time.Duration(i)*time.Minute), 10)
		all = append(all, s)
	}
	f.refresh(all[1], base.Add(6*time.Minute)) // all[1] becomes the most recently used
	at := base.Add(7 * time.Minute)
	s, evicted := f.login("alice", at, 2)
	f.expectEvicted("a login with the limit lowered from 10 to 2", evicted, at, all[0], all[2], all[3], all[4], all[5])
	f.alive("the most recently used session", all[1])
	f.alive("the new session", s)
	if got, want := f.listIDs("alice"), ids(all[1], s); !slices.Equal(got, want) {
		t.Fatalf("Sessions = %q, want %q", got, want)
	}

	s2, evicted := f.login("alice", at.Add(time.Minute), 1)
	f.expectEvicted("a login with limit 1", evicted, at.Add(time.Minute), all[1], s)
	f.alive("the only session left", s2)
}

// testLimitDefault: a Limit of zero or less means
// ginjwt.DefaultMaxSessions.
func testLimitDefault(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	var all []*session
	for i := range ginjwt.DefaultMaxSessions {
		s, evicted := f.login("alice", base.Add(time.Duration(i)*time.Second), 0)
		if len(evicted) != 0 {
			t.Fatalf("login %d of %d with Limit 0 evicted %q", i+1, ginjwt.DefaultMaxSessions, evicted)
		}
		all = append(all, s)
	}
	at := base.Add(time.Hour / 2)
	_, evicted := f.login("alice", at, 0)
	f.expectEvicted("a login past the default limit, Limit 0", evicted, at, all[0])
	_, evicted = f.login("alice", at.Add(time.Second), -1)
	f.expectEvicted("a login past the default limit, Limit -1", evicted, at.Add(time.Second), all[1])
	if n := len(f.listIDs("alice")); n != ginjwt.DefaultMaxSessions {
		t.Fatalf("Sessions lists %d sessions, want %d", n, ginjwt.DefaultMaxSessions)
	}
}

// testConcurrentLimit races logins of one subject past a limit: every
// session but the last ones is evicted exactly once, and reported by
// exactly one login.
func testConcurrentLimit(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	const limit = 10
	f.clock.Set(base)
	type reply struct {
		s       *session
		evicted []string
		err     error
	}
	replies := race(concurrency, func(int) reply {
		id := sessionID()
		res, err := f.s.CreateSession(context.Background(), "alice", ginjwt.NewSession{ID: id, TTL: ttl, MaxAge: maxAge, Limit: limit})
		return reply{&session{subject: "alice", id: id, version: res.UserVersion, generation: 1}, res.Evicted, err}
	})
	created := map[string]*session{}
	for _, r := range replies {
		if r.err != nil {
			t.Fatalf("concurrent CreateSession: %v", r.err)
		}
		created[r.s.id] = r.s
	}
	evicted := map[string]bool{}
	for _, r := range replies {
		for _, id := range r.evicted {
			if created[id] == nil {
				t.Fatalf("a login evicted %s, which no login created", id)
			}
			if evicted[id] {
				t.Fatalf("session %s was evicted by two logins", id)
			}
			evicted[id] = true
		}
	}
	if len(evicted) != concurrency-limit {
		t.Fatalf("%d concurrent logins with limit %d evicted %d sessions, want %d", concurrency, limit, len(evicted), concurrency-limit)
	}
	listed := f.listIDs("alice")
	if len(listed) != limit {
		t.Fatalf("Sessions lists %d sessions, want %d", len(listed), limit)
	}
	for _, id := range listed {
		if evicted[id] || created[id] == nil {
			t.Fatalf("Sessions lists %s, evicted %v, created %v", id, evicted[id], created[id] != nil)
		}
	}
	for id, s := range created {
		if evicted[id] {
			f.gone("an evicted session", s)
		} else {
			f.alive("a session no login evicted", s)
		}
	}
}
