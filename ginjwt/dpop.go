package ginjwt

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt/internal/dpop"
)

// DPoPMode says whether sessions are bound to a client's key with DPoP
// (RFC 9449).
type DPoPMode int

// DPoP modes.
const (
	// DPoPOff: no DPoP. A DPoP-bound token is refused.
	DPoPOff DPoPMode = iota
	// DPoPOptional: a login (or a refresh of an unbound session) that
	// carries a DPoP proof binds the session to the proof's key; one
	// without stays a bearer session.
	DPoPOptional
	// DPoPRequired: every login and every refresh must carry a proof, and
	// every session is bound.
	DPoPRequired
)

// DPoPOptions configure sender-constrained tokens (RFC 9449): a session
// bound to a key the client holds, so that its tokens are useless without
// that key. Only the bearer transport (the Authorization header) takes
// DPoP: an Auth with Options.Cookies never binds its own sessions, whose
// tokens travel in cookies, but its guard checks DPoP-bound tokens sent in
// the header, so one guard serves browsers and DPoP clients alike. The
// store must implement ProofStore (redisstore and memstore do): the guard
// remembers each proof's id to refuse it a second time.
type DPoPOptions struct {
	// Mode turns DPoP on. Default DPoPOff.
	Mode DPoPMode

	// BaseURL is the external URL the routes are reached at, scheme, host
	// and any path prefix ("https://api.example.com"): a proof's htu must
	// be BaseURL followed by the request's path. Request headers (Host,
	// X-Forwarded-*) are never used. Required with DPoP on; https unless
	// the host is localhost or a loopback address.
	BaseURL string

	// Algorithms are the proof algorithms accepted, among ES256, EdDSA,
	// RS256 and PS256; EdDSA also takes proofs that name it "Ed25519", as
	// RFC 9864 does. Default all of them.
	Algorithms []string

	// MaxAge is how old a proof may be, by its iat; it may also be up to 10
	// seconds in the future. Default 60 seconds, at most 5 minutes.
	MaxAge time.Duration

	// NonceLifetime, when set, makes every proof carry a nonce of the
	// server's (RFC 9449 §8, §9): each response to a request with a proof
	// carries the current one in the DPoP-Nonce header, a new one every
	// NonceLifetime, and a proof without a nonce of the current or the
	// previous period answers use_dpop_nonce with the header, for the
	// client to retry once. It bounds how long a proof made in advance
	// stays usable. Nonces need no storage: they are MACs of the period
	// under a key derived from Keys[0]. Default 0: no nonces. At least 10
	// seconds, at most a day.
	NonceLifetime time.Duration

	// ProofsPerSession bounds the proofs a session may present within
	// MaxAge (plus 10 seconds): the replay cache's memory per session. A
	// client past it is refused until its oldest proofs age out. Default
	// 128, about 7 KB in Redis (its compact encoding); each id beyond costs
	// about 150 bytes more. At most 10,000.
	ProofsPerSession int
}

// Defaults and bounds of DPoPOptions.
const (
	DefaultDPoPMaxAge           = 60 * time.Second
	DefaultDPoPProofsPerSession = 128
	maxDPoPMaxAge               = 5 * time.Minute
	maxDPoPProofsPerSession     = 10_000
)

// dpopFutureSkew is how far in the future a proof's iat may be.
const dpopFutureSkew = 10 * time.Second

// Confirmation is the "cnf" claim of a DPoP-bound token (RFC 9449 §6.1).
type Confirmation struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the client's public key,
	// base64url-encoded.
	JKT string `json:"jkt"`
}

// dpopBinding holds a validated DPoPOptions.
type dpopBinding struct {
	mode     DPoPMode
	base     string // BaseURL without a trailing slash
	verifier *dpop.Verifier
	ttl      time.Duration // how long a proof's id is remembered
	limit    int
	algs     string // for WWW-Authenticate: "ES256 EdDSA …"
	proofs   ProofStore
	nonces   *nonces // nil without NonceLifetime
}

// newDPoPBinding validates o.DPoP; nil when DPoP is off. keys are the
// validated Options.Keys, whose current key makes the nonces.
func newDPoPBinding(o *Options, keys *keyring) (*dpopBinding, error) {
	d := o.DPoP
	if d.Mode == DPoPOff {
		return nil, nil
	}
	if d.Mode != DPoPOptional && d.Mode != DPoPRequired {
		return nil, fmt.Errorf("%w: Options.DPoP.Mode %d is not a DPoPMode", ErrInvalidOptions, d.Mode)
	}
	proofs, ok := o.Store.(ProofStore)
	if !ok {
		return nil, fmt.Errorf("%w: Options.DPoP needs a Store that implements ginjwt.ProofStore (redisstore and memstore do)", ErrInvalidOptions)
	}
	base, err := dpopBaseURL(d.BaseURL)
	if err != nil {
		return nil, err
	}
	if d.MaxAge == 0 {
		d.MaxAge = DefaultDPoPMaxAge
	}
	if d.MaxAge < time.Second || d.MaxAge > maxDPoPMaxAge {
		return nil, fmt.Errorf("%w: Options.DPoP.MaxAge %v must be between 1s and %v", ErrInvalidOptions, d.MaxAge, maxDPoPMaxAge)
	}
	if d.ProofsPerSession == 0 {
		d.ProofsPerSession = DefaultDPoPProofsPerSession
	}
	if d.ProofsPerSession < 1 || d.ProofsPerSession > maxDPoPProofsPerSession {
		return nil, fmt.Errorf("%w: Options.DPoP.ProofsPerSession %d must be between 1 and %d", ErrInvalidOptions, d.ProofsPerSession, maxDPoPProofsPerSession)
	}
	algs := d.Algorithms
	if len(algs) == 0 {
		algs = []string{dpop.ES256, dpop.EdDSA, dpop.Ed25519, dpop.RS256, dpop.PS256}
	}
	v, err := dpop.New(dpop.Config{Algorithms: algs, MaxAge: d.MaxAge, MaxFutureSkew: dpopFutureSkew, Now: o.Now})
	if err != nil {
		return nil, fmt.Errorf("%w: Options.DPoP: %w", ErrInvalidOptions, err)
	}
	var n *nonces
	if d.NonceLifetime != 0 {
		if d.NonceLifetime < 10*time.Second || d.NonceLifetime > 24*time.Hour {
			return nil, fmt.Errorf("%w: Options.DPoP.NonceLifetime %v must be between 10s and 24h", ErrInvalidOptions, d.NonceLifetime)
		}
		n = &nonces{key: keys.signer.nonce, lifetime: d.NonceLifetime, now: o.Now}
	}
	return &dpopBinding{mode: d.Mode, base: base, verifier: v, ttl: d.MaxAge + dpopFutureSkew,
		limit: d.ProofsPerSession, algs: strings.Join(algs, " "), proofs: proofs, nonces: n}, nil
}

// dpopBaseURL checks Options.DPoP.BaseURL and returns it without a
// trailing slash.
func dpopBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%w: Options.DPoP.BaseURL %q must be an absolute http(s) URL without query or fragment", ErrInvalidOptions, raw)
	}
	if u.Scheme == "http" && !isLocalHost(u.Hostname()) {
		return "", fmt.Errorf("%w: Options.DPoP.BaseURL must use https except on localhost", ErrInvalidOptions)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// dpopScheme is the Authorization scheme of DPoP-bound access tokens.
const dpopScheme = "dpop "

// dpopAuthorization returns the token of a guarded request's
// "Authorization: DPoP" header, or none.
func dpopAuthorization(c *gin.Context) (token string, ok bool) {
	values := c.Request.Header.Values("Authorization")
	if len(values) != 1 || len(values[0]) < len(dpopScheme) || !strings.EqualFold(values[0][:len(dpopScheme)], dpopScheme) {
		return "", false
	}
	return strings.TrimSpace(values[0][len(dpopScheme):]), true
}

// proof verifies the request's DPoP proof, made for accessToken ("" at the
// token routes), and returns it. A request must carry exactly one.
func (d *dpopBinding) proof(c *gin.Context, accessToken string) (dpop.Proof, error) {
	values := c.Request.Header.Values("DPoP")
	switch len(values) {
	case 0:
		return dpop.Proof{}, fmt.Errorf("%w: DPoP proof missing", ErrInvalidDPoPProof)
	case 1:
	default:
		return dpop.Proof{}, fmt.Errorf("%w: several DPoP headers", ErrInvalidDPoPProof)
	}
	if d.nonces != nil {
		c.Header("DPoP-Nonce", d.nonces.current())
	}
	p, err := d.verifier.Verify(values[0], dpop.Request{
		Method:      c.Request.Method,
		URI:         d.base + c.Request.URL.EscapedPath(),
		AccessToken: accessToken,
	})
	if err != nil {
		return dpop.Proof{}, fmt.Errorf("%w: %w", ErrInvalidDPoPProof, err)
	}
	if d.nonces != nil && !d.nonces.valid(p.Nonce) {
		return dpop.Proof{}, fmt.Errorf("%w: nonce missing, stale or not the server's", ErrUseDPoPNonce)
	}
	return p, nil
}

// proofID is the replay cache's id of a proof: its key and jti hashed, so
// that ids of different keys never collide and no client value reaches the
// store.
func proofID(p dpop.Proof) string {
	sum := sha256.Sum256([]byte(p.JKT + "." + p.JTI))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sameKey compares a token's cnf.jkt with a proof's key in constant time.
func sameKey(cnf *Confirmation, p dpop.Proof) bool {
	return cnf != nil && subtle.ConstantTimeCompare([]byte(cnf.JKT), []byte(p.JKT)) == 1
}

// bindLogin binds a new session to the key of the login's proof: the
// confirmation its tokens carry, or nil for a bearer session.
func (a *Auth) bindLogin(c *gin.Context) (*Confirmation, error) {
	d := a.dpop
	if d == nil || a.cookies != nil {
		return nil, nil // cookie sessions are never bound
	}
	if len(c.Request.Header.Values("DPoP")) == 0 && d.mode == DPoPOptional {
		return nil, nil
	}
	p, err := d.proof(c, "")
	if err != nil {
		return nil, err
	}
	return &Confirmation{JKT: p.JKT}, nil
}

// bindRefresh checks the proof of a refresh: a bound session's refresh
// needs a proof of its key, checked against the replay cache; an unbound
// session is bound by a proof (and must be, with DPoPRequired). It returns
// the confirmation the new tokens carry.
func (a *Auth) bindRefresh(c *gin.Context, claims *Claims) (*Confirmation, error) {
	d := a.dpop
	var p dpop.Proof
	var err error
	switch {
	case claims.Confirmation != nil:
		p, err = a.keyProof(c, claims.Confirmation, "")
	case d == nil || a.cookies != nil || d.mode == DPoPOptional && len(c.Request.Header.Values("DPoP")) == 0:
		return nil, nil // it stays unbound; cookie sessions are never bound
	default:
		p, err = d.proof(c, "")
	}
	if err != nil {
		return nil, err
	}
	if _, err := a.rememberProof(c.Request.Context(), claims, p); err != nil {
		return nil, err
	}
	return &Confirmation{JKT: p.JKT}, nil
}

// keyProof returns the request's proof, made for accessToken ("" at the
// token routes), when it is of the key a token is bound to by cnf.
func (a *Auth) keyProof(c *gin.Context, cnf *Confirmation, accessToken string) (dpop.Proof, error) {
	if a.dpop == nil {
		return dpop.Proof{}, fmt.Errorf("%w: a DPoP-bound token with DPoP off", ErrTokenInvalid)
	}
	p, err := a.dpop.proof(c, accessToken)
	if err != nil {
		return dpop.Proof{}, err
	}
	if !sameKey(cnf, p) {
		return dpop.Proof{}, fmt.Errorf("%w: the proof's key is not the token's", ErrInvalidDPoPProof)
	}
	return p, nil
}

// rememberProof puts a proof of the session of claims in the replay cache,
// reading the session's state in the same store call. It refuses a proof
// seen before, or past the session's bound, and a session no longer alive
// at the claims' user version; the caller checks the generation it needs.
func (a *Auth) rememberProof(ctx context.Context, claims *Claims, p dpop.Proof) (SessionState, error) {
	d := a.dpop
	st, found, outcome, err := d.proofs.StateAndProof(ctx, claims.Subject, claims.SessionID,
		ProofCheck{ID: proofID(p), TTL: d.ttl, Limit: d.limit})
	switch {
	case err != nil:
		return st, storeError(err)
	case !found || st.UserVersion != claims.UserVersion:
		return st, ErrTokenRevoked
	case outcome == ProofReplayed:
		return st, fmt.Errorf("%w: proof presented before", ErrInvalidDPoPProof)
	case outcome != ProofFresh:
		return st, fmt.Errorf("%w: too many proofs for this session; retry later", ErrInvalidDPoPProof)
	}
	return st, nil
}

// checkBoundAccess runs the checks of a guarded request that depend on the
// token's binding: an unbound token must not use the DPoP scheme, and gets
// checkLive; a bound token must come with the DPoP scheme and a fresh
// proof of its key, made for it, and the session's state is read with the
// proof's replay check.
func (a *Auth) checkBoundAccess(c *gin.Context, raw string, viaDPoP bool, claims *Claims, now time.Time) error {
	if claims.Confirmation == nil {
		if viaDPoP {
			return fmt.Errorf("%w: the DPoP scheme with a token that is not DPoP-bound", ErrTokenInvalid)
		}
		return a.checkLive(c.Request.Context(), claims, now)
	}
	if a.dpop != nil && !viaDPoP {
		return fmt.Errorf("%w: a DPoP-bound token presented as a bearer token", ErrTokenInvalid)
	}
	p, err := a.keyProof(c, claims.Confirmation, raw)
	if err != nil {
		return err
	}
	if err := a.checkMaxAge(claims, now); err != nil {
		return err
	}
	st, err := a.rememberProof(c.Request.Context(), claims, p)
	if err != nil {
		return err
	}
	if st.Generation != claims.Generation {
		return ErrTokenRevoked
	}
	return nil
}

// tokenType is the token_type of the tokens of a session with cnf.
func tokenType(cnf *Confirmation) string {
	if cnf != nil {
		return "DPoP"
	}
	return "Bearer"
}

// dpopChallenge wraps the errors of a guard with DPoP on, so that
// DefaultErrorHandler answers a 401 with the DPoP challenge (RFC 9449
// §7.1): alone with DPoPRequired, after the Bearer one with DPoPOptional.
type dpopChallenge struct {
	err      error
	algs     string
	required bool
}

func (e *dpopChallenge) Error() string { return e.err.Error() }
func (e *dpopChallenge) Unwrap() error { return e.err }

// challenge wraps err with the DPoP challenge when DPoP is on.
func (d *dpopBinding) challenge(err error) error {
	if d == nil || err == nil {
		return err
	}
	return &dpopChallenge{err: err, algs: d.algs, required: d.mode == DPoPRequired}
}

// setHeader writes the WWW-Authenticate header of a 401 with info.
func (e *dpopChallenge) setHeader(c *gin.Context, info errorInfo) {
	var v string
	switch info.sentinel {
	case ErrTokenMissing:
		v = `DPoP algs="` + e.algs + `"`
	case ErrInvalidDPoPProof, ErrUseDPoPNonce:
		v = `DPoP error="` + info.code + `", error_description="` + info.description + `", algs="` + e.algs + `"`
	default:
		v = `DPoP error="invalid_token", error_description="` + info.description + `", algs="` + e.algs + `"`
	}
	h := c.Writer.Header()
	if e.required {
		h.Set("WWW-Authenticate", v)
	} else {
		h.Add("WWW-Authenticate", v)
	}
}

// checkLogoutProof requires, for a DPoP-bound token sent to the logout
// route, a proof of its key, made for the access token when the request
// carries one: a stolen token alone cannot end the session. Logout proofs
// are not remembered: a replayed one can only end a session again.
func (a *Auth) checkLogoutProof(c *gin.Context, claims *Claims, access string) error {
	if claims.Confirmation == nil {
		return nil
	}
	_, err := a.keyProof(c, claims.Confirmation, access)
	return err
}
