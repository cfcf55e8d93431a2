package ginjwt

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// appendClaims appends the JSON encoding of c to dst: the bytes
// json.Marshal(c) gives, members in the same order, strings escaped the
// same way (TestAppendClaimsMatchesMarshal checks it), without reflection
// and without an allocation of its own. Tokens are signed on every login
// and refresh; encoding their claims through encoding/json and golang-jwt's
// NumericDate and ClaimStrings marshalers cost 25 allocations a token.
// When the application changed golang-jwt's encoding globals away from
// their defaults (TimePrecision, MarshalSingleStringAsArray), it falls back
// to json.Marshal.
func appendClaims(dst []byte, c *Claims) ([]byte, error) {
	if jwt.TimePrecision != time.Second {
		b, err := json.Marshal(c)
		return append(dst, b...), err
	}
	e := claimsEncoder{b: append(dst, '{')}
	e.optString("iss", c.Issuer)
	e.optString("sub", c.Subject)
	if len(c.Audience) > 0 {
		e.name("aud")
		if len(c.Audience) == 1 && !jwt.MarshalSingleStringAsArray {
			e.b = appendJSONString(e.b, c.Audience[0])
		} else {
			e.b = appendJSONStrings(e.b, c.Audience)
		}
	}
	e.optDate("exp", c.ExpiresAt)
	e.optDate("nbf", c.NotBefore)
	e.optDate("iat", c.IssuedAt)
	e.optString("jti", c.ID)
	e.string("typ", c.Type)
	e.string("sid", c.SessionID)
	e.int("ver", c.UserVersion)
	e.int("gen", c.Generation)
	e.int("auth_time", c.AuthTime)
	if c.SessionStart != 0 {
		e.int("sst", c.SessionStart)
	}
	e.optString("acr", c.ACR)
	e.optStrings("amr", c.AMR)
	e.optStrings("roles", c.Roles)
	e.optString("scope", c.Scope)
	if len(c.Extra) > 0 {
		// Extra is JSON that json.Marshal produced (Identity.Extra) or that
		// came, verified, from a token this package signed: it is valid and
		// already in json.Marshal's form.
		e.name("ext")
		e.b = append(e.b, c.Extra...)
	}
	if c.Confirmation != nil {
		e.name("cnf")
		e.b = append(e.b, '{')
		inner := claimsEncoder{b: e.b}
		inner.string("jkt", c.Confirmation.JKT)
		e.b = append(inner.b, '}')
	}
	return append(e.b, '}'), nil
}

// appendTokenResponse appends the JSON encoding of r to dst: the bytes
// json.Marshal(r) gives (TestAppendTokenResponseMatchesMarshal).
func appendTokenResponse(dst []byte, r *TokenResponse) []byte {
	e := claimsEncoder{b: append(dst, '{')}
	e.optString("access_token", r.AccessToken)
	e.string("token_type", r.TokenType)
	e.int("expires_in", r.ExpiresIn)
	e.optString("refresh_token", r.RefreshToken)
	if r.RefreshExpiresIn != 0 {
		e.int("refresh_expires_in", r.RefreshExpiresIn)
	}
	e.optString("csrf_token", r.CSRFToken)
	return append(e.b, '}')
}

// claimsEncoder appends the members of one JSON object.
type claimsEncoder struct {
	b    []byte
	more bool // a member was written: the next needs a comma
}

// name appends a member's name, which is plain ASCII.
func (e *claimsEncoder) name(n string) {
	if e.more {
		e.b = append(e.b, ',')
	}
	e.more = true
	e.b = append(e.b, '"')
	e.b = append(e.b, n...)
	e.b = append(e.b, '"', ':')
}

func (e *claimsEncoder) string(n, v string) {
	e.name(n)
	e.b = appendJSONString(e.b, v)
}

func (e *claimsEncoder) optString(n, v string) {
	if v != "" {
		e.string(n, v)
	}
}

func (e *claimsEncoder) optStrings(n string, v []string) {
	if len(v) > 0 {
		e.name(n)
		e.b = appendJSONStrings(e.b, v)
	}
}

func (e *claimsEncoder) int(n string, v int64) {
	e.name(n)
	e.b = strconv.AppendInt(e.b, v, 10)
}

// optDate appends a NumericDate in whole seconds, as golang-jwt's
// MarshalJSON does at its default precision.
func (e *claimsEncoder) optDate(n string, d *jwt.NumericDate) {
	if d != nil {
		e.int(n, d.Truncate(time.Second).Unix())
	}
}

func appendJSONStrings(dst []byte, v []string) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it by default: '"', '\\', control characters, '<', '>' and '&'
// (HTML-safe), U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
