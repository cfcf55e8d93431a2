package ginjwt_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// expectChallenge fails the test unless r is the RFC 9470 challenge.
func expectChallenge(t *testing.T, what string, r response, params string) {
	t.Helper()
	expect(t, what, r, http.StatusUnauthorized, "insufficient_user_authentication")
	want := `Bearer error="insufficient_user_authentication", error_description="A more recent or stronger authentication is required.", ` + params
	if got := r.header.Get("WWW-Authenticate"); got != want {
		t.Errorf("%s: WWW-Authenticate\n%s\nwant\n%s", what, got, want)
	}
}

// RequireRecentAuth: a token whose authentication is older than maxAge
// gets the challenge; a step-up in the same session passes; the raised
// token expires with StepUpTTL, and a refresh gives the login's level back.
func TestStepUpRecentAuth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.StepUpTTL = 10 * time.Minute })
		tok := a.login("alice")
		bearer := func(access string) []string { return []string{"Authorization", "Bearer " + access} }
		expect(t, "just logged in", a.do("GET", "/api/recent", "", "", bearer(tok.AccessToken)...), http.StatusNoContent, "")
		a.clock.Advance(6 * time.Minute)
		expectChallenge(t, "six minutes after login", a.do("GET", "/api/recent", "", "", bearer(tok.AccessToken)...), "max_age=300")
		expect(t, "other routes still pass", a.me(tok.AccessToken), http.StatusOK, "")

		expect(t, "step-up with a wrong password", a.do("POST", "/auth/step-up", "application/json", `{"username":"alice","password":"x"}`, bearer(tok.AccessToken)...), http.StatusUnauthorized, "invalid_credentials")
		expect(t, "step-up as another user", a.do("POST", "/auth/step-up", "application/json", `{"username":"bob","password":"bob-pw"}`, bearer(tok.AccessToken)...), http.StatusUnauthorized, "invalid_credentials")
		expect(t, "step-up without a token", a.do("POST", "/auth/step-up", "application/json", `{"username":"alice","password":"alice-pw"}`), http.StatusUnauthorized, "token_missing")
		r := a.do("POST", "/auth/step-up", "application/json", `{"username":"alice","password":"alice-pw"}`, bearer(tok.AccessToken)...)
		raised := r.tokens(t)
		if raised.AccessToken == "" || strings.Contains(string(r.body), "refresh") || raised.ExpiresIn != 600 {
			t.Fatalf("step-up answer %s: want an access token for 600 s and no refresh token", r.body)
		}
		expect(t, "after step-up", a.do("GET", "/api/recent", "", "", bearer(raised.AccessToken)...), http.StatusNoContent, "")
		var before, after struct {
			Session string `json:"session"`
		}
		_ = json.Unmarshal(a.me(tok.AccessToken).body, &before)
		_ = json.Unmarshal(a.me(raised.AccessToken).body, &after)
		if before.Session == "" || before.Session != after.Session {
			t.Fatalf("step-up changed the session: %q then %q", before.Session, after.Session)
		}
		expect(t, "the login's token still works", a.me(tok.AccessToken), http.StatusOK, "")
		if events := a.events.take(); !slices.ContainsFunc(events, func(e ginjwt.Event) bool {
			return e.Kind == ginjwt.EventStepUp && e.Subject == "alice" && e.SessionID == after.Session
		}) {
			t.Errorf("no step_up event for alice's session in %v", events)
		}

		a.clock.Advance(6 * time.Minute)
		expectChallenge(t, "six minutes after the step-up", a.do("GET", "/api/recent", "", "", bearer(raised.AccessToken)...), "max_age=300")
		a.clock.Advance(4*time.Minute + 11*time.Second) // past exp and the leeway
		expect(t, "the raised token past StepUpTTL", a.me(raised.AccessToken), http.StatusUnauthorized, "token_expired")
		next := a.refresh(tok.RefreshToken).tokens(t)
		expectChallenge(t, "after a refresh: the login's auth_time", a.do("GET", "/api/recent", "", "", bearer(next.AccessToken)...), "max_age=300")
	})
}

// RequireACR: a password login gets the challenge with acr_values; a
// multi-factor step-up passes until it expires; refreshes never carry it.
func TestStepUpACR(t *testing.T) {
	a := newApp(t, miniBackend(t), nil)
	tok := a.login("alice")
	bearer := []string{"Authorization", "Bearer " + tok.AccessToken}
	expectChallenge(t, "password login", a.do("GET", "/api/mfa", "", "", bearer...), `acr_values="mfa"`)
	raised := a.do("POST", "/auth/step-up", "application/json", `{"username":"alice","password":"alice-pw","otp":"000000"}`, bearer...).tokens(t)
	expect(t, "after a multi-factor step-up", a.do("GET", "/api/mfa", "", "", "Authorization", "Bearer "+raised.AccessToken), http.StatusNoContent, "")
	claims := claimsOf(t, raised.AccessToken)
	for _, want := range []string{`"acr":"mfa"`, `"amr":["pwd","otp"]`, `"sst":`} {
		if !strings.Contains(claims, want) {
			t.Errorf("raised token claims %s lack %s", claims, want)
		}
	}
	refreshed := a.refresh(tok.RefreshToken).tokens(t)
	expectChallenge(t, "a refresh does not carry the raised level", a.do("GET", "/api/mfa", "", "", "Authorization", "Bearer "+refreshed.AccessToken), `acr_values="mfa"`)
	expect(t, "the raised token died with the rotation", a.me(raised.AccessToken), http.StatusUnauthorized, "token_revoked")
}

// The session's absolute lifetime still counts from the login after a
// step-up.
func TestStepUpKeepsSessionMaxAge(t *testing.T) {
	a := newApp(t, miniBackend(t), func(o *ginjwt.Options) { o.RefreshTTL, o.SessionMaxAge = time.Hour, time.Hour })
	tok := a.login("alice")
	a.clock.Advance(50 * time.Minute)
	tok = a.refresh(tok.RefreshToken).tokens(t)
	raised := a.do("POST", "/auth/step-up", "application/json", `{"username":"alice","password":"alice-pw"}`, "Authorization", "Bearer "+tok.AccessToken).tokens(t)
	if raised.ExpiresIn != 600 {
		t.Errorf("raised token lives %d s, want the 600 s left of the session", raised.ExpiresIn)
	}
	a.clock.Advance(10 * time.Minute)
	expect(t, "at the session's max age", a.me(raised.AccessToken), http.StatusUnauthorized, "session_expired")
	expectGrant(t, "refresh at the session's max age", a.refresh(tok.RefreshToken), "session_expired")
}
