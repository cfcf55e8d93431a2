package ginjwt

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerifyAccess is the CPU part of a cold guard check: verifying an
// HS256 access token without the token cache.
func BenchmarkVerifyAccess(b *testing.B) {
	a := &Auth{}
	o := Options{Issuer: "jwtguard", Audience: "jwtguard", AccessTTL: time.Minute, RefreshTTL: time.Hour, SessionMaxAge: time.Hour,
		Leeway: time.Second, MaxTokenSize: DefaultMaxTokenSize, Now: time.Now}
	keys, err := newKeyring([]Key{HS256([]byte("0123456789abcdef0123456789abcdef"))})
	if err != nil {
		b.Fatal(err)
	}
	a.opts, a.keys = o, keys
	v := newVerifier(accessKind, keys, &o, true)
	now := time.Now()
	p, err := a.issuePair(now, Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "user-12345"}, SessionID: newID(), UserVersion: 1 << 40, Generation: 3, AuthTime: now.Unix()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.verify(p.access); err != nil {
			b.Fatal(err)
		}
	}
}
