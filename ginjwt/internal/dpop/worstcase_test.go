package dpop

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// BenchmarkVerifyWorstCaseRSA measures the most expensive proof an
// attacker can send without a real key: the largest accepted modulus and
// public exponent, and a signature that fails.
func BenchmarkVerifyWorstCaseRSA(b *testing.B) {
	jwk := map[string]any{"kty": "RSA", "n": enc.EncodeToString(oddModulus(maxRSABits)), "e": enc.EncodeToString(big.NewInt(maxRSAExponent).Bytes())}
	header := map[string]any{"typ": "dpop+jwt", "alg": RS256, "jwk": jwk}
	input := enc.EncodeToString(mustJSON(header)) + "." + enc.EncodeToString(mustJSON(validClaims()))
	sig := make([]byte, maxRSABits/8)
	sig[1] = 1
	proof := input + "." + enc.EncodeToString(sig)
	v := testVerifier(b, Config{})
	if _, err := v.Verify(proof, testRequest()); err == nil {
		b.Fatal("accepted")
	} else if ce, ok := err.(*checkError); !ok || ce.reason != reasonSignature {
		b.Fatalf("refused before the signature check: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Verify(proof, testRequest())
	}
}

// oddModulus returns a random odd number of exactly bits bits: not an RSA
// modulus, but verification costs the same.
func oddModulus(bits int) []byte {
	n := make([]byte, bits/8)
	if _, err := rand.Read(n); err != nil {
		panic(err)
	}
	n[0] |= 0x80
	n[len(n)-1] |= 1
	return n
}
