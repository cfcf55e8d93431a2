package dpop

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds the verifier valid proofs and mutations of them. It
// checks that Verify never panics, returns only the documented errors,
// and accepts a proof only if an independent implementation (golang-jwt)
// verifies its signature with the returned key, the returned JKT is that
// key's thumbprint and the thumbprint of the header's jwk, and the claims
// match the request.
func FuzzVerify(f *testing.F) {
	k := testKeys()
	const token = "mF_9.B5f-4.1JqM"
	for _, key := range []*testKey{k.ec, k.ed, k.rsa, k.rsa.as(PS256)} {
		p := key.proof()
		f.Add(p, "")
		f.Add(key.sign(key.header(), with(validClaims(), "ath", AccessTokenHash(token), "nonce", "n")), token)
		f.Add(flipSig(p), "")
		f.Add(p+"."+p, "")
		f.Add(p[:len(p)/2], "")
		f.Add(replacePart(p, 1, enc.EncodeToString(mustJSON(with(validClaims(), "htm", "GET")))), "")
	}
	f.Add(k.ec.sign(with(k.ec.header(), "alg", "none"), validClaims()), "")
	f.Add(k.ec.sign(withJWK(k.ec, "d", "AAAA"), validClaims()), "")
	f.Add(k.ec.signRaw([]byte(`{"typ":"dpop+jwt","typ":"dpop+jwt"}`), mustJSON(validClaims())), "")
	f.Add("e30.e30.e30", "")
	f.Add("..", "")

	v := testVerifier(f, Config{})
	f.Fuzz(func(t *testing.T, proof, accessToken string) {
		req := testRequest()
		req.AccessToken = accessToken
		p, err := v.Verify(proof, req)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) && !errors.Is(err, ErrUseNonce) && !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("undocumented error %v", err)
			}
			if p != (Proof{}) {
				t.Fatalf("Proof with an error")
			}
			assertNoLeak(t, err, proof, req)
			return
		}
		checkAccepted(t, proof, req, p)
	})
}

// checkAccepted re-verifies an accepted proof independently.
func checkAccepted(t *testing.T, proof string, req Request, p Proof) {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 || len(proof) > DefaultMaxProofSize {
		t.Fatalf("accepted a proof of %d parts, %d bytes", len(parts), len(proof))
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("accepted a bad signature encoding: %v", err)
	}
	switch p.Key.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey, *rsa.PublicKey:
	default:
		t.Fatalf("accepted a key of type %T", p.Key)
	}
	method := jwt.GetSigningMethod(p.Algorithm)
	if method == nil || algIndex(p.Algorithm) < 0 {
		t.Fatalf("accepted alg %q", p.Algorithm)
	}
	if err := method.Verify(parts[0]+"."+parts[1], sig, p.Key); err != nil {
		t.Fatalf("accepted a proof golang-jwt refuses: %v", err)
	}
	jkt, err := KeyThumbprint(p.Key)
	if err != nil || jkt != p.JKT {
		t.Fatalf("JKT %q is not the key's thumbprint %q (%v)", p.JKT, jkt, err)
	}
	// Decode into maps: struct decoding would match member names
	// case-insensitively, unlike the verifier.
	var header, claims map[string]any
	h, _ := enc.DecodeString(parts[0])
	c, _ := enc.DecodeString(parts[1])
	if err := decodeMap(h, &header); err != nil || header["typ"] != "dpop+jwt" || header["alg"] != p.Algorithm {
		t.Fatalf("accepted header typ %v alg %v (%v)", header["typ"], header["alg"], err)
	}
	if fromJWK, err := Thumbprint(mustJSON(header["jwk"])); err != nil || fromJWK != p.JKT {
		t.Fatalf("JKT %q differs from the jwk's thumbprint %q (%v)", p.JKT, fromJWK, err)
	}
	if err := decodeMap(c, &claims); err != nil || claims["htm"] != req.Method || claims["jti"] != p.JTI || p.JTI == "" {
		t.Fatalf("accepted claims htm %v jti %v (%v)", claims["htm"], claims["jti"], err)
	}
	if req.AccessToken != "" && claims["ath"] != AccessTokenHash(req.AccessToken) {
		t.Fatalf("accepted ath %v", claims["ath"])
	}
}

// decodeMap decodes a JSON object keeping numbers as text, so members the
// verifier ignores (such as 1e400) do not fail the oracle.
func decodeMap(data []byte, m *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(m)
}
