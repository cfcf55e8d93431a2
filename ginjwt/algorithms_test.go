package ginjwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// testKeys are generated once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]crypto.Signer{
		"RS256": rsaKey, "RS384": rsaKey, "RS512": rsaKey, "PS256": rsaKey, "PS384": rsaKey, "PS512": rsaKey,
		"ES256": p256, "ES384": p384, "ES512": p521, "EdDSA": ed,
	}
})

// Every algorithm works end to end: login, guard, refresh, logout; access
// tokens carry the key's algorithm and kid, refresh tokens are HMAC.
func TestAsymmetricAlgorithms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		for alg, key := range testKeys() {
			t.Run(alg, func(t *testing.T) {
				a := newApp(t, b, func(o *ginjwt.Options) {
					o.Keys = []ginjwt.Key{{ID: "k-" + alg, Algorithm: alg, Private: key}}
				})
				tok := a.login("alice")
				if h := unverifiedHeader(t, tok.AccessToken); h["alg"] != alg || h["kid"] != "k-"+alg || h["typ"] != "at+jwt" {
					t.Fatalf("access token header %v", h)
				}
				if h := unverifiedHeader(t, tok.RefreshToken); h["alg"] != "HS256" || h["typ"] != "rt+jwt" {
					t.Fatalf("refresh token header %v", h)
				}
				verifyWithJWKS(t, a, tok.AccessToken)
				expect(t, "guard", a.me(tok.AccessToken), http.StatusOK, "")
				next := a.refresh(tok.RefreshToken).tokens(t)
				expect(t, "old token after refresh", a.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
				expect(t, "guard after refresh", a.me(next.AccessToken), http.StatusOK, "")
				expect(t, "logout", a.logoutWithRefresh(next.RefreshToken), http.StatusNoContent, "")
				expect(t, "guard after logout", a.me(next.AccessToken), http.StatusUnauthorized, "token_revoked")
			})
		}
	})
}

// verifyWithJWKS checks token the way another service would: with the public
// key the JWKS route serves, and nothing else.
func verifyWithJWKS(t *testing.T, a *app, token string) {
	t.Helper()
	r := a.do("GET", "/.well-known/jwks.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("jwks: %d %s", r.status, r.body)
	}
	var set ginjwt.JWKS
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", r.body, err)
	}
	for _, secretField := range []string{`"d"`, `"p"`, `"q"`, `"k"`} {
		if strings.Contains(string(r.body), secretField+":") {
			t.Fatalf("jwks serves private material: %s", r.body)
		}
	}
	pub := publicKeyFromJWK(t, set.Keys[0])
	parsed, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{set.Keys[0].Algorithm}))
	if err != nil || !parsed.Valid {
		t.Fatalf("token does not verify with the JWKS key: %v", err)
	}
}

func publicKeyFromJWK(t *testing.T, k ginjwt.JWK) crypto.PublicKey {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("jwk field %q: %v", s, err)
		}
		return b
	}
	switch k.KeyType {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(k.N)), E: int(new(big.Int).SetBytes(dec(k.E)).Int64())}
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		return &ecdsa.PublicKey{Curve: curves[k.Curve], X: new(big.Int).SetBytes(dec(k.X)), Y: new(big.Int).SetBytes(dec(k.Y))}
	case "OKP":
		return ed25519.PublicKey(dec(k.X))
	}
	t.Fatalf("unexpected jwk %+v", k)
	return nil
}

// The JWKS never serves HMAC secrets.
func TestJWKSWithoutAsymmetricKeys(t *testing.T) {
	a := newApp(t, redistest.Backends(t)[0], nil)
	r := a.do("GET", "/.well-known/jwks.json", "", "")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"keys":[]}` {
		t.Fatalf("jwks with an HMAC key: %d %s", r.status, r.body)
	}
}

// Rotating to a new asymmetric key: the old key stays configured until the
// longest refresh lifetime has passed; tokens of both work meanwhile, and new
// tokens use the new kid. A retired key kept as Public only still verifies
// old access tokens, but refresh tokens it signed need the private key.
func TestAsymmetricKeyRotation(t *testing.T) {
	b := redistest.Backends(t)[0]
	prefix := redistest.Prefix(t, b)
	keys := testKeys()
	oldKey := ginjwt.Key{ID: "2026-10", Algorithm: "ES256", Private: keys["ES256"]}
	newKey := ginjwt.Key{ID: "2026-11", Algorithm: "EdDSA", Private: keys["EdDSA"]}

	before := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{oldKey} })
	old, other := before.login("alice"), before.login("alice")

	during := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{newKey, oldKey} })
	expect(t, "old access token during rotation", during.me(old.AccessToken), http.StatusOK, "")
	next := during.refresh(old.RefreshToken).tokens(t)
	if h := unverifiedHeader(t, next.AccessToken); h["kid"] != "2026-11" || h["alg"] != "EdDSA" {
		t.Fatalf("refreshed token header %v, want the new key", h)
	}
	expect(t, "new access token", during.me(next.AccessToken), http.StatusOK, "")

	retired := ginjwt.Key{ID: "2026-10", Algorithm: "ES256", Public: keys["ES256"].Public()}
	after := newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{newKey, retired} })
	expect(t, "old access token with the retired public key", after.me(other.AccessToken), http.StatusOK, "")
	expectGrant(t, "old refresh token with the retired public key", after.refresh(other.RefreshToken), "key_unknown")
	expect(t, "new tokens", after.me(next.AccessToken), http.StatusOK, "")
}

// PEM files load into keys; mistakes give clear errors.
func TestParseKeyPEM(t *testing.T) {
	keys := testKeys()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pkcs8 := func(k crypto.Signer) []byte { der, _ := x509.MarshalPKCS8PrivateKey(k); return der }
	pkix := func(k crypto.PublicKey) []byte { der, _ := x509.MarshalPKIXPublicKey(k); return der }
	rsaKey := keys["RS256"].(*rsa.PrivateKey)
	ecKey := keys["ES256"].(*ecdsa.PrivateKey)
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)

	ok := []struct {
		alg, path string
		private   bool
	}{
		{"RS256", write("rsa-pkcs8.pem", "PRIVATE KEY", pkcs8(rsaKey)), true},
		{"PS256", write("rsa-pkcs1.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), true},
		{"ES256", write("ec-sec1.pem", "EC PRIVATE KEY", ecDER), true},
		{"EdDSA", write("ed.pem", "PRIVATE KEY", pkcs8(keys["EdDSA"])), true},
		{"RS256", write("rsa-pub.pem", "PUBLIC KEY", pkix(rsaKey.Public())), false},
		{"RS256", write("rsa-pub-pkcs1.pem", "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), false},
		{"ES256", write("ec-pub.pem", "PUBLIC KEY", pkix(ecKey.Public())), false},
	}
	for _, tc := range ok {
		k, err := ginjwt.LoadKeyFile("kid", tc.alg, tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if (k.Private != nil) != tc.private || k.Algorithm != tc.alg || k.ID != "kid" {
			t.Fatalf("%s: got %+v", tc.path, k)
		}
	}

	bad := []struct{ name, data, want string }{
		{"empty", "", "no PEM block"},
		{"certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})), "not a private or public key"},
		{"garbage key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")})), "parsing PRIVATE KEY"},
		{"encrypted", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})), "encrypted"},
		{"two blocks", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix(ecKey.Public())})) +
			string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix(ecKey.Public())})), "more than one"},
	}
	for _, tc := range bad {
		if _, err := ginjwt.ParseKeyPEM("kid", "RS256", []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if _, err := ginjwt.LoadKeyFile("kid", "RS256", filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing file loaded")
	}
}

// New pins each algorithm to its key type and size.
func TestNewRejectsMismatchedKeys(t *testing.T) {
	keys := testKeys()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	cases := []struct {
		name string
		key  ginjwt.Key
		want string
	}{
		{"RSA key for ES256", ginjwt.Key{Algorithm: "ES256", Private: keys["RS256"]}, "ECDSA key on P-256"},
		{"P-384 key for ES256", ginjwt.Key{Algorithm: "ES256", Private: keys["ES384"]}, "ECDSA key on P-256"},
		{"EC key for RS256", ginjwt.Key{Algorithm: "RS256", Private: keys["ES256"]}, "needs an RSA key"},
		{"Ed25519 key for PS256", ginjwt.Key{Algorithm: "PS256", Private: keys["EdDSA"]}, "needs an RSA key"},
		{"RSA key for EdDSA", ginjwt.Key{Algorithm: "EdDSA", Private: keys["RS256"]}, "needs an Ed25519 key"},
		{"1024-bit RSA", ginjwt.Key{Algorithm: "RS256", Private: small}, "at least 2048"},
		{"secret for RS256", ginjwt.Key{Algorithm: "RS256", Secret: testSecret}, "not a Secret"},
		{"private key for HS256", ginjwt.Key{Algorithm: "HS256", Secret: testSecret, Private: keys["EdDSA"]}, "takes a Secret"},
		{"no key material", ginjwt.Key{Algorithm: "ES256"}, "needs a Private or a Public key"},
		{"mismatched public", ginjwt.Key{Algorithm: "ES256", Private: keys["ES256"], Public: keys["ES384"].Public()}, "does not match"},
		{"none", ginjwt.Key{Algorithm: "none", Secret: testSecret}, "not supported"},
		{"verify-only current key", ginjwt.Key{Algorithm: "ES256", Public: keys["ES256"].Public()}, "cannot sign"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{tc.key}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Options.Keys[0]") {
				t.Fatalf("New: %v, want an error naming Options.Keys[0] and mentioning %q", err, tc.want)
			}
		})
	}
}
