package ginjwt_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// newWithKeys calls New with keys and otherwise valid options.
func newWithKeys(keys ...ginjwt.Key) error {
	_, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: keys})
	return err
}

// HMAC secrets must be at least as long as the algorithm's hash (RFC 7518
// §3.2): 32, 48 and 64 bytes. A shorter one is refused with an error naming
// the key, the algorithm and the minimum.
func TestHMACSecretSizes(t *testing.T) {
	for _, c := range []struct {
		alg string
		min int
	}{{"HS256", 32}, {"HS384", 48}, {"HS512", 64}} {
		secret := bytes.Repeat([]byte{'k'}, c.min)
		if err := newWithKeys(ginjwt.Key{Algorithm: c.alg, Secret: secret}); err != nil {
			t.Errorf("%s with a %d-byte secret: %v", c.alg, c.min, err)
		}
		err := newWithKeys(ginjwt.Key{ID: "k1", Algorithm: c.alg, Secret: secret[1:]})
		for _, want := range []string{"Options.Keys[0].Secret", fmt.Sprintf("is %d bytes", c.min-1), c.alg, fmt.Sprintf("at least %d", c.min), `"k1"`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with a %d-byte secret: error %v, want it to say %q", c.alg, c.min-1, err, want)
			}
		}
		if err != nil && strings.Contains(err.Error(), string(secret[:8])) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

// An unknown algorithm name gets the list of valid names and, for a near
// miss, the one meant.
func TestUnknownAlgorithmSuggestions(t *testing.T) {
	for _, c := range []struct{ alg, suggest string }{
		{"Ed25519", "EdDSA"},
		{"ed25519", "EdDSA"},
		{"EDDSA", "EdDSA"},
		{"hs256", "HS256"},
		{"RS256 ", "RS256"},
		{" es384", "ES384"},
		{"HS-512", "HS512"},
		{"ps256\n", "PS256"},
		{"none", ""},
		{"Ed448", ""},
		{"ES256K", ""},
		{"", ""},
	} {
		err := newWithKeys(ginjwt.Key{Algorithm: c.alg, Secret: bytes.Repeat(testSecret, 2)})
		if err == nil {
			t.Fatalf("%q accepted", c.alg)
		}
		msg := err.Error()
		if !strings.Contains(msg, "Options.Keys[0].Algorithm") || !strings.Contains(msg, "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA") {
			t.Errorf("%q: %v, want the field and the list of algorithms", c.alg, err)
		}
		if got := strings.Contains(msg, "did you mean"); got != (c.suggest != "") {
			t.Errorf("%q: %v; want a suggestion: %v", c.alg, err, c.suggest != "")
		}
		if c.suggest != "" && !strings.Contains(msg, `did you mean "`+c.suggest+`"`) {
			t.Errorf("%q: %v, want it to suggest %s", c.alg, err, c.suggest)
		}
	}
}

// A key of the wrong Go type says which type the algorithm takes, and
// whether a pointer or a value was meant; broken keys are refused without a
// panic. Each key is configured second, after a current HMAC key.
func TestKeyGoTypeErrors(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edPub := edPriv.Public().(ed25519.PublicKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range []struct {
		name string
		key  ginjwt.Key
		want string
	}{
		{"pointer to an Ed25519 private key", ginjwt.Key{Algorithm: "EdDSA", Private: &edPriv},
			"Options.Keys[1].Private is of type *ed25519.PrivateKey; EdDSA needs an Ed25519 key: an ed25519.PrivateKey (a value, not a pointer)"},
		{"pointer to an Ed25519 public key", ginjwt.Key{Algorithm: "EdDSA", Public: &edPub},
			"Options.Keys[1].Public is of type *ed25519.PublicKey; EdDSA needs an Ed25519 key: an ed25519.PublicKey (a value, not a pointer)"},
		{"RSA public key by value", ginjwt.Key{Algorithm: "RS256", Public: rsaKey.PublicKey},
			"Options.Keys[1].Public is of type rsa.PublicKey; RS256 needs an RSA key: an *rsa.PublicKey (a pointer, not a value)"},
		{"Ed25519 key for RS256", ginjwt.Key{Algorithm: "RS256", Private: edPriv},
			"Options.Keys[1].Private is of type ed25519.PrivateKey; RS256 needs an RSA key: an *rsa.PrivateKey"},
		{"RSA key for ES256", ginjwt.Key{Algorithm: "ES256", Private: rsaKey},
			"Options.Keys[1].Private is of type *rsa.PrivateKey; ES256 needs an ECDSA key on P-256: an *ecdsa.PrivateKey"},
		{"ECDSA key for EdDSA", ginjwt.Key{Algorithm: "EdDSA", Private: ecKey},
			"Options.Keys[1].Private is of type *ecdsa.PrivateKey; EdDSA needs an Ed25519 key: an ed25519.PrivateKey"},
		{"nil RSA private key", ginjwt.Key{Algorithm: "RS256", Private: (*rsa.PrivateKey)(nil)}, "Options.Keys[1].Private is a nil *rsa.PrivateKey"},
		{"short Ed25519 private key", ginjwt.Key{Algorithm: "EdDSA", Private: edPriv[:32]}, "Options.Keys[1].Private is 32 bytes"},
		{"empty Ed25519 public key", ginjwt.Key{Algorithm: "EdDSA", Public: ed25519.PublicKey{}}, "Options.Keys[1].Public is 0 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.key.ID = "k" // second to a current key, as a verify-only key must be
			keys := []ginjwt.Key{{ID: "current", Algorithm: "HS256", Secret: testSecret}, c.key}
			if err := newWithKeys(keys...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want %q", err, c.want)
			}
		})
	}
}

// Every HMAC algorithm works end to end: login, guard, refresh, logout.
func TestHMACAlgorithms(t *testing.T) {
	b := redistest.Backends(t)[0]
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			secret := append([]byte(alg), bytes.Repeat(testSecret, 2)...) // 69 bytes: enough for HS512
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
	newKey := ginjwt.Key{ID: "2026-11", Algorithm: "HS512", Secret: append([]byte("new"), bytes.Repeat(testSecret, 2)...)}

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
