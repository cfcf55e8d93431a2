package ginjwt

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// SessionView is a session as the session routes show it to its owner.
type SessionView struct {
	SessionInfo
	Current bool `json:"current"` // the session of the token that asked
}

// SessionsResponse is the body of the session list route.
type SessionsResponse struct {
	Sessions []SessionView `json:"sessions"`
}

// SessionsHandler returns a route that lists the caller's own live sessions,
// oldest first, marking the current one: at most Options.MaxSessions, since
// a login past it ends the least recently used. Mount it behind Middleware,
// or alone: it then runs the same checks itself.
//
//	r.GET("/auth/sessions", auth.SessionsHandler())
func (a *Auth) SessionsHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := a.authenticated(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		list, err := a.Sessions(c.Request.Context(), claims.Subject)
		if err != nil {
			a.fail(c, err)
			return
		}
		res := SessionsResponse{Sessions: make([]SessionView, len(list))}
		for i, s := range list {
			res.Sessions[i] = SessionView{SessionInfo: s, Current: s.ID == claims.SessionID}
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, res)
	}
}

// RevokeSessionHandler returns a route that ends one of the caller's own
// sessions, named by the ":id" path parameter, and answers 204. A session id
// that is not one of the caller's live sessions answers 404
// session_not_found: nobody can end another user's session through it.
//
//	r.DELETE("/auth/sessions/:id", auth.RevokeSessionHandler())
func (a *Auth) RevokeSessionHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := a.authenticated(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		id := c.Param("id")
		_, found, err := a.opts.Store.State(c.Request.Context(), claims.Subject, id)
		if err != nil {
			a.fail(c, storeError(err))
			return
		}
		if !found {
			a.fail(c, ErrSessionNotFound)
			return
		}
		if err := a.opts.Store.DeleteSession(c.Request.Context(), claims.Subject, id); err != nil {
			a.fail(c, storeError(err))
			return
		}
		client := clientInfo(c)
		a.emit(Event{Kind: EventRevoke, Subject: claims.Subject, SessionID: id, IP: client.IP, UserAgent: client.UserAgent, Reason: "session"})
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusNoContent)
	}
}
