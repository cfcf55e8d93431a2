package storetest

import (
	"time"

	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// threePerHour is the refresh limit of these tests: 3 at once, then one
// every 20 minutes.
var threePerHour = ginjwt.Rate{Count: 3, Period: time.Hour, Burst: 3}

// limited is a rotation with the default policy and threePerHour.
func limited(s *session, at time.Time) rotation {
	r := defaultPolicy.rotation(s, at)
	r.Limit = threePerHour
	return r
}

func testLimitThrottlesRefreshes(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	at := base
	for i := range 3 {
		res := f.rotate(s, limited(s, at))
		f.expect("refresh within the burst", res, ginjwt.Rotated, s.generation+1)
		s.generation = res.Generation
		at = at.Add(time.Second)
		_ = i
	}
	res := f.rotate(s, limited(s, at))
	f.expect("refresh past the burst", res, ginjwt.Throttled, 0)
	// The third refresh, at base+2s, moved the next one to base+60min; the
	// burst lets it run 60 minutes ahead, so the fourth is due at base+20min.
	if want := base.Add(20 * time.Minute).Sub(at); res.RetryAfter != want {
		t.Fatalf("throttled refresh: retry after %v, want %v", res.RetryAfter, want)
	}
	f.alive("the session after a throttled refresh", s)
	if st, _ := f.state(s); st.Generation != s.generation {
		t.Fatalf("a throttled refresh changed the generation to %d, want %d", st.Generation, s.generation)
	}
	res = f.rotate(s, limited(s, base.Add(20*time.Minute)))
	f.expect("refresh once one is due", res, ginjwt.Rotated, s.generation+1)
	s.generation = res.Generation
	res = f.rotate(s, limited(s, base.Add(20*time.Minute)))
	f.expect("the next at once", res, ginjwt.Throttled, 0)

	// Without a limit nothing is throttled.
	other := f.create("bob", base)
	for range 10 {
		f.refresh(other, base)
	}
}

func testLimitCountsConvergence(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore)
	s := f.create("alice", base)
	old := stale(s, 1)
	at := base.Add(time.Minute)
	res := f.rotate(s, limited(s, at))
	f.expect("refresh", res, ginjwt.Rotated, 2)
	s.generation = 2
	for range 2 {
		f.expect("converging", f.rotate(old, limited(old, at)), ginjwt.Converged, 2)
	}
	f.expect("converging past the burst", f.rotate(old, limited(old, at)), ginjwt.Throttled, 0)
	f.expect("the current generation past the burst", f.rotate(s, limited(s, at)), ginjwt.Throttled, 0)
	f.expect("reuse is never throttled", f.rotate(stale(s, 0), limited(stale(s, 0), at)), ginjwt.Reused, 0)
	f.gone("after reuse", s)
}
