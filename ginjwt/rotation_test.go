package ginjwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// jwksConsumer is another service verifying jwtguard's access tokens with
// the published JWKS, which it fetches over HTTP and caches until told the
// cache has expired (max-age), as panva/jose's createRemoteJWKSet or
// MicahParks/keyfunc do.
type jwksConsumer struct {
	t   *testing.T
	url func() string // where the JWKS is served now

	mu   sync.Mutex
	keys map[string]ginjwt.JWK
}

// expire drops the cache; the next verification fetches the JWKS again.
func (c *jwksConsumer) expire() {
	c.mu.Lock()
	c.keys = nil
	c.mu.Unlock()
}

// verify checks an access token's signature with the cached JWKS, fetching
// it first when the cache is empty.
func (c *jwksConsumer) verify(token string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		resp, err := http.Get(c.url())
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var set ginjwt.JWKS
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			return err
		}
		c.keys = map[string]ginjwt.JWK{}
		for _, k := range set.Keys {
			c.keys[k.KeyID] = k
		}
	}
	_, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		jwk, ok := c.keys[kid]
		if !ok {
			return nil, fmt.Errorf("no key %q in the JWKS", kid)
		}
		if jwk.Algorithm != tok.Method.Alg() {
			return nil, fmt.Errorf("JWK alg %s does not match token alg %s", jwk.Algorithm, tok.Method.Alg())
		}
		return publicKeyOf(jwk)
	}, jwt.WithValidMethods([]string{"ES256", "EdDSA"}))
	return err
}

// publicKeyOf turns an EC P-256 or Ed25519 JWK into a public key.
func publicKeyOf(k ginjwt.JWK) (crypto.PublicKey, error) {
	b := func(s string) []byte { v, _ := base64.RawURLEncoding.DecodeString(s); return v }
	switch k.KeyType {
	case "EC":
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(b(k.X)), Y: new(big.Int).SetBytes(b(k.Y))}, nil
	case "OKP":
		return ed25519.PublicKey(b(k.X)), nil
	}
	return nil, errors.New("unsupported JWK")
}

// The key rotation recipe, step by step, with a JWKS consumer in the loop:
// publish the new key (it verifies and is in the JWKS, signs nothing), wait
// for JWKS caches, sign with it (the old key, retired, keeps its private key
// so its refresh tokens still refresh and log out), and drop the old key
// once its refresh tokens have expired. No valid token is refused at any
// step; after the drop, the old key's tokens answer key_unknown.
func TestKeyRotationRecipe(t *testing.T) {
	b := redistest.Backends(t)[0]
	prefix := redistest.Prefix(t, b)
	keys := testKeys()
	oldKey := ginjwt.Key{ID: "2026-11", Algorithm: "ES256", Private: keys["ES256"]}
	newKey := ginjwt.Key{ID: "2026-12", Algorithm: "EdDSA", Private: keys["EdDSA"]}
	deploy := func(ks ...ginjwt.Key) *app {
		return newAppAt(t, b, prefix, func(o *ginjwt.Options) { o.Keys = ks })
	}
	current := deploy(oldKey)
	consumer := &jwksConsumer{t: t, url: func() string { return current.srv.URL + "/.well-known/jwks.json" }}

	alice, bob := current.login("alice"), current.login("bob")
	if err := consumer.verify(alice.AccessToken); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}
	// A refresh token's kid names no key of the JWKS: a consumer handed one
	// finds no key, rather than a key of another algorithm.
	if kid := unverifiedHeader(t, alice.RefreshToken)["kid"]; kid == oldKey.ID || kid == nil {
		t.Fatalf("refresh token kid %v, want one that is not the access key's", kid)
	}

	// 1. Publish: the new key is in the JWKS; the old one still signs.
	current = deploy(oldKey, newKey)
	alice = current.refresh(alice.RefreshToken).tokens(t)
	if h := unverifiedHeader(t, alice.AccessToken); h["kid"] != oldKey.ID {
		t.Fatalf("a published key signs: header %v", h)
	}
	if err := consumer.verify(alice.AccessToken); err != nil {
		t.Fatalf("published, consumer's cache from before: %v", err)
	}
	consumer.expire() // the JWKS max-age passes

	// 2. Sign with the new key; the old one is retired, with its private key.
	current = deploy(newKey, oldKey)
	carol := current.login("bob")
	if h := unverifiedHeader(t, carol.AccessToken); h["kid"] != newKey.ID {
		t.Fatalf("new tokens carry kid %v, want %s", h["kid"], newKey.ID)
	}
	for what, tok := range map[string]string{"new key's token": carol.AccessToken, "old key's token": alice.AccessToken} {
		if err := consumer.verify(tok); err != nil {
			t.Fatalf("signing with the new key, %s: %v", what, err)
		}
		expect(t, what+" at the guard", current.me(tok), http.StatusOK, "")
	}
	alice = current.refresh(alice.RefreshToken).tokens(t) // an old key's refresh token
	if err := consumer.verify(alice.AccessToken); err != nil {
		t.Fatalf("refreshed under the new key: %v", err)
	}
	dave := current.login("alice") // under the new key, to drop the old one later
	expect(t, "logout with an old key's refresh token", current.logoutWithRefresh(bob.RefreshToken), http.StatusNoContent, "")

	// 3. Drop the old key after RefreshTTL: its refresh tokens have expired
	// by then; one that has not answers key_unknown: log in again.
	erin := deploy(oldKey).login("bob")
	current = deploy(newKey)
	expectGrant(t, "refresh with a dropped key's token", current.refresh(erin.RefreshToken), "key_unknown")
	expect(t, "logout with a dropped key's token", current.logoutWithRefresh(erin.RefreshToken), http.StatusUnauthorized, "key_unknown")
	expect(t, "the new key's tokens after the drop", current.me(current.refresh(dave.RefreshToken).tokens(t).AccessToken), http.StatusOK, "")
}
