package ginjwt_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// Login CSRF: a page of another site must not sign the victim's browser
// into the attacker's account through the cookie transport, and no
// cookie-transport request that changes state is accepted from another
// origin unless it is trusted.
func TestCookieTransportRefusesCrossOrigin(t *testing.T) {
	a := newApp(t, miniBackend(t), func(o *ginjwt.Options) {
		o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh", TrustedOrigins: []string{"https://app.example.com"}}
	})
	const creds = `{"username":"alice","password":"alice-pw"}`
	refused := []struct {
		name, contentType, body string
		header                  []string
	}{
		// <form enctype="text/plain"> with an input named `{"username":…,"x":"` valued `"}`.
		{"text/plain form from another site", "text/plain", `{"username":"alice","password":"alice-pw","x":"="}`, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		{"text/plain without Origin or Sec-Fetch-Site", "text/plain", creds, nil},
		{"url-encoded form", "application/x-www-form-urlencoded", "username=alice&password=alice-pw", nil},
		{"JSON from another site", "application/json", creds, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		{"JSON from a sibling subdomain", "application/json", creds, []string{"Origin", "https://evil.example.com", "Sec-Fetch-Site", "same-site"}},
		{"JSON with a foreign Origin only", "application/json", creds, []string{"Origin", "https://evil.example"}},
	}
	for _, tc := range refused {
		r := a.do("POST", "/auth/login", tc.contentType, tc.body, tc.header...)
		expect(t, tc.name, r, http.StatusForbidden, "csrf_failed")
		if cookies := r.header.Values("Set-Cookie"); len(cookies) != 0 {
			t.Errorf("%s: refused, yet sets %d cookies", tc.name, len(cookies))
		}
	}
	allowed := []struct {
		name   string
		header []string
	}{
		{"same origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", a.srv.URL}},
		{"a trusted origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com"}},
		{"a non-browser client", nil},
	}
	for _, tc := range allowed {
		expect(t, tc.name, a.do("POST", "/auth/login", "application/json; charset=utf-8", creds, tc.header...), http.StatusOK, "")
	}

	// With a valid session and CSRF token, a cross-site refresh, logout or
	// unsafe guarded request is still refused.
	jar, _ := cookiejar.New(nil)
	a.srv.Client().Jar = jar
	csrf := a.do("POST", "/auth/login", "application/json", creds).tokens(t).CSRFToken
	cross := []string{"X-CSRF-Token", csrf, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}
	expect(t, "cross-site refresh", a.do("POST", "/auth/refresh", "", "", cross...), http.StatusForbidden, "csrf_failed")
	expect(t, "cross-site logout", a.do("POST", "/auth/logout", "", "", cross...), http.StatusForbidden, "csrf_failed")
	expect(t, "cross-site DELETE on a guarded route", a.do("DELETE", "/auth/sessions/x", "", "", cross...), http.StatusForbidden, "csrf_failed")
	expect(t, "cross-site GET stays readable", a.do("GET", "/api/me", "", "", cross...), http.StatusOK, "")
	expect(t, "same-origin refresh", a.do("POST", "/auth/refresh", "", "", "X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-origin"), http.StatusOK, "")
	u, _ := url.Parse(a.srv.URL)
	if n := len(jar.Cookies(u)); n == 0 {
		t.Fatal("the jar lost its cookies")
	}
}

// Bad trusted origins are refused by New.
func TestNewRejectsBadTrustedOrigin(t *testing.T) {
	for _, origin := range []string{"app.example.com", "https://app.example.com/path", ""} {
		_, err := ginjwt.New(ginjwt.Options{
			Store:   memstore.New(),
			Keys:    []ginjwt.Key{ginjwt.HS256(testSecret)},
			Cookies: &ginjwt.CookieOptions{RefreshPath: "/auth/refresh", TrustedOrigins: []string{origin}},
		})
		if err == nil || !strings.Contains(err.Error(), "TrustedOrigins") {
			t.Errorf("origin %q: New returned %v, want an error naming TrustedOrigins", origin, err)
		}
	}
}

// A cookie in TokenLookup without the cookie transport gets the same
// checks, without a panic: an unsafe request needs the same origin and the
// CSRF header.
func TestCookieLookupWithoutCookieTransport(t *testing.T) {
	a := newApp(t, miniBackend(t), func(o *ginjwt.Options) {
		o.TokenLookup = []ginjwt.TokenExtractor{ginjwt.FromHeader, ginjwt.FromCookie("session")}
	})
	tok := a.login("alice")
	cookie := "session=" + tok.AccessToken
	expect(t, "GET with the cookie", a.do("GET", "/api/me", "", "", "Cookie", cookie), http.StatusOK, "")
	expect(t, "cross-site DELETE with the cookie", a.do("DELETE", "/auth/sessions/x", "", "", "Cookie", cookie, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "csrf_failed")
	expect(t, "same-site DELETE without the CSRF header", a.do("DELETE", "/auth/sessions/x", "", "", "Cookie", cookie), http.StatusForbidden, "csrf_failed")
}
