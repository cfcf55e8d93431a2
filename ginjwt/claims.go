package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"

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
	// AuthTime is when the user last authenticated: logged in, or stepped up
	// (seconds since the epoch, as in OpenID Connect).
	AuthTime int64 `json:"auth_time"`
	// SessionStart is when the session began, when that is not AuthTime
	// (a token of Auth.StepUp); the session's absolute lifetime counts from
	// it. Zero otherwise: read it with the AuthTime.
	SessionStart int64 `json:"sst,omitempty"`
	// ACR and AMR describe the authentication at AuthTime (Identity.ACR
	// and Identity.AMR); see RequireACR.
	ACR string   `json:"acr,omitempty"`
	AMR []string `json:"amr,omitempty"`
	// Roles are the subject's roles, as Identity.Roles at login; see RequireRole.
	Roles []string `json:"roles,omitempty"`
	// Scope is the space-separated list of scopes granted (RFC 8693 §4.2),
	// from Identity.Scopes at login; see RequireScope.
	Scope string `json:"scope,omitempty"`
	// Extra holds the application's own claims as JSON, exactly as
	// Identity.Extra was encoded at login. Read them with DecodeExtra.
	Extra json.RawMessage `json:"ext,omitempty"`
	// Confirmation binds the token to the client's DPoP key (RFC 9449
	// §6.1): set on the tokens of a session bound with Options.DPoP.
	Confirmation *Confirmation `json:"cnf,omitempty"`
	// Legacy is set on the claims of a token of the previous system,
	// accepted during a cutover (Options.LegacyTokens): they have a Subject,
	// an expiry, the roles of LegacyTokens.RolesKey and the token's whole
	// payload in Extra, but no session. Never set on this package's tokens.
	Legacy bool `json:"-"`
}

// sessionStart is when the session began, in seconds since the epoch.
func (c *Claims) sessionStart() int64 {
	if c.SessionStart != 0 {
		return c.SessionStart
	}
	return c.AuthTime
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
	[]byte("typ"), []byte("sid"), []byte("ver"), []byte("gen"), []byte("auth_time"), []byte("sst"), []byte("acr"), []byte("amr"), []byte("roles"),
	[]byte("scope"), []byte("ext"), []byte("cnf"),
}

// headerNames are the JOSE header parameters this package reads.
var headerNames = [][]byte{[]byte("alg"), []byte("typ"), []byte("kid"), []byte("crit")}

var (
	claimMembers  = newMemberNames(errClaimNames, claimNames...)
	headerMembers = newMemberNames(errHeaderNames, headerNames...)
)

var (
	errClaimNames  = errors.New("duplicate, case-colliding or escaped claim names")
	errHeaderNames = errors.New("duplicate, case-colliding or escaped parameter names")
	errUTF8        = errors.New("invalid UTF-8") // encoding/json would read each bad byte as U+FFFD
)

// UnmarshalJSON decodes claims strictly: besides the usual JSON rules it
// refuses a payload that names a claim twice, that spells one of this
// package's claims in another case ({"exp":1,"EXP":9}), that escapes a
// claim name, or that holds invalid UTF-8. encoding/json matches names
// case-insensitively, keeps the last duplicate and reads invalid UTF-8 as
// U+FFFD, so without this check two parsers could read different claims
// from one signed payload.
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

// checkClaimNames applies checkNames to a claims payload, and refuses exp,
// nbf or iat given as strings.
func checkClaimNames(data []byte) error { return checkNames(data, claimMembers, true) }

// checkHeaderNames applies checkNames to a JOSE header.
func checkHeaderNames(data []byte) error { return checkNames(data, headerMembers, false) }

// checkNames walks the top-level members of a JSON object and refuses,
// with errNames, exact duplicates, names that fold to one of known without
// being it, and names with escape sequences; it refuses invalid UTF-8
// anywhere in data, and invalid JSON. With dates, exp, nbf and iat must not
// be strings. See members.
func checkNames(data []byte, names *memberNames, dates bool) error {
	m, err := walkMembers(data, names, dates)
	if err != nil {
		return err
	}
	for {
		if _, _, _, done, err := m.next(); done || err != nil {
			return err
		}
	}
}

// foldsToKnown reports whether name, which is none of known, folds to one
// of them.
func foldsToKnown(name []byte, known [][]byte) bool {
	for _, k := range known {
		if bytes.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// nameSet is a set of names, all slices data[start:end] of one JSON text.
// It allocates nothing for up to 32 names, more than a token of this
// package has, and switches to a map beyond, so that a payload of
// thousands of names still takes linear time. It keeps offsets, not
// slices, so that the text can live on the caller's stack.
type nameSet struct {
	few  [32]struct{ start, end int }
	n    int
	many map[string]struct{}
}

// add adds data[start:end] to s and reports whether it was not in s yet.
func (s *nameSet) add(data []byte, start, end int) bool {
	name := data[start:end]
	if s.many == nil {
		for _, f := range s.few[:s.n] {
			if bytes.Equal(data[f.start:f.end], name) {
				return false
			}
		}
		if s.n < len(s.few) {
			s.few[s.n].start, s.few[s.n].end = start, end
			s.n++
			return true
		}
		s.many = make(map[string]struct{}, 4*len(s.few))
		for _, f := range s.few {
			s.many[string(data[f.start:f.end])] = struct{}{}
		}
	}
	if _, dup := s.many[string(name)]; dup {
		return false
	}
	s.many[string(name)] = struct{}{}
	return true
}

var errNotObject = errors.New("not a JSON object")

var errSyntax = errors.New("not valid JSON")

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
