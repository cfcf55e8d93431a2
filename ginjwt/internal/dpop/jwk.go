package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
)

// Limits on RSA keys. They bound the work a proof can ask for: with an
// 8192-bit modulus and an exponent of 2^31-1, one failing verification
// costs about 40 times an ordinary one. The smallest modulus is set by
// Config.MinRSABits.
const (
	maxRSABits     = 4096
	maxRSAExponent = 65537
)

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). A proof's jwk
// holding any of them is refused, whatever its value.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// b64 is the only base64 form a proof may use: URL alphabet, no padding,
// and no stray bits in the last character, so that each byte string has
// exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// parsePublicJWK turns a JWK object into a public key. It accepts EC
// P-256, OKP Ed25519 and RSA keys in canonical form only: EC coordinates
// and Ed25519 keys at their full fixed length, RSA n and e without leading
// zero octets. Canonical form makes the RFC 7638 thumbprint computed from
// the key equal the one computed from the members as sent.
//
// It returns a reason constant on failure.
func parsePublicJWK(m map[string]json.RawMessage) (crypto.PublicKey, string) {
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, reasonJWKPrivate
		}
	}
	kty, _, ok := stringMember(m, "kty")
	if !ok {
		return nil, reasonJWK
	}
	switch kty {
	case "EC":
		return parseECJWK(m)
	case "OKP":
		return parseOKPJWK(m)
	case "RSA":
		return parseRSAJWK(m)
	}
	return nil, reasonJWK
}

func parseECJWK(m map[string]json.RawMessage) (crypto.PublicKey, string) {
	crv, _, ok := stringMember(m, "crv")
	if !ok {
		return nil, reasonJWK
	}
	if crv != "P-256" {
		return nil, reasonCurve
	}
	x, ok1 := fixedMember(m, "x", 32)
	y, ok2 := fixedMember(m, "y", 32)
	if !ok1 || !ok2 {
		return nil, reasonJWK
	}
	point := make([]byte, 0, 65)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	// ParseUncompressedPublicKey refuses points off the curve and the
	// point at infinity, and coordinates not reduced modulo p.
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, reasonJWK
	}
	return pub, ""
}

func parseOKPJWK(m map[string]json.RawMessage) (crypto.PublicKey, string) {
	crv, _, ok := stringMember(m, "crv")
	if !ok {
		return nil, reasonJWK
	}
	if crv != "Ed25519" {
		return nil, reasonCurve
	}
	x, ok := fixedMember(m, "x", ed25519.PublicKeySize)
	if !ok {
		return nil, reasonJWK
	}
	return ed25519.PublicKey(x), ""
}

func parseRSAJWK(m map[string]json.RawMessage) (crypto.PublicKey, string) {
	n, ok1 := minimalMember(m, "n")
	e, ok2 := minimalMember(m, "e")
	if !ok1 || !ok2 || len(e) > 4 || len(n) > maxRSABits/8 {
		return nil, reasonJWK
	}
	var exp int64
	for _, b := range e {
		exp = exp<<8 | int64(b)
	}
	// Odd, at least 3, and small: real keys use 65537 (or 3).
	if exp < 3 || exp > maxRSAExponent || exp%2 == 0 {
		return nil, reasonJWK
	}
	mod := new(big.Int).SetBytes(n)
	if mod.Bit(0) == 0 {
		return nil, reasonJWK
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, ""
}

// fixedMember decodes a base64url member that must be exactly size bytes.
func fixedMember(m map[string]json.RawMessage, name string, size int) ([]byte, bool) {
	s, present, ok := stringMember(m, name)
	if !present || !ok || len(s) != b64.EncodedLen(size) || !isBase64URL(s) {
		return nil, false
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != size {
		return nil, false
	}
	return b, true
}

// minimalMember decodes a base64url big-endian integer member, refusing
// an empty value and leading zero octets (RFC 7518 §2, Base64urlUInt).
func minimalMember(m map[string]json.RawMessage, name string) ([]byte, bool) {
	s, present, ok := stringMember(m, name)
	if !present || !ok || s == "" || !isBase64URL(s) {
		return nil, false
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) == 0 || b[0] == 0 {
		return nil, false
	}
	return b, true
}

// isBase64URL reports whether s holds only base64url alphabet characters.
// It guards the decoder, which would otherwise skip '\r' and '\n'.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
