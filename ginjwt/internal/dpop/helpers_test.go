package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tests sign proofs with golang-jwt, an implementation independent of the
// verifier, and encode JWKs and thumbprints with their own code, so the
// verifier cannot agree with itself by accident.

const (
	testMethod = "POST"
	testURI    = "https://api.example.com/resource"
)

// testNow is the fixed time of every test verifier and proof.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var enc = base64.RawURLEncoding

// testKey is a private key with the JWS algorithm it signs under.
type testKey struct {
	alg    string
	method jwt.SigningMethod
	priv   crypto.Signer
}

var (
	keysOnce sync.Once
	keys     struct {
		ec, ec2, p384, ed, rsa, rsaSmall *testKey
	}
)

func mustKey[K crypto.Signer](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

// testKeys generates the test keys once per process: RSA generation is
// slow, the more so under -race.
func testKeys() *struct{ ec, ec2, p384, ed, rsa, rsaSmall *testKey } {
	keysOnce.Do(func() {
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		keys.ec = &testKey{ES256, jwt.SigningMethodES256, mustKey(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))}
		keys.ec2 = &testKey{ES256, jwt.SigningMethodES256, mustKey(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))}
		keys.p384 = &testKey{"ES384", jwt.SigningMethodES384, mustKey(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))}
		keys.ed = &testKey{EdDSA, jwt.SigningMethodEdDSA, ed}
		keys.rsa = &testKey{RS256, jwt.SigningMethodRS256, mustKey(rsa.GenerateKey(rand.Reader, 2048))}
		keys.rsaSmall = &testKey{RS256, jwt.SigningMethodRS256, mustKey(rsa.GenerateKey(rand.Reader, 1024))}
	})
	return &keys
}

// as returns the same key signing under another algorithm (RS256/PS256).
func (k *testKey) as(alg string) *testKey {
	return &testKey{alg, jwt.GetSigningMethod(alg), k.priv}
}

// jwk returns the public JWK of k as a map, encoded by hand.
func (k *testKey) jwk() map[string]any {
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		return map[string]any{
			"kty": "EC",
			"crv": p.Curve.Params().Name,
			"x":   enc.EncodeToString(p.X.FillBytes(make([]byte, size))),
			"y":   enc.EncodeToString(p.Y.FillBytes(make([]byte, size))),
		}
	case ed25519.PrivateKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc.EncodeToString(p.Public().(ed25519.PublicKey))}
	case *rsa.PrivateKey:
		return map[string]any{
			"kty": "RSA",
			"n":   enc.EncodeToString(p.N.Bytes()),
			"e":   enc.EncodeToString(big.NewInt(int64(p.E)).Bytes()),
		}
	}
	panic("unknown key")
}

// wantJKT computes the RFC 7638 thumbprint of a public JWK map: Go's
// encoding/json writes map keys sorted and without whitespace, which is
// the canonical form once the map holds only the required members.
func wantJKT(jwk map[string]any) string {
	req := map[string]any{}
	for _, name := range []string{"kty", "crv", "x", "y", "n", "e"} {
		if v, ok := jwk[name]; ok {
			req[name] = v
		}
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return enc.EncodeToString(sum[:])
}

// header returns a valid proof header for k.
func (k *testKey) header() map[string]any {
	return map[string]any{"typ": "dpop+jwt", "alg": k.alg, "jwk": k.jwk()}
}

// validClaims returns valid claims for testMethod and testURI at testNow.
func validClaims() map[string]any {
	return map[string]any{"jti": "e1j3V_bKic8-LAEB", "htm": testMethod, "htu": testURI, "iat": testNow.Unix()}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// signRaw signs raw header and claims JSON with k under method.
func (k *testKey) signRaw(header, claims []byte) string {
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sig, err := k.method.Sign(input, k.priv)
	if err != nil {
		panic(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// sign signs header and claims maps with k.
func (k *testKey) sign(header, claims map[string]any) string {
	return k.signRaw(mustJSON(header), mustJSON(claims))
}

// proof returns a valid proof signed by k.
func (k *testKey) proof() string { return k.sign(k.header(), validClaims()) }

func testVerifier(tb testing.TB, cfg Config) *Verifier {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	v, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func testRequest() Request { return Request{Method: testMethod, URI: testURI} }
