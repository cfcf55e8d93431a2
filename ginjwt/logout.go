package ginjwt

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Logout scopes, in the "scope" query parameter or body field.
const (
	ScopeLocal  = "local"  // this session (default)
	ScopeOthers = "others" // every session of the user but this one
	ScopeGlobal = "global" // every session of the user
)

// LogoutHandler returns the logout route. It takes the access token from the
// Authorization header or the refresh token from the body (JSON or form, as
// for refresh); either suffices. It answers 204, also when the session was
// already gone.
//
// With scope "local" (the default) it ends the token's session, and expired
// tokens are accepted, so a mobile app holding only a refresh token can log
// out. Only the session's current tokens can end it: its current access
// token, or the refresh token of its current or previous generation (a
// client whose last refresh response was lost holds the previous one). An
// older access token answers 401 token_revoked and changes nothing; an older
// refresh token is reuse, as at the refresh route: the session ends and the
// answer is 401 refresh_reused. Scopes "others" and "global" end more than
// the caller's own session, so they need a token that still passes every
// check. An unknown scope answers 400.
//
// The logout route is not a token endpoint: unlike RefreshHandler it
// answers its refusals as the guard does (401 with the specific code and a
// Bearer challenge, 400 bad_request), never as GrantErrors.
func (a *Auth) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := readTokenRequest(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		scope := req.Scope
		if scope == "" {
			scope = c.DefaultQuery("scope", ScopeLocal)
		}
		access, accessAmbient := lookupToken(c, a.lookup)
		if access == "" && a.dpop != nil {
			access, _ = dpopAuthorization(c)
		}
		refresh, refreshAmbient := a.refreshToken(c, req)
		if access == "" && refresh == "" {
			a.fail(c, ErrTokenMissing)
			return
		}
		creds := logoutCredentials{access, refresh, accessAmbient, refreshAmbient}
		switch scope {
		case ScopeLocal:
			err = a.logoutLocal(c, creds)
		case ScopeOthers, ScopeGlobal:
			err = a.logoutWide(c, scope, creds)
		default:
			err = fmt.Errorf("%w: unsupported logout scope", ErrBadRequest)
		}
		if err != nil {
			a.fail(c, err)
			return
		}
		// Scope others ends the other sessions only: the caller stays signed
		// in and keeps its cookies.
		if a.cookies != nil && scope != ScopeOthers {
			a.clearTokenCookies(c)
		}
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusNoContent)
	}
}

// logoutCredentials are the tokens a logout request carries, and whether
// each came from a cookie.
type logoutCredentials struct {
	access, refresh               string
	accessAmbient, refreshAmbient bool
}

// logoutLocal ends the sessions of the given tokens, which may be expired,
// when they are current enough to speak for them (see LogoutHandler). Every
// token sent must pass verification before anything ends; then one that may
// end its session is enough.
func (a *Auth) logoutLocal(c *gin.Context, creds logoutCredentials) error {
	type verified struct {
		claims  *Claims
		refresh bool
	}
	var tokens []verified
	for _, tok := range []struct {
		raw     string
		ambient bool
		v       *verifier
		refresh bool
	}{
		{creds.access, creds.accessAmbient, a.logoutAccess, false},
		{creds.refresh, creds.refreshAmbient, a.logoutRefresh, true},
	} {
		if tok.raw == "" {
			continue
		}
		claims, err := tok.v.verify(tok.raw)
		if err != nil {
			return err
		}
		if err := a.checkCSRF(c, tok.ambient, claims.SessionID); err != nil {
			return err
		}
		if err := a.checkLogoutProof(c, claims, creds.access); err != nil {
			return err
		}
		tokens = append(tokens, verified{claims, tok.refresh})
	}
	var (
		ended   []*Claims
		refused error
	)
	for _, tok := range tokens {
		claims := tok.claims
		if len(ended) > 0 && claims.Subject == ended[0].Subject && claims.SessionID == ended[0].SessionID {
			continue
		}
		switch err := a.endSession(c, claims, tok.refresh); {
		case err == nil:
			ended = append(ended, claims)
		case errors.Is(err, ErrRefreshReused), errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrServer):
			return err
		default:
			refused = err
		}
	}
	if len(ended) == 0 && refused != nil {
		return refused
	}
	return nil
}

// endSession ends the session of claims if the token may speak for it: the
// session's current generation, the previous one for a refresh token, or a
// later one (the store lost a rotation). A session already gone needs
// nothing. An older access token is refused with ErrTokenRevoked; an older
// refresh token is reuse: the session ends and ErrRefreshReused says so.
func (a *Auth) endSession(c *gin.Context, claims *Claims, refresh bool) error {
	ctx := c.Request.Context()
	st, found, err := a.opts.Store.State(ctx, claims.Subject, claims.SessionID)
	if err != nil {
		return storeError(err)
	}
	if !found || st.UserVersion != claims.UserVersion {
		// Logged out already, maybe by an earlier try of this request whose
		// answer was an error. Delete again all the same: the write is what
		// a store with replica acks waits on, so that a 204 always means the
		// logout is durable.
		if err := a.opts.Store.DeleteSession(ctx, claims.Subject, claims.SessionID); err != nil {
			return storeError(err)
		}
		return nil
	}
	oldest := st.Generation
	if refresh {
		oldest--
	}
	stale := claims.Generation < oldest
	if stale && !refresh {
		return fmt.Errorf("%w: an older token of the session cannot end it", ErrTokenRevoked)
	}
	if err := a.opts.Store.DeleteSession(ctx, claims.Subject, claims.SessionID); err != nil {
		return storeError(err)
	}
	if stale {
		client := clientInfo(c)
		a.emit(Event{Kind: EventReuseDetected, Subject: claims.Subject, SessionID: claims.SessionID,
			IP: client.IP, UserAgent: client.UserAgent, Reason: "logout"})
		return ErrRefreshReused
	}
	a.emitLogout(c, claims, ScopeLocal)
	return nil
}

// logoutWide ends the other sessions, or all sessions, of the user of a
// token that passes every check. The access token is used when both are sent.
func (a *Auth) logoutWide(c *gin.Context, scope string, creds logoutCredentials) error {
	v, raw, ambient := a.access, creds.access, creds.accessAmbient
	if raw == "" {
		v, raw, ambient = a.refresh, creds.refresh, creds.refreshAmbient
	}
	claims, err := v.verify(raw)
	if err != nil {
		return err
	}
	if err := a.checkCSRF(c, ambient, claims.SessionID); err != nil {
		return err
	}
	if err := a.checkLogoutProof(c, claims, creds.access); err != nil {
		return err
	}
	if err := a.checkSession(c.Request.Context(), claims); err != nil {
		return err
	}
	if scope == ScopeGlobal {
		err = a.opts.Store.RevokeUser(c.Request.Context(), claims.Subject)
	} else {
		err = a.opts.Store.RevokeOtherSessions(c.Request.Context(), claims.Subject, claims.SessionID)
	}
	if err != nil {
		return storeError(err)
	}
	a.emitLogout(c, claims, scope)
	return nil
}

func (a *Auth) emitLogout(c *gin.Context, claims *Claims, scope string) {
	client := clientInfo(c)
	a.emit(Event{Kind: EventLogout, Subject: claims.Subject, SessionID: claims.SessionID, IP: client.IP, UserAgent: client.UserAgent, Reason: scope})
}
