package ginjwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// nonces are the server's DPoP nonces (RFC 9449 §8, §9), stateless: the
// nonce of a period is the period's number and a MAC of it, so every
// instance that shares Keys issues and accepts the same nonces without
// storing any. A nonce is handed out during its period and accepted during
// it and the next, so a client that fetched one just before a rotation is
// not refused.
type nonces struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// nonceMACSize is how many bytes of the HMAC a nonce keeps: 128 bits.
const nonceMACSize = 16

// period is the number of the lifetime-long period t falls in.
func (n *nonces) period(t time.Time) uint64 {
	return uint64(t.UnixNano() / int64(n.lifetime))
}

// make returns the nonce of a period: base64url(period, 8 bytes big-endian
// || HMAC-SHA256(key, "dpop nonce" || period)[:16]).
func (n *nonces) make(period uint64) string {
	var b [8 + nonceMACSize]byte
	binary.BigEndian.PutUint64(b[:8], period)
	mac := hmac.New(sha256.New, n.key)
	mac.Write([]byte("dpop nonce"))
	mac.Write(b[:8])
	copy(b[8:], mac.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// current returns the nonce to hand out now.
func (n *nonces) current() string { return n.make(n.period(n.now())) }

// valid reports whether nonce is the server's, of the current or the
// previous period.
func (n *nonces) valid(nonce string) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(raw) != 8+nonceMACSize {
		return false
	}
	p, now := binary.BigEndian.Uint64(raw[:8]), n.period(n.now())
	if p != now && p+1 != now {
		return false
	}
	return hmac.Equal([]byte(n.make(p)), []byte(nonce))
}
