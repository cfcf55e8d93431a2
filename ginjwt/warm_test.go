package ginjwt_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// The guard's warm path (a cached token answered without reading the wall
// clock) answers as the full checks do. Two apps share one store and key:
// "warm" runs on the default clock, so its guard answers cached tokens on
// the warm path; "full" sets Options.Now to the same clock, which turns the
// warm path off.
// Every request goes twice to warm (the second from its token cache) and
// once to full, and all three answers must be the same.
func TestWarmPathAnswersAsFullChecks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		t.Parallel()
		pair := func(ttls func(*ginjwt.Options)) (warm, full *app) {
			prefix := redistest.Prefix(t, b)
			realClock := func(o *ginjwt.Options) { o.Now = nil; ttls(o) }
			warm = newAppAt(t, b, prefix, realClock)
			full = newAppAt(t, b, prefix, func(o *ginjwt.Options) {
				realClock(o)
				o.Now = time.Now
			})
			return warm, full
		}
		same := func(warm, full *app, what, method, path, access string, status int, code string) {
			t.Helper()
			for i, a := range []*app{warm, warm, full} {
				r := a.do(method, path, "", "", "Authorization", "Bearer "+access)
				if r.status != status || status >= 400 && r.code() != code {
					t.Fatalf("%s, request %d: %d %s, want %d %s", what, i+1, r.status, r.body, status, code)
				}
			}
		}
		// Tokens of 2 s (at least 1 s left, as times are whole seconds),
		// with (next to) no leeway.
		warm, full := pair(func(o *ginjwt.Options) {
			o.AccessTTL, o.RefreshTTL, o.SessionMaxAge, o.Leeway = 2*time.Second, time.Minute, time.Minute, time.Nanosecond
		})
		// Sessions of 3 s whose access tokens outlive them by the leeway.
		warmShort, fullShort := pair(func(o *ginjwt.Options) {
			o.AccessTTL, o.RefreshTTL, o.SessionMaxAge, o.Leeway = time.Second, 3*time.Second, 3*time.Second, time.Minute
		})
		alice, bob, carol := warm.login("alice"), full.login("bob"), warmShort.login("alice")
		same(warm, full, "alice", "GET", "/api/me", alice.AccessToken, http.StatusOK, "")
		same(warm, full, "alice is admin", "GET", "/api/admin", alice.AccessToken, http.StatusNoContent, "")
		same(warm, full, "bob is not", "GET", "/api/admin", bob.AccessToken, http.StatusForbidden, "insufficient_scope")
		same(warm, full, "no MFA", "GET", "/api/mfa", alice.AccessToken, http.StatusUnauthorized, "insufficient_user_authentication")
		same(warmShort, fullShort, "a short session", "GET", "/api/me", carol.AccessToken, http.StatusOK, "")

		// bob's refresh moves his session on: his old access token is dead.
		bob2 := warm.refresh(bob.RefreshToken).tokens(t)
		same(warm, full, "replaced by a refresh", "GET", "/api/me", bob.AccessToken, http.StatusUnauthorized, "token_revoked")
		same(warm, full, "bob's new token", "GET", "/api/me", bob2.AccessToken, http.StatusOK, "")
		if r := full.logoutWithAccess(bob2.AccessToken); r.status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		same(warm, full, "logged out", "GET", "/api/me", bob2.AccessToken, http.StatusUnauthorized, "token_revoked")

		// Past its exp, alice's cached token is refused; past its
		// session's end, so is the short session's, still within its leeway.
		time.Sleep(3100 * time.Millisecond)
		same(warm, full, "expired", "GET", "/api/me", alice.AccessToken, http.StatusUnauthorized, "token_expired")
		same(warmShort, fullShort, "session ended", "GET", "/api/me", carol.AccessToken, http.StatusUnauthorized, "session_expired")
	})
}
