package ginjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"

	"github.com/gin-gonic/gin"
)

// JWK is one public key of a JSON Web Key Set (RFC 7517, RFC 7518 §6, RFC 8037).
type JWK struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid,omitempty"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
	N         string `json:"n,omitempty"`   // RSA modulus
	E         string `json:"e,omitempty"`   // RSA exponent
	Curve     string `json:"crv,omitempty"` // EC and OKP
	X         string `json:"x,omitempty"`   // EC and OKP
	Y         string `json:"y,omitempty"`   // EC
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicKeys returns the public keys of the configured asymmetric keys, for
// other services that verify access tokens. HMAC secrets and private keys are
// never part of it.
func (a *Auth) PublicKeys() JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, k := range a.keys.all {
		if k.public == nil {
			continue
		}
		jwk := JWK{KeyID: k.id, Use: "sig", Algorithm: k.access.method.Alg()}
		switch pub := k.public.(type) {
		case *rsa.PublicKey:
			jwk.KeyType, jwk.N, jwk.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			size := (pub.Curve.Params().BitSize + 7) / 8
			jwk.KeyType, jwk.Curve = "EC", pub.Curve.Params().Name
			jwk.X, jwk.Y = b64(pub.X.FillBytes(make([]byte, size))), b64(pub.Y.FillBytes(make([]byte, size)))
		case ed25519.PublicKey:
			jwk.KeyType, jwk.Curve, jwk.X = "OKP", "Ed25519", b64(pub)
		default:
			continue
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set
}

// JWKSHandler returns a route serving PublicKeys as application/json, with a
// short public cache lifetime, e.g. at /.well-known/jwks.json.
func (a *Auth) JWKSHandler() gin.HandlerFunc {
	set := a.PublicKeys()
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.JSON(http.StatusOK, set)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
