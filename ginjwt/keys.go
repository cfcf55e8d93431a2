package ginjwt

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// MinHMACKeySize is the shortest HMAC secret New accepts, in bytes.
const MinHMACKeySize = 32

// Key is a signing key with its pinned algorithm. A token is only ever
// verified with the algorithm of the key its "kid" names, so "alg": "none"
// and algorithm confusion cannot happen.
type Key struct {
	// ID is the "kid" header of tokens signed with the key. Optional with a
	// single key; required and unique when several keys are configured.
	ID string
	// Algorithm is "HS256", "HS384" or "HS512".
	Algorithm string
	// Secret is the HMAC secret: at least 32 random bytes.
	Secret []byte
}

// HS256 returns an HS256 key for secret with no key id.
func HS256(secret []byte) Key { return Key{Algorithm: "HS256", Secret: secret} }

// signingKey is a validated Key ready for use. Access tokens are signed with
// the configured secret; refresh tokens with a key derived from it (HKDF), so
// a service that shares the secret to verify access tokens can still never
// mint or accept refresh tokens as access tokens.
type signingKey struct {
	id      string
	method  jwt.SigningMethod
	access  []byte
	refresh []byte
}

// keyring holds the configured keys: the first signs, all verify.
type keyring struct {
	signer *signingKey
	byID   map[string]*signingKey
	algs   []string
}

var hmacMethods = map[string]jwt.SigningMethod{
	"HS256": jwt.SigningMethodHS256,
	"HS384": jwt.SigningMethodHS384,
	"HS512": jwt.SigningMethodHS512,
}

// newKeyring validates keys and derives the refresh-token keys.
func newKeyring(keys []Key) (*keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: Options.Keys is empty; configure at least one key", ErrInvalidOptions)
	}
	kr := &keyring{byID: make(map[string]*signingKey, len(keys))}
	seenAlg := map[string]bool{}
	for i, k := range keys {
		method, ok := hmacMethods[k.Algorithm]
		if !ok {
			return nil, fmt.Errorf("%w: Options.Keys[%d].Algorithm %q is not supported (use HS256, HS384 or HS512)", ErrInvalidOptions, i, k.Algorithm)
		}
		if len(k.Secret) < MinHMACKeySize {
			return nil, fmt.Errorf("%w: Options.Keys[%d].Secret is %d bytes; HMAC secrets need at least %d random bytes", ErrInvalidOptions, i, len(k.Secret), MinHMACKeySize)
		}
		if len(keys) > 1 && k.ID == "" {
			return nil, fmt.Errorf("%w: Options.Keys[%d].ID is empty; every key needs an ID when several are configured", ErrInvalidOptions, i)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: Options.Keys[%d].ID %q is used twice", ErrInvalidOptions, i, k.ID)
		}
		refresh, err := hkdf.Key(sha256.New, k.Secret, nil, "jwtguard refresh token v1", len(k.Secret))
		if err != nil {
			return nil, fmt.Errorf("%w: Options.Keys[%d]: deriving the refresh key: %w", ErrInvalidOptions, i, err)
		}
		sk := &signingKey{
			id:      k.ID,
			method:  method,
			access:  append([]byte(nil), k.Secret...),
			refresh: refresh,
		}
		kr.byID[k.ID] = sk
		if i == 0 {
			kr.signer = sk
		}
		if !seenAlg[k.Algorithm] {
			seenAlg[k.Algorithm] = true
			kr.algs = append(kr.algs, k.Algorithm)
		}
	}
	return kr, nil
}

// lookup returns the key a token header names. kid is only ever a map key.
func (kr *keyring) lookup(kid string) (*signingKey, bool) {
	k, ok := kr.byID[kid]
	return k, ok
}
