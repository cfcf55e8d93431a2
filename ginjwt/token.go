package ginjwt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenKind selects the key, the header type and the claim type of a token.
type tokenKind struct {
	claimType  string
	headerType string
	kidPrefix  string // before the key's id in the "kid" header
	key        func(*signingKey) *jwtKey
	algs       func(*keyring) []string
}

var (
	accessKind = tokenKind{TypeAccess, headerTypeAccess, "",
		func(k *signingKey) *jwtKey { return &k.access }, func(kr *keyring) []string { return kr.accessAlgs }}
	refreshKind = tokenKind{TypeRefresh, headerTypeRefresh, refreshKIDPrefix,
		func(k *signingKey) *jwtKey { return &k.refresh }, func(kr *keyring) []string { return kr.refreshAlgs }}
)

// refreshKIDPrefix starts the "kid" of refresh tokens. They are signed with
// a key derived from the access key, under another algorithm, so they must
// not carry the access key's own id: a JWKS consumer handed one would find
// that key and a mismatched algorithm instead of no key.
const refreshKIDPrefix = "rt."

// issue signs claims as a token of kind with the current key. The header
// is encoded once per key (jwtKey.header), the claims by appendClaims, an
// HMAC comes from the key's pool, and the token is assembled in pooled
// buffers: the token string is the one allocation of an HMAC-signed token.
func (a *Auth) issue(kind tokenKind, claims *Claims) (string, error) {
	k := kind.key(a.keys.signer)
	claims.Type = kind.claimType
	bufs := tokenBufferPool.Get().(*tokenBuffers)
	defer bufs.release()
	var err error
	if bufs.claims, err = appendClaims(bufs.claims[:0], claims); err != nil {
		return "", err
	}
	t := append(bufs.token[:0], k.header...)
	t = append(t, '.')
	t = base64.RawURLEncoding.AppendEncode(t, bufs.claims)
	var sig []byte
	if k.macs != nil {
		sig = k.macs.sum(bufs.sig[:0], t)
		bufs.sig = sig
	} else if sig, err = k.method.Sign(string(t), k.sign); err != nil {
		return "", err
	}
	t = append(t, '.')
	t = base64.RawURLEncoding.AppendEncode(t, sig)
	bufs.token = t
	return string(t), nil
}

// tokenBuffers are issue's scratch space: the claims' JSON, the token and
// an HMAC.
type tokenBuffers struct{ claims, token, sig []byte }

var tokenBufferPool = sync.Pool{New: func() any { return new(tokenBuffers) }}

// release returns b to the pool unless a very large token grew it.
func (b *tokenBuffers) release() {
	if cap(b.claims)+cap(b.token) <= 64<<10 {
		tokenBufferPool.Put(b)
	}
}

// signingHeader returns the base64url JOSE header of the tokens of kind
// that sk signs: alg, kid when sk has an id, and typ, encoded by
// json.Marshal as golang-jwt encodes its header map.
func signingHeader(kind tokenKind, sk *signingKey) (string, error) {
	h := map[string]string{"alg": kind.key(sk).method.Alg(), "typ": kind.headerType}
	if sk.id != "" {
		h["kid"] = kind.kidPrefix + sk.id
	}
	b, err := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(b), err
}

// verifier checks tokens of one kind.
type verifier struct {
	kind     tokenKind
	keys     *keyring
	algs     []string // the algorithms of this kind's keys
	maxLen   int
	skipTime bool // exp, nbf and iat are not checked (logout)
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	// unknownKey is the sentinel of a token whose key is not configured (or
	// cannot verify its kind): ErrTokenInvalid at the guard, ErrKeyUnknown
	// ("log in again") where a client presents its own stored tokens.
	unknownKey error
	lastHeader headerMemo
}

func newVerifier(kind tokenKind, keys *keyring, o *Options, validateTime bool) *verifier {
	return &verifier{
		unknownKey: ErrTokenInvalid,
		kind:       kind,
		keys:       keys,
		algs:       kind.algs(keys),
		maxLen:     o.MaxTokenSize,
		skipTime:   !validateTime,
		issuer:     o.Issuer,
		audience:   o.Audience,
		leeway:     o.Leeway,
		now:        o.Now,
	}
}

// reportingUnknownKeys makes v answer ErrKeyUnknown for a token whose key is
// gone, for the refresh and logout routes: the client can only log in again.
func (v *verifier) reportingUnknownKeys() *verifier {
	v.unknownKey = ErrKeyUnknown
	return v
}

// decodeOnStack is the size of the buffer on the stack that verify decodes
// a token's payload and signature into: this package's tokens fit, longer
// ones take the heap.
const decodeOnStack = 1024

// verify parses and checks a token, in golang-jwt's order: size and
// structure, canonical base64url, header and claims JSON (token_malformed);
// the algorithm among this kind's, the header type (token_wrong_type), the key
// its kid names and that key's pinned algorithm, the signature
// (token_invalid); then iss and aud, exp (required), iat and nbf, and the
// claim type. The error wraps one of the package's sentinels.
func (v *verifier) verify(raw string) (*Claims, error) { return v.verifyAt(raw, time.Time{}) }

// verifyAt is verify with the time checks as of now, a reading of the
// verifier's clock the caller already took; zero reads the clock.
func (v *verifier) verifyAt(raw string, now time.Time) (*Claims, error) {
	if len(raw) > v.maxLen {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrTokenMalformed, v.maxLen)
	}
	hSeg, pSeg, sSeg, err := cutToken(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	}
	// Every token a key signs carries the same header: the key of the last
	// header seen is remembered, and only another header is decoded.
	k := v.lastHeader.keyFor(hSeg)
	var h tokenHeader
	if k == nil {
		headerJSON, _, err := decodeSegment(hSeg, "header", nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
		}
		if h, err = decodeHeader(headerJSON, string(headerJSON)); err != nil {
			return nil, fmt.Errorf("%w: header: %w", ErrTokenMalformed, err)
		}
	}
	var stack [decodeOnStack]byte
	payload, rest, err := decodeSegment(pSeg, "payload", stack[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	}
	sig, _, err := decodeSegment(sSeg, "signature", rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	}
	block := new(claimsBlock)
	claims := &block.claims
	if err := decodeClaims(payload, string(payload), block); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrTokenMalformed, err)
	}
	remembered := k != nil
	if !remembered {
		if k, err = v.key(&h); err != nil {
			return nil, err
		}
	}
	if err := k.verifySignature(raw[:len(hSeg)+1+len(pSeg)], sig); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if !remembered {
		v.lastHeader.remember(hSeg, k) // signed by k: no forged header takes the place
	}
	if err := v.validate(claims, now); err != nil {
		return nil, err
	}
	return claims, nil
}

// headerMemo remembers the header segment of the last token whose
// signature verified, and the key its header named. The keys of a verifier never change,
// so the same bytes always name the same key.
type headerMemo struct{ last atomic.Pointer[headerKey] }

type headerKey struct {
	segment string
	key     *jwtKey
}

// keyFor returns the key of segment when it is the one remembered, else nil.
func (m *headerMemo) keyFor(segment string) *jwtKey {
	if hk := m.last.Load(); hk != nil && hk.segment == segment {
		return hk.key
	}
	return nil
}

// remember makes segment, which named k, the one remembered.
func (m *headerMemo) remember(segment string, k *jwtKey) {
	m.last.Store(&headerKey{segment: strings.Clone(segment), key: k})
}

// key returns the key that must have signed a token with header h: the one
// its kid names, provided the token's algorithm is the one pinned to that
// key. The kid is only ever a map key; jku, x5u, jwk and x5c are never read.
func (v *verifier) key(h *tokenHeader) (*jwtKey, error) {
	if h.crit != "" {
		return nil, fmt.Errorf("%w: unsupported crit header", ErrTokenInvalid)
	}
	alg, err := param(h.alg)
	if err != nil || !slices.Contains(v.algs, alg) {
		return nil, fmt.Errorf("%w: algorithm not accepted", ErrTokenInvalid)
	}
	if typ, err := param(h.typ); err != nil || !sameMediaType(typ, v.kind.headerType) {
		return nil, fmt.Errorf("%w: header typ is not %q", ErrTokenWrongType, v.kind.headerType)
	}
	kid, err := param(h.kid)
	if err == nil && h.kid == "null" {
		err = errors.New("null kid")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: kid is not a string", ErrTokenInvalid)
	}
	if id, ok := strings.CutPrefix(kid, v.kind.kidPrefix); ok {
		kid = id
	}
	sk, ok := v.keys.lookup(kid)
	if !ok {
		return nil, fmt.Errorf("%w: unknown kid", v.unknownKey)
	}
	k := v.kind.key(sk)
	if k.verify == nil {
		return nil, fmt.Errorf("%w: the key cannot verify this kind of token", v.unknownKey)
	}
	if alg != k.method.Alg() {
		return nil, fmt.Errorf("%w: algorithm does not match the key", ErrTokenInvalid)
	}
	return k, nil
}

// validate checks the claims of a token whose signature is good, as of
// now (zero: the verifier's clock, read here).
func (v *verifier) validate(c *Claims, now time.Time) error {
	if c.Issuer != v.issuer || !slices.Contains(c.Audience, v.audience) {
		return fmt.Errorf("%w: wrong iss or aud", ErrTokenInvalid)
	}
	if c.ExpiresAt == nil {
		return fmt.Errorf("%w: exp missing", ErrTokenInvalid)
	}
	if !v.skipTime {
		if now.IsZero() {
			now = v.now()
		}
		if !now.Before(c.ExpiresAt.Add(v.leeway)) {
			return ErrTokenExpired
		}
		late := now.Add(v.leeway)
		if c.IssuedAt != nil && late.Before(c.IssuedAt.Time) {
			return fmt.Errorf("%w: iat in the future", ErrTokenNotYetValid)
		}
		if c.NotBefore != nil && late.Before(c.NotBefore.Time) {
			return ErrTokenNotYetValid
		}
	}
	if c.Type != v.kind.claimType {
		return fmt.Errorf("%w: claim typ is not %q", ErrTokenWrongType, v.kind.claimType)
	}
	if c.Subject == "" || c.SessionID == "" || c.ID == "" ||
		c.UserVersion <= 0 || c.Generation <= 0 || c.AuthTime <= 0 {
		return fmt.Errorf("%w: sub, sid, jti, ver, gen or auth_time missing", ErrTokenInvalid)
	}
	return nil
}

// sameMediaType compares a JOSE "typ" with want, case-insensitively and with
// or without the "application/" prefix (RFC 7515 §4.1.9).
func sameMediaType(typ, want string) bool {
	typ = strings.ToLower(typ)
	return typ == want || typ == "application/"+want
}

// newID returns 128 random bits, base64url-encoded (22 characters).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// registered is the registered claims every token issued now to subject
// shares; the caller adds exp, in one of the two expiry slots returned,
// and jti. The dates, the expiry slots and the audience are one
// allocation.
func (a *Auth) registered(subject string, now time.Time) (jwt.RegisteredClaims, *[2]jwt.NumericDate) {
	m := &struct {
		dates  [2]jwt.NumericDate // iat, nbf
		expiry [2]jwt.NumericDate
		aud    [1]string
	}{}
	m.dates[0], m.dates[1] = *jwt.NewNumericDate(now), *jwt.NewNumericDate(now)
	m.aud[0] = a.opts.Audience
	return jwt.RegisteredClaims{
		Issuer:    a.opts.Issuer,
		Subject:   subject,
		Audience:  m.aud[:1:1],
		IssuedAt:  &m.dates[0],
		NotBefore: &m.dates[1],
	}, &m.expiry
}

// expiresAt sets *slot to t, as jwt.NewNumericDate would, and returns slot.
func expiresAt(slot *jwt.NumericDate, t time.Time) *jwt.NumericDate {
	*slot = jwt.NumericDate{Time: t.Truncate(jwt.TimePrecision)}
	return slot
}

// pair is a freshly issued access and refresh token.
type pair struct {
	access, refresh             string
	issuedAt                    time.Time
	accessExpiry, refreshExpiry time.Time
}

// issuePair issues the tokens of a session as of now. session holds the
// claims both tokens share: sub, sid, ver, gen, auth_time, roles, scope and
// ext; the rest is filled in here.
func (a *Auth) issuePair(now time.Time, session Claims) (pair, error) {
	p := pair{
		issuedAt:      now,
		accessExpiry:  now.Add(a.opts.AccessTTL),
		refreshExpiry: now.Add(a.opts.RefreshTTL),
	}
	if end := a.sessionEnd(&session); p.refreshExpiry.After(end) {
		p.refreshExpiry = end
	}
	if p.accessExpiry.After(p.refreshExpiry) {
		p.accessExpiry = p.refreshExpiry
	}
	var expiry *[2]jwt.NumericDate
	session.RegisteredClaims, expiry = a.registered(session.Subject, now)
	access, refresh := session, session
	access.ID, refresh.ID = newID(), newID()
	access.ExpiresAt = expiresAt(&expiry[0], p.accessExpiry)
	refresh.ExpiresAt = expiresAt(&expiry[1], p.refreshExpiry)
	var err error
	if p.access, err = a.issue(accessKind, &access); err != nil {
		return pair{}, fmt.Errorf("%w: signing access token: %w", ErrServer, err)
	}
	if p.refresh, err = a.issue(refreshKind, &refresh); err != nil {
		return pair{}, fmt.Errorf("%w: signing refresh token: %w", ErrServer, err)
	}
	return p, nil
}
