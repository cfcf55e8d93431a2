package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, in the "typ" claim. The JOSE header "typ" says the same
// (explicit typing, RFC 8725 §3.11): "at+jwt", the media type of RFC 9068,
// for access tokens and "rt+jwt" for refresh tokens.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

const (
	headerTypeAccess  = "at+jwt"
	headerTypeRefresh = "rt+jwt"
)

// Claims are the claims of access and refresh tokens. The guard stores the
// verified Claims of a request in the gin context; read them with
// ClaimsFromContext.
type Claims struct {
	jwt.RegisteredClaims

	// Type is TypeAccess or TypeRefresh.
	Type string `json:"typ"`
	// SessionID identifies the session (one login on one device).
	SessionID string `json:"sid"`
	// UserVersion is the subject's version when the token was issued; it
	// advances on RevokeUser.
	UserVersion int64 `json:"ver"`
	// Generation is the session's generation when the token was issued; it
	// advances on every refresh.
	Generation int64 `json:"gen"`
	// AuthTime is when the user logged in (seconds since the epoch, as in
	// OpenID Connect); the session's absolute lifetime counts from it.
	AuthTime int64 `json:"auth_time"`
	// Roles are the subject's roles, as Identity.Roles at login; see RequireRole.
	Roles []string `json:"roles,omitempty"`
	// Scope is the space-separated list of scopes granted (RFC 8693 §4.2),
	// from Identity.Scopes at login; see RequireScope.
	Scope string `json:"scope,omitempty"`
	// Extra holds the application's own claims as JSON, exactly as
	// Identity.Extra was encoded at login. Read them with DecodeExtra.
	Extra json.RawMessage `json:"ext,omitempty"`
}

// DecodeExtra decodes the application's claims (Identity.Extra at login) into v.
// Tokens without application claims leave v untouched.
func (c *Claims) DecodeExtra(v any) error {
	if len(c.Extra) == 0 {
		return nil
	}
	return json.Unmarshal(c.Extra, v)
}

// claimNames are the claims this package reads.
var claimNames = [][]byte{
	[]byte("iss"), []byte("sub"), []byte("aud"), []byte("exp"), []byte("nbf"), []byte("iat"), []byte("jti"),
	[]byte("typ"), []byte("sid"), []byte("ver"), []byte("gen"), []byte("auth_time"), []byte("roles"),
	[]byte("scope"), []byte("ext"),
}

var errClaimNames = errors.New("duplicate, case-colliding or escaped claim names")

// UnmarshalJSON decodes claims strictly: besides the usual JSON rules it
// refuses a payload that names a claim twice, that spells one of this
// package's claims in another case ({"exp":1,"EXP":9}), or that escapes a
// claim name. encoding/json matches names case-insensitively and keeps the
// last duplicate, so without this check two parsers could read different
// claims from one signed payload.
func (c *Claims) UnmarshalJSON(data []byte) error {
	if err := checkClaimNames(data); err != nil {
		return err
	}
	type plain Claims // no methods: no recursion
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = Claims(p)
	return nil
}

// checkClaimNames walks the top-level keys of a JSON object and refuses
// exact duplicates, keys that fold to a known claim name without being it,
// keys with escape sequences or invalid UTF-8, and exp, nbf or iat given as
// strings. It does not validate the JSON: the decoder that runs next does.
// It allocates nothing for up to 16 claims.
func checkClaimNames(data []byte) error {
	var buf [16][]byte
	seen := buf[:0]
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errors.New("claims are not a JSON object")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errSyntax
		}
		end := i + 1
		for end < len(data) && data[end] != '"' {
			if data[end] == '\\' {
				return errClaimNames
			}
			end++
		}
		if end >= len(data) {
			return errSyntax
		}
		name := data[i+1 : end]
		if !utf8.Valid(name) { // encoding/json would read every invalid byte as U+FFFD
			return errClaimNames
		}
		for _, s := range seen {
			if bytes.Equal(s, name) {
				return errClaimNames
			}
		}
		for _, known := range claimNames {
			if !bytes.Equal(name, known) && bytes.EqualFold(name, known) {
				return errClaimNames
			}
		}
		seen = append(seen, name)
		i = skipSpace(data, end+1)
		if i >= len(data) || data[i] != ':' {
			return errSyntax
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == '"' && isNumericDate(name) {
			return errNumericDate
		}
		i = skipSpace(data, skipValue(data, i))
		if i >= len(data) {
			return errSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
}

var errSyntax = errors.New("claims are not valid JSON")

// errNumericDate refuses exp, nbf or iat given as a string: RFC 7519 §2 makes
// them JSON numbers, but golang-jwt also reads "exp":"1700000000".
var errNumericDate = errors.New("exp, nbf or iat is not a JSON number")

// isNumericDate reports whether name is a NumericDate claim.
func isNumericDate(name []byte) bool {
	switch string(name) {
	case "exp", "nbf", "iat":
		return true
	}
	return false
}
