package redisstore

import (
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// The boxed constants of a rotation are always those of the rotation at
// hand, when two sets of options take turns on one store, and the same
// boxes are handed out again while the options stay.
func TestRotateArgsFollowTheOptions(t *testing.T) {
	s := &Store{invalidations: "jwtguard:invalidate"}
	a := ginjwt.Rotation{Grace: 5 * time.Second, ReuseAfter: time.Minute, TTL: time.Hour, MaxAge: 24 * time.Hour, Limit: ginjwt.Rate{Count: 10, Period: time.Minute, Burst: 3}}
	b := a
	b.Grace, b.Limit.Burst = 2*time.Second, 5
	want := func(r ginjwt.Rotation, interval float64) [7]any {
		return [7]any{r.Grace.Milliseconds(), r.ReuseAfter.Milliseconds(), r.TTL.Milliseconds(), r.MaxAge.Milliseconds(),
			"jwtguard:invalidate", interval, interval * float64(r.Limit.Burst)}
	}
	for i, r := range []ginjwt.Rotation{a, b, a, a, b} {
		got := s.rotateArgs(&r)
		if *got != want(r, 6000) {
			t.Fatalf("rotation %d: args %v, want %v", i, *got, want(r, 6000))
		}
	}
	if first, again := s.rotateArgs(&b), s.rotateArgs(&b); first != again {
		t.Fatal("the same options got new boxes")
	}
}
