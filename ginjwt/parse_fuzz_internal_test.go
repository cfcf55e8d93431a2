package ginjwt

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// referenceVerify checks a token with golang-jwt's parser and the same rules
// as verify: the reference the reflection-free parser must agree with. The
// header's names get refCheckNames' rules, which golang-jwt does not apply;
// the claims' get checkClaimNames', through Claims.UnmarshalJSON.
func referenceVerify(v *verifier, raw string) (*Claims, error) {
	if strings.ContainsAny(raw, "\r\n") {
		return nil, ErrTokenMalformed
	}
	if header, err := base64.RawURLEncoding.DecodeString(strings.SplitN(raw, ".", 2)[0]); err == nil && json.Valid(header) {
		if r := refCheckNames(header, headerNames); !r.ok || r.escapedKey || r.invalidUTF8 {
			return nil, ErrTokenMalformed
		}
	}
	p := jwt.NewParser(jwt.WithValidMethods(v.algs), jwt.WithIssuer(v.issuer), jwt.WithAudience(v.audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(v.leeway), jwt.WithTimeFunc(v.now),
		jwt.WithStrictDecoding())
	claims := new(Claims)
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !sameMediaType(typ, v.kind.headerType) {
			return nil, ErrTokenWrongType
		}
		kid := ""
		if k, ok := t.Header["kid"]; ok {
			s, isString := k.(string)
			if !isString {
				return nil, ErrTokenInvalid
			}
			kid = s
		}
		if _, crit := t.Header["crit"]; crit {
			return nil, ErrTokenInvalid
		}
		sk, ok := v.keys.lookup(kid)
		if !ok || t.Method.Alg() != v.kind.key(sk).method.Alg() {
			return nil, ErrTokenInvalid
		}
		return v.kind.key(sk).verify, nil
	})
	if err != nil {
		return nil, err
	}
	if claims.Type != v.kind.claimType || claims.Subject == "" || claims.SessionID == "" || claims.ID == "" ||
		claims.UserVersion <= 0 || claims.Generation <= 0 || claims.AuthTime <= 0 {
		return nil, ErrTokenInvalid
	}
	return claims, nil
}

// FuzzParseMatchesGolangJWT signs arbitrary header and claims JSON with the
// access key and checks that verify and golang-jwt's parser agree: both
// accept or both refuse, and accepted tokens give the same claims.
func FuzzParseMatchesGolangJWT(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	good := `{"iss":"jwtguard","sub":"alice","aud":["jwtguard"],"exp":1800000900,"nbf":1800000000,"iat":1800000000,"jti":"j","typ":"access","sid":"s","ver":7,"gen":2,"auth_time":1800000000,"roles":["admin"],"scope":"a b","ext":{"name":"A"}}`
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, good)
	f.Add(`{"alg":"HS256","typ":"at+jwt","kid":null}`, good)
	f.Add(`{"alg":"HS256","typ":"application/AT+JWT"}`, strings.Replace(good, `["jwtguard"]`, `"jwtguard"`, 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"exp":1800000900`, `"exp":1800000900.9`, 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"sub":"alice"`, `"sub":"al\u0069ce"`, 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"roles":["admin"]`, `"roles":null`, 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, `null`)
	f.Add(`{"alg":"HS256","typ":"at+jwt","crit":["x"]}`, good)
	f.Add(`{"alg":"none","typ":"at+jwt"}`, good)
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"ver":7`, `"ver":7.5`, 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt","\u0063rit":["foo"]}`, good)
	f.Add(`{"alg":"HS256","typ":"at+jwt","\u0061lg":"none"}`, good)
	f.Add(`{"alg":"none","typ":"at+jwt","alg":"HS256"}`, good)
	f.Add(`{"alg":"HS256","typ":"at+jwt","ALG":"none"}`, good)
	f.Add("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"\u212aid\":\"x\"}", good) // Kelvin sign: folds to kid
	f.Add("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x\":\"\xff\"}", good)
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"sub":"alice"`, "\"sub\":\"al\xffce\"", 1))
	f.Add(`{"alg":"HS256","typ":"at+jwt"}`, strings.Replace(good, `"name":"A"`, "\"name\":\"\xed\xa0\x80\"", 1))
	keys, err := newKeyring([]Key{HS256([]byte("0123456789abcdef0123456789abcdef"))})
	if err != nil {
		f.Fatal(err)
	}
	o := Options{Issuer: "jwtguard", Audience: "jwtguard", Leeway: 10 * time.Second, MaxTokenSize: DefaultMaxTokenSize,
		Now: func() time.Time { return now }}
	v := newVerifier(accessKind, keys, &o, true)
	f.Fuzz(func(t *testing.T, header, payload string) {
		enc := base64.RawURLEncoding
		input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
		sig, err := jwt.SigningMethodHS256.Sign(input, keys.signer.access.sign)
		if err != nil {
			t.Fatal(err)
		}
		token := input + "." + enc.EncodeToString(sig)
		got, gotErr := v.verify(token)
		want, wantErr := referenceVerify(v, token)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("verify: %v; golang-jwt: %v\nheader %s\nclaims %s", gotErr, wantErr, header, payload)
		}
		if gotErr == nil && !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("claims differ:\nverify     %+v\ngolang-jwt %+v", got, want)
		}
		if gotErr != nil && ErrorCode(gotErr) == "server_error" {
			t.Fatalf("verify error wraps no sentinel: %v", gotErr)
		}
	})
}

// normalize makes two Claims comparable: times by value, empty lists as nil.
func normalize(c *Claims) map[string]any {
	date := func(d *jwt.NumericDate) any {
		if d == nil {
			return nil
		}
		return d.Unix()
	}
	list := func(l []string) any {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return map[string]any{
		"iss": c.Issuer, "sub": c.Subject, "aud": list(c.Audience), "exp": date(c.ExpiresAt), "nbf": date(c.NotBefore),
		"iat": date(c.IssuedAt), "jti": c.ID, "typ": c.Type, "sid": c.SessionID, "ver": c.UserVersion, "gen": c.Generation,
		"auth_time": c.AuthTime, "roles": list(c.Roles), "scope": c.Scope, "ext": string(c.Extra),
	}
}

// jsonInt64 reads what strconv.ParseInt reads, with the same error.
func FuzzJSONInt64MatchesParseInt(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-7", "+7", "01", "123456789012345678", "1234567890123456789",
		"9223372036854775807", "9223372036854775808", "9999999999999999999", "12345678901234567890",
		"-9223372036854775808", "1e3", "1.0", "١٢", " 1", "1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := jsonInt64(s)
		want, wantErr := strconv.ParseInt(s, 10, 64)
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("jsonInt64(%q) = %d, %v; ParseInt: %d, %v", s, got, gotErr, want, wantErr)
		}
	})
}
