package ginjwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
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

// manyNames returns a JSON object of n distinct members "c0" to "c<n-1>"
// followed by rest, the members of another object without its braces.
func manyNames(n int, rest string) []byte {
	b := []byte("{")
	for i := range n {
		b = strconv.AppendQuote(b, "c"+strconv.Itoa(i))
		b = append(b, ":0,"...)
	}
	return append(append(b, rest...), '}')
}

// fastest returns the shortest of three timed runs of f.
func fastest(f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// The name checks take time linear in the number of names: on 50,000
// distinct names they take a small multiple of json.Valid (about 5), which
// the parser runs on the same bytes first. The check that compared each
// name with every other took about 3,000 times as long as json.Valid.
func TestNameChecksTakeLinearTime(t *testing.T) {
	data := manyNames(50_000, `"sub":"a"`)
	valid := fastest(func() { json.Valid(data) })
	for name, check := range map[string]func([]byte) error{"checkClaimNames": checkClaimNames, "checkHeaderNames": checkHeaderNames} {
		var err error
		took := fastest(func() { err = check(data) })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v; json.Valid: %v", name, took, valid)
		if took > 40*valid {
			t.Errorf("%s took %v on 50,000 names, json.Valid %v: not linear", name, took, valid)
		}
	}
	dup := manyNames(50_000, `"c49999":1`)
	if err := checkClaimNames(dup); err != errClaimNames {
		t.Errorf("a duplicate after 50,000 names: %v, want %v", err, errClaimNames)
	}
}

// A token of 5,000 claims (MaxTokenSize raised to allow it) verifies, and
// quickly; one of them repeated is refused.
func TestVerifyManyClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := `"iss":"jwtguard","sub":"alice","aud":"jwtguard","exp":1800000900,"jti":"j","typ":"access","sid":"s","ver":7,"gen":2,"auth_time":1800000000`
	keys, err := newKeyring([]Key{HS256([]byte("0123456789abcdef0123456789abcdef"))})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Issuer: "jwtguard", Audience: "jwtguard", MaxTokenSize: 1 << 20, Now: func() time.Time { return now }}
	v := newVerifier(accessKind, keys, &o, true)
	sign := func(payload []byte) string {
		enc := base64.RawURLEncoding
		input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt"}`)) + "." + enc.EncodeToString(payload)
		sig, err := jwt.SigningMethodHS256.Sign(input, keys.signer.access.sign)
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + enc.EncodeToString(sig)
	}
	start := time.Now()
	c, err := v.verify(sign(manyNames(5_000, good)))
	if err != nil || c.Subject != "alice" {
		t.Fatalf("verify: %+v, %v", c, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("verifying 5,000 claims took %v", took)
	}
	if _, err := v.verify(sign(manyNames(5_000, good+`,"c4999":1`))); !errors.Is(err, ErrTokenMalformed) {
		t.Errorf("a duplicate after 5,000 claims: %v, want ErrTokenMalformed", err)
	}
}

// The name checks allocate nothing for a usual header, nor for claims of up
// to 32 names: more than a token of this package has.
func TestNameChecksDoNotAllocate(t *testing.T) {
	header := []byte(`{"alg":"HS256","kid":"2026-11","typ":"at+jwt"}`)
	claims := manyNames(31, `"sub":"a"`)
	if n := testing.AllocsPerRun(100, func() { _ = checkHeaderNames(header) }); n != 0 {
		t.Errorf("checkHeaderNames: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = checkClaimNames(claims) }); n != 0 {
		t.Errorf("checkClaimNames on 32 names: %v allocations", n)
	}
}

// BenchmarkCheckClaimNames checks the payload of a usual access token, and
// payloads of many claims: the time per name stays flat.
func BenchmarkCheckClaimNames(b *testing.B) {
	usual := []byte(`{"iss":"jwtguard","sub":"user-12345","aud":["jwtguard"],"exp":1800000900,"nbf":1800000000,"iat":1800000000,"jti":"ZnV6ei1hY2Nlc3MtanRpMQ","typ":"access","sid":"ZnV6ei1zZXNzaW9uLWlkMQ","ver":1099511627776,"gen":3,"auth_time":1800000000,"roles":["admin"],"ext":{"name":"A"}}`)
	for _, c := range []struct {
		names int
		data  []byte
	}{{14, usual}, {5_001, manyNames(5_000, `"sub":"a"`)}, {50_001, manyNames(50_000, `"sub":"a"`)}} {
		b.Run(strconv.Itoa(c.names), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := checkClaimNames(c.data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.names), "ns/name")
		})
	}
}

// A token with any byte outside base64url and the two dots is refused,
// wherever the byte is, including the new lines the base64 decoder would
// skip: a token has one spelling.
func TestBytesOutsideBase64URLRefused(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	access, _ := fuzzRealTokens(t, a)
	if _, err := a.access.verify(access); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
	dot1 := strings.IndexByte(access, '.')
	dot2 := dot1 + 1 + strings.IndexByte(access[dot1+1:], '.')
	for b := range 256 {
		c := byte(b)
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			continue
		}
		for _, at := range []int{0, 5, dot1, dot1 + 1, dot2 - 3, dot2 + 1, len(access) - 2, len(access)} {
			bad := access[:at] + string([]byte{c}) + access[at:]
			if _, err := a.access.verify(bad); !errors.Is(err, ErrTokenMalformed) {
				t.Fatalf("byte %#x at %d: err %v, want ErrTokenMalformed", c, at, err)
			}
		}
	}
}

// The verifier remembers the key of the last header it accepted, for that
// exact header only: another header, however close, is decoded and checked
// in full, before and after, and a header refused is never remembered.
func TestHeaderMemoIsExact(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	access, _ := fuzzRealTokens(t, a)
	h, rest, _ := strings.Cut(access, ".")
	header := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	decoded, _ := base64.RawURLEncoding.DecodeString(h)
	for _, tc := range []struct {
		name, header string
		want         error
	}{
		{"the token", h, nil},
		{"alg none", header(strings.Replace(string(decoded), `"HS256"`, `"none"`, 1)), ErrTokenInvalid},
		{"another kid", header(strings.Replace(string(decoded), `"hs"`, `"ed"`, 1)), ErrTokenInvalid},
		{"another type", header(strings.Replace(string(decoded), `at+jwt`, `rt+jwt`, 1)), ErrTokenWrongType},
		{"white space added", header(" " + string(decoded)), ErrTokenInvalid},
		{"the token again", h, nil},
		{"a malformed header", h[:len(h)-1] + "!", ErrTokenMalformed},
		{"the token once more", h, nil},
	} {
		_, err := a.access.verify(tc.header + "." + rest)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if hk := a.access.lastHeader.last.Load(); hk == nil || hk.segment != h {
			t.Fatalf("%s: the verifier remembers %+v, want the token's header only", tc.name, hk)
		}
	}
}
