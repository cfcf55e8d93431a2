package ginjwt

import (
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
// out. Scopes "others" and "global" end more than the caller's own session,
// so they need a token that still passes every check. 401 answers only
// tokens that fail those checks; an unknown scope answers 400.
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

// logoutLocal ends the sessions of the given tokens, which may be expired.
func (a *Auth) logoutLocal(c *gin.Context, creds logoutCredentials) error {
	var sessions []*Claims
	if creds.access != "" {
		claims, err := a.logoutAccess.verify(creds.access)
		if err != nil {
			return err
		}
		if err := a.checkCSRF(c, creds.accessAmbient, claims.SessionID); err != nil {
			return err
		}
		sessions = append(sessions, claims)
	}
	if creds.refresh != "" {
		claims, err := a.logoutRefresh.verify(creds.refresh)
		if err != nil {
			return err
		}
		if err := a.checkCSRF(c, creds.refreshAmbient, claims.SessionID); err != nil {
			return err
		}
		if len(sessions) == 0 || claims.Subject != sessions[0].Subject || claims.SessionID != sessions[0].SessionID {
			sessions = append(sessions, claims)
		}
	}
	for _, s := range sessions {
		if err := a.opts.Store.DeleteSession(c.Request.Context(), s.Subject, s.SessionID); err != nil {
			return storeError(err)
		}
		a.emitLogout(c, s, ScopeLocal)
	}
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
