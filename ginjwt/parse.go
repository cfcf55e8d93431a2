package ginjwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// This file decodes compact JWTs without reflection: the guard's hot path.
// The order of checks, and the error each failure gives, follow golang-jwt's
// parser: structure and decoding first (token_malformed), then the header's
// type, key and algorithm, then the signature (token_invalid), then the
// claims' times, issuer and audience.

var b64url = base64.RawURLEncoding.Strict()

// tokenHeader is the JOSE header: the raw JSON values of the only parameters
// read. jku, x5u, jwk, x5c and any others are ignored, never followed. Values
// are kept raw so that a parameter of the wrong JSON type is refused as
// invalid, not as malformed, as golang-jwt does.
type tokenHeader struct {
	alg, typ, kid, crit string
}

// decodeHeader reads the parameters of a header object; src is
// string(data), which the values are slices of. Its names get the
// checks of claim names (see checkNames): a parameter is read from one
// unescaped, unambiguous name, as any JSON parser would read it.
func decodeHeader(data []byte, src string) (tokenHeader, error) {
	var h tokenHeader
	m, err := walkMembers(data, headerMembers, false)
	if err != nil {
		return h, err
	}
	for {
		name, i, next, done, err := m.next()
		if done || err != nil {
			return h, err
		}
		switch string(name) {
		case "alg":
			h.alg = src[i:next]
		case "typ":
			h.typ = src[i:next]
		case "kid":
			h.kid = src[i:next]
		case "crit":
			h.crit = src[i:next]
		}
	}
}

// param decodes a header parameter that must be a string; "" when absent.
func param(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	return jsonString(raw)
}

// cutToken splits a compact JWS into its three segments. Every byte must be
// base64url or one of the two dots.
func cutToken(raw string) (header, payload, sig string, err error) {
	// The decoder refuses every other byte outside base64url but skips
	// these two.
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		return "", "", "", errors.New("character outside base64url")
	}
	h, rest, ok1 := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return "", "", "", errors.New("token does not have three segments")
	}
	return h, p, s, nil
}

// decodeSegment decodes one canonical base64url segment into the start of
// buf when it has room, else into a new slice, and returns it and the rest
// of buf; what names the segment in the error.
func decodeSegment(seg, what string, buf []byte) (out, rest []byte, err error) {
	if b64url.DecodedLen(len(seg)) > cap(buf) {
		buf = make([]byte, b64url.DecodedLen(len(seg)))
	}
	n, err := b64url.Decode(buf[:cap(buf)], []byte(seg))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return buf[:n:n], buf[n:n], nil
}

// splitToken decodes the three segments of a compact JWS (see cutToken and
// decodeSegment).
func splitToken(raw string) (header, payload, sig []byte, err error) {
	h, p, s, err := cutToken(raw)
	if err != nil {
		return nil, nil, nil, err
	}
	if header, _, err = decodeSegment(h, "header", nil); err != nil {
		return nil, nil, nil, err
	}
	if payload, _, err = decodeSegment(p, "payload", nil); err != nil {
		return nil, nil, nil, err
	}
	if sig, _, err = decodeSegment(s, "signature", nil); err != nil {
		return nil, nil, nil, err
	}
	return header, payload, sig, nil
}

// decodeClaims fills b's claims from a claims payload; src is string(data),
// which every string claim is a slice of, and dates, short lists and the
// confirmation go into b's own memory. The payload must be a valid JSON
// object in valid UTF-8 without duplicate, case-colliding or escaped claim
// names (see members); each known claim must have its JSON type. It is
// read in one pass, validated as it is decoded.
func decodeClaims(data []byte, src string, b *claimsBlock) error {
	if string(data) == "null" {
		return nil // no claims: validation refuses the token
	}
	m, err := walkMembers(data, claimMembers, true)
	if err != nil {
		return err
	}
	free := b.strings[:0]
	for {
		name, i, next, done, err := m.next()
		if done || err != nil {
			return err
		}
		if err := b.setClaim(string(name), src[i:next], &free); err != nil {
			return fmt.Errorf("claim %q: %w", string(name), err) // a copy: data may be on the stack
		}
	}
}

// setClaim decodes the value v of one top-level claim into b's claims;
// lists take their strings from the room left in *free when they fit.
func (b *claimsBlock) setClaim(name, v string, free *[]string) error {
	if v == "null" {
		return nil
	}
	c, dates := &b.claims, &b.dates
	var err error
	switch name {
	case "iss":
		c.Issuer, err = jsonString(v)
	case "sub":
		c.Subject, err = jsonString(v)
	case "jti":
		c.ID, err = jsonString(v)
	case "typ":
		c.Type, err = jsonString(v)
	case "sid":
		c.SessionID, err = jsonString(v)
	case "scope":
		c.Scope, err = jsonString(v)
	case "aud":
		c.Audience, err = jsonAudience(v, free)
	case "roles":
		c.Roles, err = jsonStrings(v, free)
	case "exp":
		c.ExpiresAt, err = jsonDate(v, &dates[0])
	case "nbf":
		c.NotBefore, err = jsonDate(v, &dates[1])
	case "iat":
		c.IssuedAt, err = jsonDate(v, &dates[2])
	case "ver":
		c.UserVersion, err = jsonInt64(v)
	case "gen":
		c.Generation, err = jsonInt64(v)
	case "auth_time":
		c.AuthTime, err = jsonInt64(v)
	case "sst":
		c.SessionStart, err = jsonInt64(v)
	case "acr":
		c.ACR, err = jsonString(v)
	case "amr":
		c.AMR, err = jsonStrings(v, free)
	case "ext":
		c.Extra = json.RawMessage(v)
	case "cnf":
		c.Confirmation, err = jsonConfirmation(v, &b.cnf)
	}
	return err
}

// confirmationNames are the members of a cnf claim this package reads.
var confirmationNames = newMemberNames(errConfirmationNames, []byte("jkt"))

var errConfirmationNames = errors.New("duplicate, case-colliding or escaped cnf members")

// jsonConfirmation decodes a cnf claim: an object whose jkt, when present,
// is a string; a cnf without jkt confirms nothing this package knows, and
// is refused. It is decoded into cnf.
func jsonConfirmation(v string, cnf *Confirmation) (*Confirmation, error) {
	m, err := walkMembers([]byte(v), confirmationNames, false)
	if err != nil {
		return nil, err
	}
	*cnf = Confirmation{}
	for {
		name, i, j, done, err := m.next()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		if string(name) == "jkt" {
			if cnf.JKT, err = jsonString(v[i:j]); err != nil {
				return nil, err
			}
		}
	}
	if cnf.JKT == "" {
		return nil, errors.New("cnf without jkt")
	}
	return cnf, nil
}

// jsonString decodes a JSON string; without escapes it is a slice of v.
func jsonString(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("not a string")
	}
	if !strings.Contains(v, `\`) {
		return v[1 : len(v)-1], nil
	}
	var s string
	err := json.Unmarshal([]byte(v), &s)
	return s, err
}

// jsonAudience decodes an aud claim: a string, or an array of strings.
func jsonAudience(v string, free *[]string) ([]string, error) {
	if !strings.HasPrefix(v, `"`) {
		return jsonStrings(v, free)
	}
	s, err := jsonString(v)
	if err != nil {
		return nil, err
	}
	return appendList(free, s), nil
}

// jsonStrings decodes a JSON array of strings into the room left in *free
// when it fits, else into a new slice; [] is nil.
func jsonStrings(v string, free *[]string) ([]string, error) {
	if !strings.HasPrefix(v, "[") {
		return nil, errors.New("not an array")
	}
	data := []byte(v)
	buf := *free
	start := len(buf)
	i := skipSpace(data, 1)
	for data[i] != ']' {
		end := skipValue(data, i)
		s, err := jsonString(v[i:end])
		if err != nil {
			return nil, err
		}
		buf = append(buf, s) // past the room, a new array
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if len(buf) == start {
		return nil, nil
	}
	if cap(buf) == cap(*free) {
		*free = buf // still in the room
	}
	return buf[start:len(buf):len(buf)], nil
}

// appendList returns the one-string list {s}, in the room left in *free
// when there is some.
func appendList(free *[]string, s string) []string {
	buf := *free
	if len(buf) == cap(buf) {
		return []string{s}
	}
	buf = append(buf, s)
	*free = buf
	return buf[len(buf)-1 : len(buf) : len(buf)]
}

// jsonDate decodes a NumericDate (seconds since the epoch, possibly with a
// fraction) into d, as golang-jwt does: to the second.
func jsonDate(v string, d *jwt.NumericDate) (*jwt.NumericDate, error) {
	if n, ok := smallInteger(v); ok {
		d.Time = time.Unix(n, 0)
		return d, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, errors.New("not a number")
	}
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return nil, errors.New("date out of range")
	}
	d.Time = time.Unix(int64(f), 0)
	return d, nil
}

// smallInteger reads v when it is 1 to 15 decimal digits, without sign or
// fraction: the common NumericDate, which as a float64 is exact and so
// reads the same as through ParseFloat.
func smallInteger(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// jsonInt64 reads an integer claim, as strconv.ParseInt does: up to 19
// digits without sign directly (a user version is a random 63-bit
// number, 19 digits half the time, which ParseInt reads on its slow path),
// anything else through ParseInt.
func jsonInt64(v string) (int64, error) {
	if len(v) == 0 || len(v) > 19 {
		return strconv.ParseInt(v, 10, 64)
	}
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return strconv.ParseInt(v, 10, 64)
		}
		n = n*10 + uint64(c-'0') // 19 digits stay below 2^64
	}
	if n > math.MaxInt64 {
		return strconv.ParseInt(v, 10, 64)
	}
	return int64(n), nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the JSON value starting at i.
func skipValue(data []byte, i int) int {
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// skipString returns the index of the quote closing the string opened at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return i
}
