package ginjwt

import (
	"context"

	"github.com/gin-gonic/gin"
)

// claimsKey is the gin context key of the verified claims.
type claimsKey struct{}

// Middleware returns the guard: it lets a request through only when it
// carries a valid access token whose session is alive in the store, and
// stores the verified claims in the context (see ClaimsFromContext).
// Otherwise it answers 401 with the reason, or 503 when the store cannot be
// reached, and aborts the chain.
func (a *Auth) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := TokenFromHeader(c)
		if raw == "" {
			a.fail(c, ErrTokenMissing)
			return
		}
		claims, err := a.access.verify(raw)
		if err != nil {
			a.fail(c, err)
			return
		}
		if err := a.checkSession(c.Request.Context(), claims); err != nil {
			a.fail(c, err)
			return
		}
		c.Set(claimsKey{}, claims)
		c.Next()
	}
}

// checkSession asks the store whether the token's session is alive at the
// token's generation and user version: one round trip.
func (a *Auth) checkSession(ctx context.Context, claims *Claims) error {
	st, found, err := a.opts.Store.State(ctx, claims.Subject, claims.SessionID)
	if err != nil {
		return storeError(err)
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
func ClaimsFromContext(c *gin.Context) (*Claims, bool) {
	v, ok := c.Get(claimsKey{})
	if !ok {
		return nil, false
	}
	claims, ok := v.(*Claims)
	return claims, ok
}

// Subject returns the subject of the request's verified token, or "" when
// the guard did not run.
func Subject(c *gin.Context) string {
	if claims, ok := ClaimsFromContext(c); ok {
		return claims.Subject
	}
	return ""
}

// SessionID returns the session id of the request's verified token, or ""
// when the guard did not run.
func SessionID(c *gin.Context) string {
	if claims, ok := ClaimsFromContext(c); ok {
		return claims.SessionID
	}
	return ""
}
