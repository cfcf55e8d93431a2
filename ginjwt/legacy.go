package ginjwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// LegacyTokens lets the guard accept, during a cutover, the access tokens of
// the system jwtguard replaces, so that users logged in before the switch
// are not all logged out at once (see docs/migrating-from-gin-jwt.md). Set
// it in Options.LegacyTokens; GinJWTLegacy builds one for
// appleboy/gin-jwt's HMAC tokens.
//
// The guard (Middleware) and Verify consult it only for a token that is not
// one of this package's: one whose JOSE header does not say "at+jwt" or
// "rt+jwt", after the ordinary check has refused it. A jwtguard token that
// is expired, revoked or forged is refused exactly as without it, and the
// ordinary path pays nothing.
//
// A legacy token is accepted when its signature is good under Key with
// Algorithm (no other algorithm), its exp is present and not past (with
// Options.Leeway), its nbf, if any, is reached, it names a subject in the
// IdentityKey claim, and the clock (Options.Now) is before Until. The
// handler sees Claims with Legacy set, the subject, the expiry (at most
// Until), the roles of RolesKey and the whole payload in Extra (read it
// with Claims.DecodeExtra, as jwt.ExtractClaims did).
//
// Legacy tokens have no session: they cannot be revoked one by one, and
// RevokeSession, RevokeUser and logout do not reach them. Each keeps working
// until its own exp or Until, whichever comes first; to cut all of them off
// at once, lower Until and restart, or rotate the old key out by removing
// LegacyTokens. They are never accepted where a session is needed: refresh,
// logout, the sessions routes, step-up (ErrTokenWrongType), nor by
// Introspection or Revocation. A legacy token carried by a cookie on an
// unsafe request must come from a trusted origin (it has no CSRF token).
type LegacyTokens struct {
	// Key is the old system's HMAC secret. Required.
	Key []byte
	// Algorithm is the one algorithm the old tokens were signed with:
	// "HS256", "HS384" or "HS512". Required.
	Algorithm string
	// IdentityKey is the claim that holds the subject: a non-empty string,
	// or a number (its decimal text becomes the subject). Required.
	IdentityKey string
	// RolesKey, when set, is a claim holding the subject's roles (an array
	// of strings, or one string) that become Claims.Roles for RequireRole.
	// Without it legacy tokens carry no roles.
	RolesKey string
	// Until is the end of the cutover: from then on no legacy token is
	// accepted, whatever its exp (ErrKeyUnknown: "log in again"). Required.
	Until time.Time
}

// GinJWTLegacy returns the LegacyTokens of an appleboy/gin-jwt v2
// middleware configured with Key key, SigningAlgorithm alg (gin-jwt's
// default is "HS256") and IdentityKey identityKey (gin-jwt's default is
// "identity"), accepted until until.
func GinJWTLegacy(key []byte, alg, identityKey string, until time.Time) *LegacyTokens {
	return &LegacyTokens{Key: key, Algorithm: alg, IdentityKey: identityKey, Until: until}
}

// legacyAlgs are the algorithms LegacyTokens supports.
var legacyAlgs = []string{"HS256", "HS384", "HS512"}

// legacyVerifier checks legacy tokens.
type legacyVerifier struct {
	key         []byte
	identityKey string
	rolesKey    string
	until       time.Time
	maxLen      int
	parser      *jwt.Parser
	now         func() time.Time
	// sameOrigin checks cookie-borne unsafe requests without the cookie
	// transport: same-origin only.
	sameOrigin *http.CrossOriginProtection
}

// newLegacyVerifier validates l; o has its defaults.
func newLegacyVerifier(l *LegacyTokens, o *Options) (*legacyVerifier, error) {
	switch {
	case len(l.Key) == 0:
		return nil, fmt.Errorf("%w: Options.LegacyTokens.Key is empty", ErrInvalidOptions)
	case !slices.Contains(legacyAlgs, l.Algorithm):
		return nil, fmt.Errorf("%w: Options.LegacyTokens.Algorithm (%q) must be HS256, HS384 or HS512", ErrInvalidOptions, l.Algorithm)
	case l.IdentityKey == "":
		return nil, fmt.Errorf("%w: Options.LegacyTokens.IdentityKey is empty (gin-jwt's default is %q)", ErrInvalidOptions, "identity")
	case l.Until.IsZero():
		return nil, fmt.Errorf("%w: Options.LegacyTokens.Until is zero; a cutover must end", ErrInvalidOptions)
	}
	return &legacyVerifier{
		key:         slices.Clone(l.Key),
		identityKey: l.IdentityKey,
		rolesKey:    l.RolesKey,
		until:       l.Until,
		maxLen:      o.MaxTokenSize,
		now:         o.Now,
		sameOrigin:  http.NewCrossOriginProtection(),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{l.Algorithm}),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(o.Leeway),
			jwt.WithTimeFunc(o.Now),
			jwt.WithJSONNumber(),
		),
	}, nil
}

// legacyFallback is called after the ordinary check refused raw with err.
// When raw is not one of this package's tokens and the legacy verifier
// accepts it, it returns its claims; when the legacy verifier finds it
// authentic but expired or past the cutover, that error; otherwise err,
// unchanged.
func (a *Auth) legacyFallback(raw string, err error) (*Claims, error) {
	if a.legacy == nil || len(raw) > a.legacy.maxLen {
		return nil, err
	}
	header, payload, _, splitErr := splitToken(raw)
	if splitErr != nil {
		return nil, err
	}
	h, hErr := decodeHeader(header, string(header))
	if hErr != nil {
		return nil, err
	}
	if typ, tErr := param(h.typ); tErr != nil ||
		sameMediaType(typ, headerTypeAccess) || sameMediaType(typ, headerTypeRefresh) {
		return nil, err // ours, or claims to be: never a legacy token
	}
	claims, lErr := a.legacy.verify(raw, payload)
	switch {
	case lErr == nil:
		return claims, nil
	case errors.Is(lErr, ErrTokenExpired), errors.Is(lErr, ErrKeyUnknown), errors.Is(lErr, ErrTokenNotYetValid):
		return nil, lErr
	}
	return nil, err
}

// verify checks a legacy token whose decoded payload is payload.
func (l *legacyVerifier) verify(raw string, payload []byte) (*Claims, error) {
	if err := checkClaimNames(payload); err != nil {
		return nil, fmt.Errorf("%w: legacy token: %w", ErrTokenInvalid, err)
	}
	mc := jwt.MapClaims{}
	_, err := l.parser.ParseWithClaims(raw, mc, func(*jwt.Token) (any, error) { return l.key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("%w: legacy token expired", ErrTokenExpired)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, fmt.Errorf("%w: legacy token", ErrTokenNotYetValid)
	case err != nil:
		return nil, fmt.Errorf("%w: legacy token: %w", ErrTokenInvalid, err)
	}
	if !l.now().Before(l.until) {
		return nil, fmt.Errorf("%w: legacy tokens are no longer accepted (cutover ended)", ErrKeyUnknown)
	}
	sub, ok := legacySubject(mc[l.identityKey])
	if !ok {
		return nil, fmt.Errorf("%w: legacy token has no usable %q claim", ErrTokenInvalid, l.identityKey)
	}
	exp, err := mc.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, fmt.Errorf("%w: legacy token exp", ErrTokenInvalid)
	}
	if exp.After(l.until) {
		exp = jwt.NewNumericDate(l.until)
	}
	c := &Claims{Legacy: true, Extra: json.RawMessage(slices.Clone(payload))}
	c.Subject, c.ExpiresAt = sub, exp
	if iat, err := mc.GetIssuedAt(); err == nil {
		c.IssuedAt = iat
	}
	if l.rolesKey != "" {
		if c.Roles, ok = legacyRoles(mc[l.rolesKey]); !ok {
			return nil, fmt.Errorf("%w: legacy token's %q claim is not a list of strings", ErrTokenInvalid, l.rolesKey)
		}
	}
	return c, nil
}

// legacySubject reads the identity claim: a non-empty string or a number.
func legacySubject(v any) (string, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	}
	return s, s != "" && len(s) <= maxSubjectLen
}

// legacyRoles reads a roles claim: absent, one string or an array of strings.
func legacyRoles(v any) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{v}, true
	case []any:
		roles := make([]string, 0, len(v))
		for _, r := range v {
			s, ok := r.(string)
			if !ok {
				return nil, false
			}
			roles = append(roles, s)
		}
		return roles, true
	}
	return nil, false
}

// errLegacyNoSession refuses a legacy token where a session is needed.
var errLegacyNoSession = fmt.Errorf("%w: a legacy token has no session; log in again", ErrTokenWrongType)

// legacyRequest is the guard's fallback after verifyRequest refused raw,
// the request's token (ambient: in a cookie), with err: see legacyFallback. A legacy token carried by a
// cookie on an unsafe request must come from a trusted origin.
func (a *Auth) legacyRequest(c *gin.Context, raw string, ambient bool, err error) (*Claims, error) {
	claims, err := a.legacyFallback(raw, err)
	if err != nil {
		return nil, err
	}
	if ambient && !safeMethod(c.Request.Method) {
		origins := a.legacy.sameOrigin
		if a.cookies != nil {
			origins = a.cookies.crossOrigin // with CookieOptions.TrustedOrigins
		}
		if err := origins.Check(c.Request); err != nil {
			return nil, fmt.Errorf("%w: legacy token: %w", ErrCSRF, err)
		}
	}
	return claims, nil
}
