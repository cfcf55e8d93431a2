package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
)

// keyFits reports whether pub is the kind of key alg needs, returning a
// reason constant when it is not.
func (v *Verifier) keyFits(alg string, pub crypto.PublicKey) string {
	switch alg {
	case ES256:
		if _, ok := pub.(*ecdsa.PublicKey); ok {
			return ""
		}
	case EdDSA, Ed25519:
		if _, ok := pub.(ed25519.PublicKey); ok {
			return ""
		}
	case RS256, PS256:
		if k, ok := pub.(*rsa.PublicKey); ok {
			if k.N.BitLen() < v.minRSABits {
				return reasonRSASize
			}
			return ""
		}
	}
	return reasonKeyMismatch
}

// verifySignature checks sig over the JWS signing input with pub under
// alg, and only under alg: the algorithm is pinned by the caller, never
// inferred from the key. A key of another type than alg needs fails.
func verifySignature(alg string, pub crypto.PublicKey, input string, sig []byte) bool {
	switch alg {
	case ES256:
		// JWS encodes an ECDSA signature as R||S, 32 octets each
		// (RFC 7518 §3.4), not as ASN.1.
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return false
		}
		sum := sha256.Sum256([]byte(input))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k, sum[:], r, s)
	case EdDSA, Ed25519:
		k, ok := pub.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, []byte(input), sig)
	case RS256:
		k, ok := pub.(*rsa.PublicKey)
		sum := sha256.Sum256([]byte(input))
		return ok && rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	case PS256:
		// RFC 7518 §3.5: the salt is as long as the hash.
		k, ok := pub.(*rsa.PublicKey)
		sum := sha256.Sum256([]byte(input))
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		return ok && rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, opts) == nil
	}
	return false
}
