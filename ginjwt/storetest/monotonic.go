package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// RunMonotonic checks that revocation is monotonic, the property that lets
// a store cache refusals (redisstore's near-cache caches "not found"): once
// State refuses the tokens of a session at some user version and
// generation, no later sequence of the Store's own methods makes them pass
// again; and once State reports a session not found, it never finds it
// again. Logins always draw new random session ids, as ginjwt does: a
// session id logged in again is outside the property.
//
// It plays a seeded random mix of logins (with a session limit of 3, so
// that logins evict), refreshes of current and stale tokens (rotations,
// convergence, reuse), deletions, revocations of other sessions and of
// users, and moves of the clock past grace windows and maximum ages, and
// after every step checks every token issued so far. With a store that
// implements ginjwt.StateRefresher, FreshState is checked the same way.
// newStore is as for Run.
func RunMonotonic(t *testing.T, newStore NewStore) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { testMonotonic(t, newStore, seed) })
	}
}

// token is what one issued access token carries, and what the suite has
// seen of it.
type token struct {
	*session
	refused bool // State refused it once
}

func testMonotonic(t *testing.T, newStore NewStore, seed uint64) {
	f := newFixture(t, newStore)
	rng := rand.New(rand.NewPCG(seed, 0x6a77))
	subjects := []string{"alice", "bob", "{carol}"}
	now := base
	var tokens []*token
	gone := map[[2]string]bool{} // subject, session id: reported not found
	fresher, _ := f.s.(ginjwt.StateRefresher)
	issue := func(s *session) { tokens = append(tokens, &token{session: s}) }
	pick := func() *token { return tokens[rng.IntN(len(tokens))] }

	const steps = 80
	for step := range steps {
		op := rng.IntN(10)
		if len(tokens) == 0 {
			op = 0
		}
		var what string
		switch op {
		case 0, 1: // login
			s, _ := f.login(subjects[rng.IntN(len(subjects))], now, 3)
			issue(s)
			what = "login of " + s.subject
		case 2, 3, 4: // refresh with any token ever issued
			tok := pick()
			res := f.rotate(tok.session, defaultPolicy.rotation(tok.session, now))
			switch res.Outcome {
			case ginjwt.Rotated, ginjwt.Converged, ginjwt.Retried, ginjwt.Healed:
				issue(stale(tok.session, res.Generation))
			}
			what = fmt.Sprintf("refresh of %s generation %d: %s", tok.subject, tok.generation, res.Outcome)
		case 5:
			tok := pick()
			if err := f.s.DeleteSession(t.Context(), tok.subject, tok.id); err != nil {
				t.Fatal(err)
			}
			what = "delete of a session of " + tok.subject
		case 6:
			tok := pick()
			if err := f.s.RevokeOtherSessions(t.Context(), tok.subject, tok.id); err != nil {
				t.Fatal(err)
			}
			what = "revocation of the other sessions of " + tok.subject
		case 7:
			sub := subjects[rng.IntN(len(subjects))]
			if err := f.s.RevokeUser(t.Context(), sub); err != nil {
				t.Fatal(err)
			}
			what = "revocation of " + sub
		case 8: // past grace and the reuse window
			now = now.Add(time.Duration(1+rng.IntN(15)) * time.Second)
			what = "clock +seconds"
		case 9: // rarely, past the maximum age
			if rng.IntN(4) == 0 {
				now = now.Add(maxAge)
				what = "clock +max age"
			} else {
				now = now.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
				what = "clock +ms"
			}
		}
		f.clock.Set(now)
		for _, tok := range tokens {
			for _, read := range []struct {
				name  string
				state func() (ginjwt.SessionState, bool, error)
			}{
				{"State", func() (ginjwt.SessionState, bool, error) {
					return f.s.State(t.Context(), tok.subject, tok.id)
				}},
				{"FreshState", func() (ginjwt.SessionState, bool, error) {
					if fresher == nil {
						return f.s.State(t.Context(), tok.subject, tok.id)
					}
					return fresher.FreshState(t.Context(), tok.subject, tok.id)
				}},
			} {
				st, found, err := read.state()
				if err != nil {
					t.Fatalf("step %d (%s): %s: %v", step, what, read.name, err)
				}
				key := [2]string{tok.subject, tok.id}
				if found && gone[key] {
					t.Fatalf("step %d (%s): %s found session %s of %q again after reporting it not found", step, what, read.name, tok.id, tok.subject)
				}
				passes := found && st.UserVersion == tok.version && st.Generation == tok.generation
				if passes && tok.refused {
					t.Fatalf("step %d (%s): %s accepts again a token it refused: %q %s version %d generation %d", step, what, read.name, tok.subject, tok.id, tok.version, tok.generation)
				}
				if !found && read.name == "FreshState" {
					gone[key] = true // State may still serve a cached found entry until its message arrives
				}
				if !passes && read.name == "FreshState" {
					tok.refused = true
				}
			}
		}
	}
}
