package ginjwt_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// "Log out other devices" with the cookie transport leaves the caller's own
// cookies in place, so the caller stays signed in and can still log out.
func TestCookieLogoutOthersKeepsOwnCookies(t *testing.T) {
	b := redistest.Backends(t)[0]
	a := newApp(t, b, func(o *ginjwt.Options) {
		o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"}
	})
	jar, _ := cookiejar.New(nil)
	a.srv.Client().Jar = jar
	root, _ := url.Parse(a.srv.URL + "/")

	csrf := a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`).tokens(t).CSRFToken
	phone := newAppAt(t, b, a.prefix, nil).login("alice") // a bearer client of the same user

	r := a.do("POST", "/auth/logout?scope=others", "", "", "X-CSRF-Token", csrf)
	expect(t, "logout others", r, http.StatusNoContent, "")
	if set := r.header["Set-Cookie"]; len(set) != 0 {
		t.Fatalf("logout others set cookies %v, want none", set)
	}
	if n := len(jar.Cookies(root)); n != 2 {
		t.Fatalf("cookies left for / after logout others: %d, want access and csrf", n)
	}
	expect(t, "the other device", a.me(phone.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "this browser after logout others", a.do("GET", "/api/me", "", ""), http.StatusOK, "")

	expect(t, "logout", a.do("POST", "/auth/logout", "", "", "X-CSRF-Token", csrf), http.StatusNoContent, "")
	if left := jar.Cookies(root); len(left) != 0 {
		t.Fatalf("cookies left after logout: %v", left)
	}
}
