package ginjwt_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// Cookie transport end to end with a real cookie jar over HTTPS: tokens never
// appear in bodies, cookies carry the right attributes, unsafe requests need
// the CSRF token, and logout clears everything.
func TestCookieTransport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) {
			o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"}
		})
		jar, _ := cookiejar.New(nil)
		a.srv.Client().Jar = jar
		at := func(path string) *url.URL { u, _ := url.Parse(a.srv.URL + path); return u }

		r := a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`)
		tr := r.tokens(t)
		if tr.AccessToken != "" || tr.RefreshToken != "" || tr.CSRFToken == "" {
			t.Fatalf("cookie login body %s: want no tokens and a CSRF token", r.body)
		}
		cookies := map[string]*http.Cookie{}
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			cookies[c.Name] = c
		}
		access, refresh, csrf := cookies["jwtguard_access"], cookies["jwtguard_refresh"], cookies["jwtguard_csrf"]
		if access == nil || refresh == nil || csrf == nil {
			t.Fatalf("cookies set: %v", r.header["Set-Cookie"])
		}
		for _, c := range []*http.Cookie{access, refresh, csrf} {
			if !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
				t.Errorf("cookie %s: Secure %v SameSite %v MaxAge %d", c.Name, c.Secure, c.SameSite, c.MaxAge)
			}
		}
		if !access.HttpOnly || !refresh.HttpOnly || csrf.HttpOnly {
			t.Errorf("HttpOnly: access %v refresh %v csrf %v; want true, true, false", access.HttpOnly, refresh.HttpOnly, csrf.HttpOnly)
		}
		if access.Path != "/" || refresh.Path != "/auth/refresh" || csrf.Value != tr.CSRFToken {
			t.Errorf("paths %q %q, csrf cookie %q vs body %q", access.Path, refresh.Path, csrf.Value, tr.CSRFToken)
		}
		if n := len(jar.Cookies(at("/auth/logout"))); n != 2 {
			t.Errorf("the jar sends %d cookies to /auth/logout, want access and csrf only", n)
		}

		expect(t, "GET with the access cookie", a.do("GET", "/api/me", "", ""), http.StatusOK, "")
		expect(t, "refresh without the CSRF header", a.do("POST", "/auth/refresh", "", ""), http.StatusForbidden, "csrf_failed")
		expect(t, "refresh with a wrong CSRF header", a.do("POST", "/auth/refresh", "", "", "X-CSRF-Token", "forged"), http.StatusForbidden, "csrf_failed")

		other := newApp(t, b, func(o *ginjwt.Options) { o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"} })
		otherCSRF := other.do("POST", "/auth/login", "application/json", `{"username":"bob","password":"bob-pw"}`).tokens(t).CSRFToken
		expect(t, "refresh with another session's CSRF token", a.do("POST", "/auth/refresh", "", "", "X-CSRF-Token", otherCSRF), http.StatusForbidden, "csrf_failed")

		r = a.do("POST", "/auth/refresh", "", "", "X-CSRF-Token", tr.CSRFToken)
		next := r.tokens(t)
		if next.AccessToken != "" || next.CSRFToken != tr.CSRFToken {
			t.Fatalf("refresh body %s", r.body)
		}
		expect(t, "old access cookie value after refresh", a.me(access.Value), http.StatusUnauthorized, "token_revoked")
		expect(t, "GET with the new access cookie", a.do("GET", "/api/me", "", ""), http.StatusOK, "")

		sid := sessionID(t, access.Value)
		expect(t, "unsafe guarded request without CSRF", a.do("DELETE", "/auth/sessions/"+sid, "", ""), http.StatusForbidden, "csrf_failed")
		expect(t, "a bearer header needs no CSRF token", a.do("POST", "/auth/logout?scope=others", "", "", "Authorization", "Bearer "+access.Value),
			http.StatusUnauthorized, "token_revoked")

		expect(t, "logout without CSRF", a.do("POST", "/auth/logout", "", ""), http.StatusForbidden, "csrf_failed")
		r = a.do("POST", "/auth/logout", "", "", "X-CSRF-Token", tr.CSRFToken)
		expect(t, "logout", r, http.StatusNoContent, "")
		if left := jar.Cookies(at("/auth/refresh")); len(left) != 0 {
			t.Fatalf("cookies left after logout: %v", left)
		}
		expect(t, "after logout", a.do("GET", "/api/me", "", ""), http.StatusUnauthorized, "token_missing")
		if strings.Contains(string(r.body), access.Value) {
			t.Fatal("a body shows the token")
		}
	})
}

// Cookie options are checked by New.
func TestNewRejectsBadCookieOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    ginjwt.CookieOptions
		want string
	}{
		{"no refresh path", ginjwt.CookieOptions{}, "Options.Cookies.RefreshPath"},
		{"relative refresh path", ginjwt.CookieOptions{RefreshPath: "auth/refresh"}, "Options.Cookies.RefreshPath"},
		{"relative path", ginjwt.CookieOptions{RefreshPath: "/r", Path: "api"}, "Options.Cookies.Path"},
		{"SameSite None over HTTP", ginjwt.CookieOptions{RefreshPath: "/r", SameSite: http.SameSiteNoneMode, Insecure: true}, "Options.Cookies.SameSite"},
	} {
		c := tc.c
		_, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, Cookies: &c})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

// A query parameter source is off by default and works when configured.
func TestTokenFromQuery(t *testing.T) {
	b := redistest.Backends(t)[0]
	plain := newApp(t, b, nil)
	tok := plain.login("alice")
	expect(t, "query token by default", plain.do("GET", "/api/me?access_token="+tok.AccessToken, "", ""), http.StatusUnauthorized, "token_missing")

	withQuery := newAppAt(t, b, plain.prefix, func(o *ginjwt.Options) {
		o.TokenLookup = []ginjwt.TokenExtractor{ginjwt.FromHeader, ginjwt.FromQuery("access_token")}
	})
	expect(t, "query token when configured", withQuery.do("GET", "/api/me?access_token="+tok.AccessToken, "", ""), http.StatusOK, "")
}

// A cross-site form carrying someone's refresh token in its body cannot
// plant that session in the browser: in cookie mode a body token needs the
// CSRF header too.
func TestCookieModeBodyRefreshNeedsCSRF(t *testing.T) {
	b := redistest.Backends(t)[0]
	a := newApp(t, b, func(o *ginjwt.Options) { o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"} })
	r := a.do("POST", "/auth/login", "application/json", `{"username":"bob","password":"bob-pw"}`)
	var refresh string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "jwtguard_refresh" {
			refresh = c.Value
		}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()
	r = a.do("POST", "/auth/refresh", "application/x-www-form-urlencoded", form)
	expect(t, "cross-site form refresh", r, http.StatusForbidden, "csrf_failed")
	if len(r.header["Set-Cookie"]) != 0 {
		t.Fatalf("the refused refresh set cookies: %v", r.header["Set-Cookie"])
	}
	expect(t, "cross-site form logout", a.do("POST", "/auth/logout", "application/x-www-form-urlencoded", form), http.StatusForbidden, "csrf_failed")
}
