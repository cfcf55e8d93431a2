package ginjwt_test

import (
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// Every HMAC algorithm works end to end: login, guard, refresh, logout.
func TestHMACAlgorithms(t *testing.T) {
	b := redistest.Backends(t)[0]
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			secret := append([]byte(alg), testSecret...)
			a := newApp(t, b, func(o *ginjwt.Options) {
				o.Keys = []ginjwt.Key{{ID: "k-" + alg, Algorithm: alg, Secret: secret}}
			})
			tok := a.login("alice")
			if h := unverifiedHeader(t, tok.AccessToken); h["alg"] != alg || h["kid"] != "k-"+alg || h["typ"] != "at+jwt" {
				t.Fatalf("access token header %v", h)
			}
			if h := unverifiedHeader(t, tok.RefreshToken); h["alg"] != alg || h["typ"] != "rt+jwt" {
				t.Fatalf("refresh token header %v", h)
			}
			expect(t, "guard", a.me(tok.AccessToken), http.StatusOK, "")
			next := a.refresh(tok.RefreshToken).tokens(t)
			expect(t, "guard after refresh", a.me(next.AccessToken), http.StatusOK, "")
			expect(t, "logout", a.logoutWithAccess(next.AccessToken), http.StatusNoContent, "")
			expect(t, "guard after logout", a.me(next.AccessToken), http.StatusUnauthorized, "token_revoked")
		})
	}
}

// A new signing key can be added in front while tokens of the old one keep
// working until they expire.
func TestKeyRotation(t *testing.T) {
	b := redistest.Backends(t)[0]
	prefix := redistest.Prefix(t, b)
	oldKey := ginjwt.Key{ID: "2026-10", Algorithm: "HS256", Secret: testSecret}
	newKey := ginjwt.Key{ID: "2026-11", Algorithm: "HS512", Secret: append([]byte("new"), testSecret...)}

	before := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{oldKey} })
	old := before.login("alice")

	after := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{newKey, oldKey} })
	expect(t, "old-key access token on the new app", after.me(old.AccessToken), http.StatusOK, "")
	next := after.refresh(old.RefreshToken).tokens(t)
	if h := unverifiedHeader(t, next.AccessToken); h["kid"] != "2026-11" || h["alg"] != "HS512" {
		t.Fatalf("refreshed token header %v, want the new key", h)
	}
	expect(t, "new-key access token", after.me(next.AccessToken), http.StatusOK, "")

	dropped := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{newKey} })
	expect(t, "old-key token once the key is dropped", dropped.me(old.AccessToken), http.StatusUnauthorized, "token_invalid")
}

func unverifiedHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	var c ginjwt.Claims
	tok, _, err := jwt.NewParser().ParseUnverified(token, &c)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header
}
