package ginjwt

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
)

// claimsKey is the gin context key of the verified claims: a *Claims of
// the request's own, or sharedClaims.
type claimsKey struct{}

// sharedClaims are claims the token cache also serves to other requests.
// They are read in this package only; ClaimsFromContext hands the request
// its own copy the first time it is asked, so a request that never reads
// its claims never copies them. One pointer: storing it in the context's
// map allocates nothing.
type sharedClaims struct{ claims *Claims }

// Middleware returns the guard: it lets a request through only when it
// carries a valid access token whose session is alive in the store and that
// meets every requirement, and stores the verified claims in the context
// (see ClaimsFromContext). Otherwise it aborts the chain and answers 401 with
// the reason, the error of the first requirement that fails (see
// Requirement), or 503 when the store cannot be reached.
//
//	admin := r.Group("/admin", auth.Middleware(ginjwt.RequireRole("admin")))
func (a *Auth) Middleware(requirements ...Requirement) gin.HandlerFunc {
	return func(c *gin.Context) {
		var now time.Time
		if a.opts.OnGuard != nil {
			now = a.opts.Now() // the hook's reading, taken before any check
		}
		raw, ambient := lookupToken(c, a.lookup)
		claims, shared, err := a.warmRequest(c, raw, ambient)
		if !shared {
			if now.IsZero() {
				now = a.opts.Now()
			}
			claims, shared, err = a.verifyRequest(c, raw, ambient, now)
			if err != nil && a.legacy != nil {
				claims, err = a.legacyRequest(c, raw, ambient, err)
				shared = false
			}
		}
		if err == nil && len(requirements) > 0 {
			if shared { // a requirement is the application's code
				claims, shared = cloneClaims(claims), false
			}
			claims, err = meetAll(claims, requirements)
		}
		if a.opts.OnGuard != nil {
			a.opts.OnGuard(c.Request.Context(), now, err)
		}
		if err != nil {
			a.fail(c, a.dpop.challenge(err))
			return
		}
		if shared {
			c.Set(claimsKey{}, sharedClaims{claims})
		} else {
			c.Set(claimsKey{}, claims)
		}
		c.Next()
	}
}

// warmRequest runs the guard's checks on raw, the token lookupToken found
// (ambient: in a cookie), when the token cache holds it as a bearer token,
// without reading the wall clock: the cache timed the token's
// expiry and its session's end on the monotonic clock when it was
// verified (see tokenCache.live), so no clock but that one is read. It
// returns shared true when it answered, the token cache's claims or the
// CSRF or session check's error; false, and no error, when the request
// needs the full checks (verifyRequest): warm off (Options.Now set), no
// bearer token, one not cached or past its deadline, or a DPoP-bound one.
func (a *Auth) warmRequest(c *gin.Context, raw string, ambient bool) (claims *Claims, shared bool, err error) {
	if !a.warm || raw == "" {
		return nil, false, nil
	}
	if claims = a.tokens.live(raw); claims == nil || claims.Confirmation != nil {
		return nil, false, nil
	}
	if err := a.checkCSRF(c, ambient, claims.SessionID); err != nil {
		return nil, true, err
	}
	if err := a.checkSession(c.Request.Context(), claims); err != nil {
		return nil, true, err
	}
	return claims, true, nil
}

// verifyRequest runs the guard's checks on the request's access token, as
// of now: raw, the token lookupToken found (ambient: in a cookie), or else
// a DPoP-bound one. Shared claims are the token cache's (see verifyAccess).
func (a *Auth) verifyRequest(c *gin.Context, raw string, ambient bool, now time.Time) (claims *Claims, shared bool, err error) {
	viaDPoP := false
	if raw == "" && a.dpop != nil {
		raw, viaDPoP = dpopAuthorization(c)
	}
	if raw == "" {
		return nil, false, ErrTokenMissing
	}
	if claims, shared, err = a.verifyAccess(raw, now); err != nil {
		return nil, false, err
	}
	if err := a.checkCSRF(c, ambient, claims.SessionID); err != nil {
		return nil, false, err
	}
	if err := a.checkBoundAccess(c, raw, viaDPoP, claims, now); err != nil {
		return nil, false, err
	}
	return claims, shared, nil
}

// Verify runs the guard's checks on an access token for code outside the
// middleware chain: a WebSocket upgrade, a gRPC interceptor, a background
// job. It checks the signature, the algorithm, the type and every claim,
// the session's state in the store and then each requirement, and returns
// the claims or the error the guard would answer (see ErrorCode and
// HTTPStatus). It does no CSRF check: that belongs to cookie-borne HTTP
// requests, which the middleware serves. With Options.LegacyTokens it also
// accepts, as the middleware does, a token of the previous system
// (Claims.Legacy), which has no session to check.
func (a *Auth) Verify(ctx context.Context, token string, requirements ...Requirement) (*Claims, error) {
	now := a.opts.Now()
	claims, err := a.verifyToken(ctx, token, now, requirements)
	if a.opts.OnGuard != nil {
		a.opts.OnGuard(ctx, now, err)
	}
	return claims, err
}

// verifyToken is Verify's checks, as of now.
func (a *Auth) verifyToken(ctx context.Context, token string, now time.Time, requirements []Requirement) (*Claims, error) {
	if token == "" {
		return nil, ErrTokenMissing
	}
	claims, shared, err := a.verifyAccess(token, now)
	if err == nil && shared {
		claims = cloneClaims(claims) // the caller's to keep
	}
	if err != nil && a.legacy != nil {
		if claims, err = a.legacyFallback(token, err); err == nil {
			return meetAll(claims, requirements) // no session to check
		}
	}
	if err != nil {
		return nil, err
	}
	if claims.Confirmation != nil {
		return nil, fmt.Errorf("%w: a DPoP-bound token is checked with its proof, by the middleware", ErrTokenInvalid)
	}
	if err := a.checkLive(ctx, claims, now); err != nil {
		return nil, err
	}
	return meetAll(claims, requirements)
}

// checkLive refuses claims whose session has reached its maximum age or is
// no longer at their generation and user version in the store.
func (a *Auth) checkLive(ctx context.Context, claims *Claims, now time.Time) error {
	if err := a.checkMaxAge(claims, now); err != nil {
		return err
	}
	return a.checkSession(ctx, claims)
}

// verifyAccess verifies an access token, through the token cache when on.
// Shared claims are held by the cache for other requests too: this package
// only reads them, and copies them (cloneClaims) before they reach
// application code.
func (a *Auth) verifyAccess(raw string, now time.Time) (claims *Claims, shared bool, err error) {
	if a.tokens == nil {
		claims, err = a.access.verifyAt(raw, now)
		return claims, false, err
	}
	if claims, ok := a.tokens.get(raw, now); ok {
		return claims, true, nil
	}
	if claims, err = a.access.verifyAt(raw, now); err != nil {
		return nil, false, err
	}
	a.tokens.put(raw, claims, now, a.sessionEnd(claims))
	return claims, true, nil
}

// authenticated returns the claims the guard stored for this request or,
// when no guard ran before, runs its checks.
// The claims may be shared (see verifyAccess): callers only read them.
func (a *Auth) authenticated(c *gin.Context) (*Claims, error) {
	if claims, ok := requestClaims(c); ok {
		if claims.Legacy {
			return nil, errLegacyNoSession
		}
		return claims, nil
	}
	raw, ambient := lookupToken(c, a.lookup)
	claims, _, err := a.verifyRequest(c, raw, ambient, a.opts.Now())
	return claims, err
}

// checkSession asks the store whether the token's session is alive at the
// token's generation and user version: one round trip.
func (a *Auth) checkSession(ctx context.Context, claims *Claims) error {
	st, found, err := a.opts.Store.State(ctx, claims.Subject, claims.SessionID)
	if err != nil {
		return storeError(err)
	}
	if found && (claims.Generation > st.Generation || claims.UserVersion != st.UserVersion) {
		if fresher, ok := a.opts.Store.(StateRefresher); ok {
			// The token may be newer than a cached state: ask the source.
			if st, found, err = fresher.FreshState(ctx, claims.Subject, claims.SessionID); err != nil {
				return storeError(err)
			}
		}
	}
	if !found || st.UserVersion != claims.UserVersion || st.Generation != claims.Generation {
		return ErrTokenRevoked
	}
	return nil
}

// fail hands err to the error handler and makes sure the chain stops.
func (a *Auth) fail(c *gin.Context, err error) {
	a.opts.ErrorHandler(c, err)
	c.Abort()
}

// ClaimsFromContext returns the claims the guard verified for this request.
// They are the request's own: changing them changes nothing elsewhere. The
// guard shares a token's claims between requests and copies them here, the
// first time a request asks: a context copied with c.Copy before that gets
// a copy of its own.
func ClaimsFromContext(c *gin.Context) (*Claims, bool) {
	claims, shared, ok := storedClaims(c)
	if ok && shared {
		claims = cloneClaims(claims)
		c.Set(claimsKey{}, claims)
	}
	return claims, ok
}

// requestClaims returns the claims the guard verified for this request
// without copying them: they may be shared, for reading only.
func requestClaims(c *gin.Context) (*Claims, bool) {
	claims, _, ok := storedClaims(c)
	return claims, ok
}

// storedClaims returns the claims the guard stored in c, and whether they
// are the token cache's (sharedClaims).
func storedClaims(c *gin.Context) (claims *Claims, shared, ok bool) {
	v, _ := c.Get(claimsKey{})
	switch v := v.(type) {
	case *Claims:
		return v, false, true
	case sharedClaims:
		return v.claims, true, true
	}
	return nil, false, false
}

// Subject returns the subject of the request's verified token, or "" when
// the guard did not run.
func Subject(c *gin.Context) string {
	if claims, ok := requestClaims(c); ok {
		return claims.Subject
	}
	return ""
}

// SessionID returns the session id of the request's verified token, or ""
// when the guard did not run.
func SessionID(c *gin.Context) string {
	if claims, ok := requestClaims(c); ok {
		return claims.SessionID
	}
	return ""
}
