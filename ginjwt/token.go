package ginjwt

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenKind selects the key, the header type and the claim type of a token.
type tokenKind struct {
	claimType  string
	headerType string
	key        func(*signingKey) *jwtKey
	algs       func(*keyring) []string
}

var (
	accessKind = tokenKind{TypeAccess, headerTypeAccess,
		func(k *signingKey) *jwtKey { return &k.access }, func(kr *keyring) []string { return kr.accessAlgs }}
	refreshKind = tokenKind{TypeRefresh, headerTypeRefresh,
		func(k *signingKey) *jwtKey { return &k.refresh }, func(kr *keyring) []string { return kr.refreshAlgs }}
)

// issue signs claims as a token of kind with the current key.
func (a *Auth) issue(kind tokenKind, claims *Claims) (string, error) {
	signer := a.keys.signer
	k := kind.key(signer)
	claims.Type = kind.claimType
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["typ"] = kind.headerType
	if signer.id != "" {
		t.Header["kid"] = signer.id
	}
	return t.SignedString(k.sign)
}

// verifier checks tokens of one kind.
type verifier struct {
	kind     tokenKind
	keys     *keyring
	parser   *jwt.Parser
	maxLen   int
	skipTime bool   // the parser skips claim validation; verify checks iss and aud itself
	issuer   string // checked by verify when skipTime
	audience string // checked by verify when skipTime
}

func newVerifier(kind tokenKind, keys *keyring, o *Options, validateClaims bool) *verifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(kind.algs(keys)),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(o.Now),
		// Canonical base64url only: otherwise a signature with its spare low
		// bits set decodes the same, and one token has several accepted
		// spellings. verify refuses CR and LF, which even strict skips.
		jwt.WithStrictDecoding(),
	}
	if !validateClaims {
		opts = append(opts, jwt.WithoutClaimsValidation())
	}
	return &verifier{
		kind:     kind,
		keys:     keys,
		parser:   jwt.NewParser(opts...),
		maxLen:   o.MaxTokenSize,
		skipTime: !validateClaims,
		issuer:   o.Issuer,
		audience: o.Audience,
	}
}

// verify parses and checks a token: size, header type, pinned algorithm of
// the key its kid names, signature, then (unless the verifier skips them)
// exp, nbf, iat, iss and aud, and finally the claim type. The error wraps one
// of the package's sentinels.
func (v *verifier) verify(raw string) (*Claims, error) {
	if len(raw) > v.maxLen {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrTokenMalformed, v.maxLen)
	}
	if strings.ContainsAny(raw, "\r\n") { // base64 decoding, even strict, skips them
		return nil, fmt.Errorf("%w: line break in the token", ErrTokenMalformed)
	}
	claims := new(Claims)
	_, err := v.parser.ParseWithClaims(raw, claims, v.keyFunc)
	if err != nil {
		return nil, classify(err)
	}
	if v.skipTime && (claims.Issuer != v.issuer || !slices.Contains(claims.Audience, v.audience)) {
		return nil, fmt.Errorf("%w: wrong iss or aud", ErrTokenInvalid)
	}
	if claims.Type != v.kind.claimType {
		return nil, fmt.Errorf("%w: claim typ is not %q", ErrTokenWrongType, v.kind.claimType)
	}
	if claims.Subject == "" || claims.SessionID == "" || claims.ID == "" ||
		claims.UserVersion <= 0 || claims.Generation <= 0 || claims.AuthTime <= 0 {
		return nil, fmt.Errorf("%w: sub, sid, jti, ver, gen or auth_time missing", ErrTokenInvalid)
	}
	return claims, nil
}

// keyFunc is called by the parser with the unverified header. It refuses a
// token whose header type does not match, then returns the key the kid names
// provided the token's algorithm is the one pinned to that key. Header
// parameters such as jku, x5u, jwk and x5c are never read.
func (v *verifier) keyFunc(t *jwt.Token) (any, error) {
	typ, _ := t.Header["typ"].(string)
	if !sameMediaType(typ, v.kind.headerType) {
		return nil, fmt.Errorf("%w: header typ is not %q", ErrTokenWrongType, v.kind.headerType)
	}
	kid := ""
	if raw, present := t.Header["kid"]; present {
		s, ok := raw.(string)
		if !ok {
			return nil, errors.New("kid is not a string")
		}
		kid = s
	}
	sk, ok := v.keys.lookup(kid)
	if !ok {
		return nil, errors.New("unknown kid")
	}
	k := v.kind.key(sk)
	if k.verify == nil {
		return nil, errors.New("the key cannot verify this kind of token")
	}
	if t.Method.Alg() != k.method.Alg() {
		return nil, errors.New("algorithm does not match the key")
	}
	return k.verify, nil
}

// sameMediaType compares a JOSE "typ" with want, case-insensitively and with
// or without the "application/" prefix (RFC 7515 §4.1.9).
func sameMediaType(typ, want string) bool {
	typ = strings.ToLower(typ)
	return typ == want || typ == "application/"+want
}

// classify maps a golang-jwt error onto this package's sentinels, keeping the
// cause wrapped for logs.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrTokenWrongType):
		return err
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid),
		errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenInvalidIssuer),
		errors.Is(err, jwt.ErrTokenInvalidAudience),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing),
		errors.Is(err, jwt.ErrTokenInvalidClaims) && !isTimeError(err):
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %w", ErrTokenNotYetValid, err)
	}
	return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
}

func isTimeError(err error) bool {
	return errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenNotValidYet) || errors.Is(err, jwt.ErrTokenUsedBeforeIssued)
}

// newID returns 128 random bits, base64url-encoded (22 characters).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// pair is a freshly issued access and refresh token.
type pair struct {
	access, refresh             string
	accessExpiry, refreshExpiry time.Time
}

// issuePair issues the tokens of a session as of now. session holds the
// claims both tokens share: sub, sid, ver, gen, auth_time, roles, scope and
// ext; the rest is filled in here.
func (a *Auth) issuePair(now time.Time, session Claims) (pair, error) {
	p := pair{
		accessExpiry:  now.Add(a.opts.AccessTTL),
		refreshExpiry: now.Add(a.opts.RefreshTTL),
	}
	if end := time.Unix(session.AuthTime, 0).Add(a.opts.SessionMaxAge); p.refreshExpiry.After(end) {
		p.refreshExpiry = end
	}
	if p.accessExpiry.After(p.refreshExpiry) {
		p.accessExpiry = p.refreshExpiry
	}
	session.RegisteredClaims = jwt.RegisteredClaims{
		Issuer:    a.opts.Issuer,
		Subject:   session.Subject,
		Audience:  jwt.ClaimStrings{a.opts.Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
	}
	access, refresh := session, session
	access.ID, refresh.ID = newID(), newID()
	access.ExpiresAt = jwt.NewNumericDate(p.accessExpiry)
	refresh.ExpiresAt = jwt.NewNumericDate(p.refreshExpiry)
	var err error
	if p.access, err = a.issue(accessKind, &access); err != nil {
		return pair{}, fmt.Errorf("%w: signing access token: %w", ErrServer, err)
	}
	if p.refresh, err = a.issue(refreshKind, &refresh); err != nil {
		return pair{}, fmt.Errorf("%w: signing refresh token: %w", ErrServer, err)
	}
	return p, nil
}
