// Package dpoptest makes DPoP proofs (RFC 9449) for tests of handlers
// behind a guard with ginjwt.Options.DPoP, the way a client would: a key
// pair held by the test, and a fresh proof per request.
//
//	key := dpoptest.NewKey()
//	req.Header.Set("DPoP", key.Proof("POST", "https://api.example.com/auth/login", ""))
//	// … the login answers a DPoP-bound access token …
//	req.Header.Set("Authorization", "DPoP "+accessToken)
//	req.Header.Set("DPoP", key.Proof("GET", "https://api.example.com/api/me", accessToken))
//
// The htu must be the server's DPoPOptions.BaseURL followed by the path.
package dpoptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// Key is a client's ES256 DPoP key.
type Key struct {
	priv   *ecdsa.PrivateKey
	header string // base64url JOSE header of its proofs
	jkt    string
}

var b64 = base64.RawURLEncoding

// NewKey returns a new P-256 key. It panics if the system's random source
// fails, which crypto/rand never lets happen.
func NewKey() *Key {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	x, y := b64.EncodeToString(pub[1:33]), b64.EncodeToString(pub[33:])
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256",
		"jwk": map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y}})
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`)) // RFC 7638
	return &Key{priv: priv, header: b64.EncodeToString(h), jkt: b64.EncodeToString(sum[:])}
}

// Thumbprint is the key's RFC 7638 thumbprint: the cnf.jkt of the tokens
// bound to it.
func (k *Key) Thumbprint() string { return k.jkt }

// Proof returns a proof for a request of method to htu, issued now, with a
// random jti, made for accessToken when it is not empty (ath). Each option
// may change the claims before signing: a nonce, an old iat, a wrong htm.
func (k *Key) Proof(method, htu, accessToken string, options ...func(claims map[string]any)) string {
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := map[string]any{"jti": b64.EncodeToString(jti), "htm": method, "htu": htu, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	for _, o := range options {
		o(claims)
	}
	c, _ := json.Marshal(claims)
	input := k.header + "." + b64.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

// WithNonce sets the proof's nonce (DPoPOptions.NonceLifetime).
func WithNonce(nonce string) func(map[string]any) {
	return func(c map[string]any) { c["nonce"] = nonce }
}

// IssuedAt sets the proof's iat.
func IssuedAt(t time.Time) func(map[string]any) {
	return func(c map[string]any) { c["iat"] = t.Unix() }
}
