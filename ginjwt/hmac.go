package ginjwt

import (
	"crypto"
	"crypto/hmac"
	"errors"
	"hash"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// macPool reuses HMAC states of one key: verifying an HMAC token then costs
// no allocation. Asymmetric signatures go through golang-jwt.
type macPool struct{ pool sync.Pool }

// macState is one pooled HMAC with a scratch buffer for the signing input.
type macState struct {
	mac hash.Hash
	buf []byte
}

func newMACPool(h crypto.Hash, key []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return &macState{mac: hmac.New(h.New, key)} }
	return p
}

var errSignature = errors.New("signature is invalid")

// verify checks an HMAC signature in constant time.
func (p *macPool) verify(signingInput string, sig []byte) error {
	st := p.pool.Get().(*macState)
	defer p.pool.Put(st)
	st.mac.Reset()
	st.buf = append(st.buf[:0], signingInput...)
	st.mac.Write(st.buf)
	var sum [64]byte
	if !hmac.Equal(sig, st.mac.Sum(sum[:0])) {
		return errSignature
	}
	return nil
}

// verifySignature checks sig over signingInput with k.
func (k *jwtKey) verifySignature(signingInput string, sig []byte) error {
	if k.macs != nil {
		return k.macs.verify(signingInput, sig)
	}
	return k.method.Verify(signingInput, sig, k.verify)
}

// hmacPool returns a pool for an HMAC method and key, or nil for others.
func hmacPool(method jwt.SigningMethod, key any) *macPool {
	m, ok := method.(*jwt.SigningMethodHMAC)
	secret, isBytes := key.([]byte)
	if !ok || !isBytes {
		return nil
	}
	return newMACPool(m.Hash, secret)
}
