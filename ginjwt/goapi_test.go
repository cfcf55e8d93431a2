package ginjwt_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// withSignUp serves a's routes plus POST /signup, which signs the user in
// from Go with Login, as an app does after creating the account.
func withSignUp(t *testing.T, a *app) *app {
	t.Helper()
	r := gin.New()
	r.POST("/signup", func(c *gin.Context) {
		a.auth.Login(c, ginjwt.Identity{Subject: c.Query("user"), Device: "signup", Roles: []string{"user"}})
	})
	r.NoRoute(gin.WrapH(a.srv.Config.Handler))
	srv := httptest.NewUnstartedServer(r)
	if a.srv.TLS != nil {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	b := *a
	b.srv = srv
	return &b
}

// A session started from Go with Login is one LoginHandler could have
// started: listed, refreshed, logged out, with the same events.
func TestLoginFromGo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := withSignUp(t, newApp(t, b, nil))
		tok := a.do("POST", "/signup?user=carol", "", "").tokens(t)
		if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 900 {
			t.Fatalf("Login's answer %+v: want a bearer pair like LoginHandler's", tok)
		}
		expect(t, "guard", a.me(tok.AccessToken), http.StatusOK, "")
		var list ginjwt.SessionsResponse
		if err := json.Unmarshal(a.do("GET", "/auth/sessions", "", "", "Authorization", "Bearer "+tok.AccessToken).body, &list); err != nil || len(list.Sessions) != 1 || list.Sessions[0].Device != "signup" || !list.Sessions[0].Current {
			t.Fatalf("session list %+v (%v)", list, err)
		}
		next := a.refresh(tok.RefreshToken).tokens(t)
		expect(t, "logout", a.logoutWithAccess(next.AccessToken), http.StatusNoContent, "")
		expect(t, "after logout", a.me(next.AccessToken), http.StatusUnauthorized, "token_revoked")
		kinds := []ginjwt.EventKind{}
		for _, e := range a.events.take() {
			kinds = append(kinds, e.Kind)
			if e.Kind == ginjwt.EventLogin && (e.Subject != "carol" || e.Device != "signup" || e.IP == "") {
				t.Errorf("login event %+v", e)
			}
		}
		if !slices.Equal(kinds, []ginjwt.EventKind{ginjwt.EventLogin, ginjwt.EventRefresh, ginjwt.EventLogout}) {
			t.Errorf("events %v", kinds)
		}
	})
}

// With the cookie transport Login answers with cookies and the CSRF token,
// and refuses a cross-site POST.
func TestLoginFromGoCookies(t *testing.T) {
	a := withSignUp(t, newApp(t, miniBackend(t), func(o *ginjwt.Options) {
		o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"}
	}))
	expect(t, "cross-site sign-up", a.do("POST", "/signup?user=carol", "", "", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "csrf_failed")
	jar, _ := cookiejar.New(nil)
	a.srv.Client().Jar = jar
	r := a.do("POST", "/signup?user=carol", "", "")
	tok := r.tokens(t)
	if tok.AccessToken != "" || tok.CSRFToken == "" || len(r.header.Values("Set-Cookie")) != 3 {
		t.Fatalf("cookie Login: body %s, %d cookies", r.body, len(r.header.Values("Set-Cookie")))
	}
	expect(t, "guard with the cookie", a.do("GET", "/api/me", "", ""), http.StatusOK, "")
	expect(t, "refresh with the cookie", a.do("POST", "/auth/refresh", "", "", "X-CSRF-Token", tok.CSRFToken), http.StatusOK, "")
}

// IssueTokens returns a pair the guard and refresh accept; an Identity
// without a subject is a server error.
func TestIssueTokens(t *testing.T) {
	a := newApp(t, miniBackend(t), nil)
	tok, err := a.auth.IssueTokens(ctx(t), ginjwt.Identity{Subject: "dave"}, ginjwt.ClientInfo{IP: "192.0.2.4", UserAgent: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.SessionID == "" || !tok.AccessExpiresAt.After(a.clock.Now()) || !tok.RefreshExpiresAt.After(tok.AccessExpiresAt) {
		t.Fatalf("tokens %+v", tok)
	}
	expect(t, "guard", a.me(tok.AccessToken), http.StatusOK, "")
	a.refresh(tok.RefreshToken).tokens(t)
	if _, err := a.auth.IssueTokens(ctx(t), ginjwt.Identity{}, ginjwt.ClientInfo{}); !errors.Is(err, ginjwt.ErrServer) {
		t.Fatalf("IssueTokens without a subject: %v", err)
	}
}

// Verify answers what the guard answers, on every guard row of the attack
// suite and on tokens that are fine, revoked or short of a requirement.
func TestVerifyAgreesWithGuard(t *testing.T) {
	keys := newAttackKeys(t)
	s := newAttackSuite(t, miniBackend(t), keys)
	n := 0
	for _, x := range s.rows(t) {
		if x.route != "guard" || x.via != "" || len(x.moreAuthz) > 0 || x.cookie != "" || x.query != "" || !strings.HasPrefix(x.authz, "Bearer ") {
			continue
		}
		target := x.target
		if target == nil {
			target = s.hs
		}
		token := strings.TrimPrefix(x.authz, "Bearer ")
		if strings.TrimSpace(token) != token {
			continue // the header parser trims, a Go caller passes the token itself
		}
		r := x.send(t, target)
		_, err := target.auth.Verify(context.Background(), token)
		if got, want := ginjwt.ErrorCode(err), r.code(); (err == nil) != (r.status == http.StatusOK) || err != nil && got != want {
			t.Errorf("%s: Verify %v (%s), guard %d %s", x.name, err, got, r.status, want)
		}
		n++
	}
	if n < 30 {
		t.Fatalf("only %d rows compared", n)
	}
	a := s.hs
	tok := a.login("bob")
	if _, err := a.auth.Verify(context.Background(), tok.AccessToken); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	if _, err := a.auth.Verify(context.Background(), tok.AccessToken, ginjwt.RequireRole("admin")); !errors.Is(err, ginjwt.ErrInsufficientScope) {
		t.Fatalf("bob and RequireRole(admin): %v", err)
	}
	a.refresh(tok.RefreshToken).tokens(t)
	if _, err := a.auth.Verify(context.Background(), tok.AccessToken); !errors.Is(err, ginjwt.ErrTokenRevoked) {
		t.Fatalf("a rotated-away token: %v", err)
	}
	if _, err := a.auth.Verify(context.Background(), ""); !errors.Is(err, ginjwt.ErrTokenMissing) {
		t.Fatalf("no token: %v", err)
	}
}

// OnRefresh: a demotion reaches the session at its next refresh; a
// disabled account's session ends there.
func TestOnRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		roles := map[string][]string{"alice": {"admin"}}
		disabled := map[string]bool{}
		a := newApp(t, b, func(o *ginjwt.Options) {
			o.OnRefresh = func(_ context.Context, c *ginjwt.Claims) (ginjwt.Identity, error) {
				if disabled[c.Subject] {
					return ginjwt.Identity{}, ginjwt.ErrAccountDisabled
				}
				return ginjwt.Identity{Subject: c.Subject, Roles: roles[c.Subject], Extra: map[string]string{"plan": "pro"}}, nil
			}
		})
		tok := a.login("alice")
		admin := func(access string) response {
			return a.do("GET", "/api/admin", "", "", "Authorization", "Bearer "+access)
		}
		expect(t, "admin before", admin(tok.AccessToken), http.StatusNoContent, "")
		roles["alice"] = []string{"user"}
		expect(t, "demoted, before the refresh", admin(tok.AccessToken), http.StatusNoContent, "")
		tok = a.refresh(tok.RefreshToken).tokens(t)
		expect(t, "demoted, after the refresh", admin(tok.AccessToken), http.StatusForbidden, "insufficient_scope")
		if claims := claimsOf(t, tok.AccessToken); !strings.Contains(claims, `"ext":{"plan":"pro"}`) {
			t.Errorf("claims after OnRefresh: %s", claims)
		}

		disabled["alice"] = true
		a.events.take()
		expectGrant(t, "refresh of a disabled account", a.refresh(tok.RefreshToken), "account_disabled")
		expect(t, "the disabled account's access token", a.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
		disabled["alice"] = false
		expectGrant(t, "the ended session refreshed again", a.refresh(tok.RefreshToken), "token_revoked")
		if !slices.ContainsFunc(a.events.take(), func(e ginjwt.Event) bool {
			return e.Kind == ginjwt.EventRevoke && e.Reason == ginjwt.ReasonAccountDisabled && e.Subject == "alice"
		}) {
			t.Error("no revoke event with reason account_disabled")
		}
	})
}

// ExtendTokenResponse adds fields to login and refresh answers; the
// standard ones win.
func TestExtendTokenResponse(t *testing.T) {
	a := newApp(t, miniBackend(t), func(o *ginjwt.Options) {
		o.ExtendTokenResponse = func(_ *gin.Context, c *ginjwt.Claims) (map[string]any, error) {
			return map[string]any{"profile": map[string]string{"name": c.Subject}, "access_token": "forged", "expires_in": -1}, nil
		}
	})
	for _, r := range []response{
		a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`),
	} {
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		profile, _ := body["profile"].(map[string]any)
		if profile["name"] != "alice" || body["access_token"] == "forged" || body["expires_in"] != float64(900) || body["refresh_token"] == "" {
			t.Fatalf("extended body %s", r.body)
		}
		tok := r.tokens(t)
		next := a.refresh(tok.RefreshToken)
		if !strings.Contains(string(next.body), `"profile":{"name":"alice"}`) || next.tokens(t).AccessToken == "forged" {
			t.Fatalf("extended refresh body %s", next.body)
		}
	}
}
