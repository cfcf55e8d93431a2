package ginjwt

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// warmClockApp is an Auth on the real clock (so its guard has the warm
// path) whose wall clock a test can move apart from the monotonic one, as
// a step of the system clock or a suspend of the host (during which Linux's
// CLOCK_MONOTONIC, Go's monotonic clock, stops) does: the guard's full
// checks read the wall clock (Options.Now and the verifier's clock), the
// warm path only the monotonic one.
func warmClockApp(t *testing.T, exp time.Duration) (a *Auth, guard func() int, shiftWall func(time.Duration)) {
	t.Helper()
	calls := 0
	a, err := New(Options{Store: countingStore{st: SessionState{UserVersion: 42, Generation: 1}, calls: &calls},
		Limits: Limits{Off: true}, Keys: []Key{HS256(fuzzSecret)}, Leeway: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if !a.warm {
		t.Fatal("no warm path on the real clock")
	}
	now := time.Now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: a.opts.Issuer, Subject: "alice", Audience: jwt.ClaimStrings{a.opts.Audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(exp)), ID: "ZnV6ei1hY2Nlc3MtanRpMQ",
		},
		SessionID: "ZnV6ei1zZXNzaW9uLWlkMQ", UserVersion: 42, Generation: 1, AuthTime: now.Unix(),
	}
	token, err := a.issue(accessKind, &claims)
	if err != nil {
		t.Fatal(err)
	}
	guard = func() int {
		w := httptest.NewRecorder()
		ctx, _ := gin.CreateTestContext(w)
		ctx.Request = httptest.NewRequest(http.MethodGet, "/", nil)
		ctx.Request.Header.Set("Authorization", "Bearer "+token)
		a.Middleware()(ctx)
		return w.Code
	}
	shiftWall = func(d time.Duration) {
		wall := func() time.Time { return time.Now().Add(d) }
		a.opts.Now, a.access.now = wall, wall
	}
	return a, guard, shiftWall
}

// After the host was suspended (laptop sleep, VM pause, snapshot and
// restore), during which the monotonic clock stood still while the wall
// clock moved 8 h on, a cached token long past its exp is refused within
// tokenRecheck, as an uncached one is at once.
func TestWarmPathRechecksWallClock(t *testing.T) {
	_, guard, shiftWall := warmClockApp(t, time.Minute)
	if code := guard(); code != http.StatusOK {
		t.Fatalf("fresh token: %d", code)
	}
	shiftWall(8 * time.Hour)
	time.Sleep(tokenRecheck + 100*time.Millisecond)
	if code := guard(); code != http.StatusUnauthorized {
		t.Fatalf("a token 8 h past its exp on the wall clock, %v after the step: %d, want 401 token_expired", tokenRecheck, code)
	}
}

// A token whose monotonic deadline passed while its session lasts gets a
// new one when the wall clock finds it live, and the warm path answers it
// again.
func TestTokenCacheRearms(t *testing.T) {
	tc := newTokenCache(16, time.Second)
	then := time.Now().Add(-2 * tokenRecheck) // a reading with a monotonic part, in the past
	tc.put("tok", claimsWithID("tok", then.Add(time.Hour)), then, then.Add(2*time.Hour))
	if tc.live("tok") != nil {
		t.Fatal("live answered past the token's recheck deadline")
	}
	if _, ok := tc.get("tok", time.Now()); !ok {
		t.Fatal("get refused a live token")
	}
	if tc.live("tok") == nil {
		t.Fatal("live did not answer after get read the wall clock")
	}
}
