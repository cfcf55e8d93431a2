package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
)

var errKeyType = errors.New("dpop: unsupported public key")

// Thumbprint returns the RFC 7638 SHA-256 thumbprint, base64url without
// padding, of a public JWK given as JSON. Only EC P-256, OKP Ed25519 and
// RSA keys are accepted; a JWK holding private members, duplicate members
// or a non-canonical encoding is refused with ErrInvalidProof.
func Thumbprint(jwk []byte) (string, error) {
	m, ok := parseObject(jwk)
	if !ok {
		return "", invalid(reasonJWK)
	}
	pub, reason := parsePublicJWK(m)
	if reason != "" {
		return "", invalid(reason)
	}
	return KeyThumbprint(pub)
}

// KeyThumbprint returns the RFC 7638 SHA-256 thumbprint of a public key:
// an *ecdsa.PublicKey on P-256, an ed25519.PublicKey or an *rsa.PublicKey.
// The members hashed are the required ones only, in lexicographic order:
// crv, kty, x, y for EC; crv, kty, x for OKP; e, kty, n for RSA.
func KeyThumbprint(pub crypto.PublicKey) (string, error) {
	var buf []byte
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", errKeyType
		}
		point, err := k.Bytes()
		if err != nil {
			return "", errKeyType
		}
		buf = append(buf, `{"crv":"P-256","kty":"EC","x":"`...)
		buf = b64.AppendEncode(buf, point[1:33])
		buf = append(buf, `","y":"`...)
		buf = b64.AppendEncode(buf, point[33:])
		buf = append(buf, `"}`...)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", errKeyType
		}
		buf = append(buf, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		buf = b64.AppendEncode(buf, k)
		buf = append(buf, `"}`...)
	case *rsa.PublicKey:
		if k.N == nil || k.N.Sign() <= 0 || k.E <= 0 {
			return "", errKeyType
		}
		buf = append(buf, `{"e":"`...)
		buf = b64.AppendEncode(buf, big.NewInt(int64(k.E)).Bytes())
		buf = append(buf, `","kty":"RSA","n":"`...)
		buf = b64.AppendEncode(buf, k.N.Bytes())
		buf = append(buf, `"}`...)
	default:
		return "", errKeyType
	}
	sum := sha256.Sum256(buf)
	return b64.EncodeToString(sum[:]), nil
}
