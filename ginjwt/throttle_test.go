package ginjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/clocktest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// miniBackend is an embedded Redis of the test's own.
func miniBackend(t *testing.T) redistest.Backend {
	m := miniredis.RunT(t)
	return redistest.Backend{Name: "miniredis", Addr: m.Addr(), Mini: m}
}

// loginFrom posts a login for user with password from client IP ip.
func (a *app) loginFrom(ip, user, password string) response {
	a.t.Helper()
	return a.do("POST", "/auth/login", "application/json", `{"username":"`+user+`","password":"`+password+`"}`, "X-Forwarded-For", ip)
}

// expectThrottled fails the test unless r is a 429 of policy with
// Retry-After and the RateLimit header.
func expectThrottled(t *testing.T, what string, r response, policy, retryAfter string) {
	t.Helper()
	expect(t, what, r, http.StatusTooManyRequests, "too_many_requests")
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After %q, want %q", what, got, retryAfter)
	}
	if got := r.header.Get("RateLimit"); !strings.HasPrefix(got, `"`+policy+`";r=0;t=`) {
		t.Errorf("%s: RateLimit %q, want policy %q with nothing remaining", what, got, policy)
	}
}

// A guessing loop against one account locks that account out, for known
// and unknown accounts alike, while other users keep logging in; the
// lockout ends on time and a success clears the count.
func TestLoginAccountBackoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) {
			o.Limits.Account = ginjwt.Backoff{Free: 3, Lockout: time.Minute, MaxLockout: 4 * time.Minute, Forget: time.Hour}
		})
		for _, user := range []string{"alice", "mallory"} { // mallory does not exist
			for range 3 {
				expect(t, user+" wrong password", a.loginFrom("198.51.100.1", user, "guess"), http.StatusUnauthorized, "invalid_credentials")
				expect(t, "bob meanwhile", a.loginFrom("198.51.100.1", "bob", "bob-pw"), http.StatusOK, "")
			}
			locked := a.loginFrom("198.51.100.2", user, "guess")
			expectThrottled(t, user+" past the free attempts", locked, "login-account", "60")
			if locked.header.Get("RateLimit-Policy") != "" {
				t.Errorf("the account backoff has no quota, yet RateLimit-Policy is %q", locked.header.Get("RateLimit-Policy"))
			}
		}
		expectThrottled(t, "alice's right password while locked out", a.loginFrom("198.51.100.3", "alice", "alice-pw"), "login-account", "60")
		a.clock.Advance(time.Minute)
		expect(t, "alice after the lockout", a.loginFrom("198.51.100.3", "alice", "alice-pw"), http.StatusOK, "")
		for range 3 {
			expect(t, "alice's count was cleared", a.loginFrom("198.51.100.3", "alice", "guess"), http.StatusUnauthorized, "invalid_credentials")
		}
		expectThrottled(t, "alice again past the free attempts", a.loginFrom("198.51.100.3", "alice", "guess"), "login-account", "60")

		var throttled []string
		for _, e := range a.events.take() {
			if e.Kind == ginjwt.EventThrottled {
				throttled = append(throttled, e.Reason)
				if e.Subject != "" || e.IP == "" {
					t.Errorf("throttled event %+v: want the IP and no subject", e)
				}
			}
		}
		if len(throttled) != 4 || throttled[0] != "login-account" {
			t.Errorf("throttled events %v, want 4 of login-account", throttled)
		}
	})
}

// Known and unknown accounts answer alike, byte for byte but the date, at
// every step of a guessing loop.
func TestLoginThrottleKnownUnknownAlike(t *testing.T) {
	a := newApp(t, miniBackend(t), nil)
	for i := range ginjwt.DefaultAccountBackoff.Free + 2 {
		known := a.loginFrom("203.0.113.9", "alice", "guess")
		unknown := a.loginFrom("203.0.113.9", "nobody", "guess")
		if known.status != unknown.status || string(known.body) != string(unknown.body) ||
			known.header.Get("Retry-After") != unknown.header.Get("Retry-After") ||
			known.header.Get("RateLimit") != unknown.header.Get("RateLimit") {
			t.Fatalf("attempt %d: known %d %s, unknown %d %s", i+1, known.status, known.body, unknown.status, unknown.body)
		}
	}
}

// One client IP trying many accounts is stopped; other IPs are not, and
// successful logins give their attempt back, so a shared NAT keeps logging
// in. IPv6 clients are counted per /64.
func TestLoginPerIP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.Limits.LoginPerIP = ginjwt.Rate{Count: 5, Period: time.Hour} })
		for i := range 5 {
			user := "sprayed" + string(rune('a'+i))
			expect(t, "spraying "+user, a.loginFrom("192.0.2.1", user, "Winter2026!"), http.StatusUnauthorized, "invalid_credentials")
		}
		r := a.loginFrom("192.0.2.1", "alice", "alice-pw")
		expectThrottled(t, "the sprayer's IP", r, "login-ip", "720")
		if got := r.header.Get("RateLimit-Policy"); got != `"login-ip";q=5;w=3600` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		expect(t, "alice from another IP", a.loginFrom("192.0.2.2", "alice", "alice-pw"), http.StatusOK, "")
		for i := range 20 {
			if r := a.loginFrom("192.0.2.3", "bob", "bob-pw"); r.status != http.StatusOK {
				t.Fatalf("successful login %d from a NAT: %d %s", i+1, r.status, r.body)
			}
		}
		for i := range 5 {
			ip := "2001:db8:1:2::" + string(rune('a'+i))
			expect(t, "wrong password from "+ip, a.loginFrom(ip, "bob", "x"), http.StatusUnauthorized, "invalid_credentials")
			a.clock.Advance(ginjwt.DefaultAccountBackoff.MaxLockout) // past bob's lockouts; only the IP limit counts here
		}
		expectThrottled(t, "another address of the same /64", a.loginFrom("2001:db8:1:2:ffff::1", "alice", "alice-pw"), "login-ip", "720")
		expect(t, "another /64", a.loginFrom("2001:db8:1:3::1", "alice", "alice-pw"), http.StatusOK, "")
	})
}

// Refreshes are bounded per session; other sessions are not affected.
func TestRefreshPerSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.Limits.RefreshPerSession = ginjwt.Rate{Count: 3, Period: time.Minute} })
		tok := a.login("alice")
		other := a.login("alice")
		for range 3 {
			tok = a.refresh(tok.RefreshToken).tokens(t)
		}
		expectThrottled(t, "the fourth refresh within a minute", a.refresh(tok.RefreshToken), "refresh", "20")
		expect(t, "the session still works", a.me(tok.AccessToken), http.StatusOK, "")
		a.refresh(other.RefreshToken).tokens(t)
		var found bool
		for _, e := range a.events.take() {
			found = found || e.Kind == ginjwt.EventThrottled && e.Reason == "refresh" && e.Subject == "alice" && e.SessionID != ""
		}
		if !found {
			t.Error("no throttled event with reason refresh for alice's session")
		}
	})
}

// Limits.Off turns the built-in limits off; Auth.RateLimit guards an app's
// own route with headers on every answer.
func TestRateLimitMiddleware(t *testing.T) {
	a := newApp(t, miniBackend(t), func(o *ginjwt.Options) { o.Limits.Off = true })
	for range 30 {
		expect(t, "wrong password with limits off", a.loginFrom("192.0.2.9", "alice", "x"), http.StatusUnauthorized, "invalid_credentials")
	}
	r := gin.New()
	r.POST("/reset", a.auth.RateLimit("reset", ginjwt.Rate{Count: 2, Period: time.Minute}, func(c *gin.Context) string { return c.Query("email") }),
		func(c *gin.Context) { c.Status(http.StatusAccepted) })
	ask := func(email string) *http.Response {
		req, _ := http.NewRequest("POST", "/reset?email="+email, nil)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Result()
	}
	for i, want := range []string{`"reset";r=1;t=30`, `"reset";r=0;t=60`} {
		res := ask("a@example.com")
		if res.StatusCode != http.StatusAccepted || res.Header.Get("RateLimit-Policy") != `"reset";q=2;w=60` || res.Header.Get("RateLimit") != want {
			t.Fatalf("request %d: %d, RateLimit-Policy %q, RateLimit %q (want %q)", i+1, res.StatusCode, res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"), want)
		}
	}
	if res := ask("a@example.com"); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "30" {
		t.Fatalf("third request: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res := ask("b@example.com"); res.StatusCode != http.StatusAccepted {
		t.Fatalf("another key: %d", res.StatusCode)
	}
}

// The default backoff holds a guesser to about 120 attempts a day per
// account, whether it guesses whenever the lockout allows or waits for its
// count to be forgotten (the figure docs/security.md gives).
func TestAccountBackoffBoundsGuessesPerDay(t *testing.T) {
	b := ginjwt.DefaultAccountBackoff
	for _, tc := range []struct {
		name string
		next func(lockedFor time.Duration, count int) time.Duration // wait before the next guess
	}{
		{"guessing as soon as allowed", func(locked time.Duration, _ int) time.Duration { return max(locked, time.Second) }},
		{"waiting for the count to be forgotten", func(locked time.Duration, count int) time.Duration {
			if count%b.Free == 0 {
				return b.Forget + time.Second
			}
			return max(locked, time.Second)
		}},
	} {
		clock := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		store := memstore.New(memstore.WithClock(clock.Now))
		end := clock.Now().Add(24 * time.Hour)
		guesses := 0
		for clock.Now().Before(end) {
			locked, err := store.Attempt(context.Background(), "account:alice", b)
			if err != nil {
				t.Fatal(err)
			}
			if locked == 0 {
				guesses++
			}
			clock.Advance(tc.next(locked, guesses))
		}
		if guesses < 90 || guesses > 125 {
			t.Errorf("%s: %d guesses in a day, want about 100 to 120", tc.name, guesses)
		}
		t.Logf("%s: %d guesses in a day", tc.name, guesses)
	}
}
