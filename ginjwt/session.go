package ginjwt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Tokens are the tokens of a session started from Go with IssueTokens.
type Tokens struct {
	SessionID        string
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// Login starts a session for id, which the app has already authenticated
// (after sign-up, an OAuth or OpenID Connect callback, a magic link, a
// passkey), and answers the request in c as LoginHandler does: 200 with a
// TokenResponse, or with the cookie transport the token cookies and the
// CSRF token. It emits the same events and applies Options.MaxSessions. With
// the cookie transport an unsafe request must come from a trusted origin,
// as everywhere. On failure it answers the error and aborts.
func (a *Auth) Login(c *gin.Context, id Identity) {
	if a.cookies != nil && !safeMethod(c.Request.Method) {
		if err := a.checkOrigin(c); err != nil {
			a.fail(c, err)
			return
		}
	}
	cnf, err := a.bindLogin(c)
	if err != nil {
		a.failGrant(c, err)
		return
	}
	a.startSession(c, id, clientInfo(c), cnf)
}

// IssueTokens starts a session for id and returns its tokens, for code that
// answers outside Gin or hands the tokens over another way. client is
// recorded on the session for session lists and may be empty. It emits the
// same events as a login and applies Options.MaxSessions. Errors wrap
// ErrStoreUnavailable or ErrServer.
func (a *Auth) IssueTokens(ctx context.Context, id Identity, client ClientInfo) (Tokens, error) {
	session, p, err := a.createSession(ctx, id, client, nil)
	if err != nil {
		return Tokens{}, err
	}
	a.emit(Event{Kind: EventLogin, Subject: id.Subject, SessionID: session.SessionID, Device: cleanLabel(id.Device, maxDeviceLen), IP: client.IP, UserAgent: client.UserAgent})
	return Tokens{
		SessionID:        session.SessionID,
		AccessToken:      p.access,
		AccessExpiresAt:  p.accessExpiry,
		RefreshToken:     p.refresh,
		RefreshExpiresAt: p.refreshExpiry,
	}, nil
}

// startSession creates a session for id, bound to cnf when not nil, and
// answers c with its tokens.
func (a *Auth) startSession(c *gin.Context, id Identity, client ClientInfo, cnf *Confirmation) {
	session, p, err := a.createSession(c.Request.Context(), id, client, cnf)
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.writePair(c, p, session) {
		a.emit(Event{Kind: EventLogin, Subject: id.Subject, SessionID: session.SessionID, Device: cleanLabel(id.Device, maxDeviceLen), IP: client.IP, UserAgent: client.UserAgent})
	}
}

// createSession records a new session for id in the store and issues its
// first pair. A subject that already has Options.MaxSessions sessions loses
// its least recently used ones in the same store call; each emits a revoke
// event with reason session_limit.
func (a *Auth) createSession(ctx context.Context, id Identity, client ClientInfo, cnf *Confirmation) (Claims, pair, error) {
	session, err := a.sessionClaims(id)
	if err != nil {
		return Claims{}, pair{}, err
	}
	session.Confirmation = cnf
	now := a.opts.Now()
	created, err := a.opts.Store.CreateSession(ctx, id.Subject, NewSession{
		ID:     session.SessionID,
		Device: cleanLabel(id.Device, maxDeviceLen),
		TTL:    a.opts.RefreshTTL,
		MaxAge: a.opts.SessionMaxAge,
		Client: a.stored(client),
		Limit:  a.opts.MaxSessions,
	})
	if err != nil {
		return Claims{}, pair{}, storeError(err)
	}
	// The sessions this login ended are gone whatever happens next.
	for _, ended := range created.Evicted {
		a.emit(Event{Kind: EventRevoke, Subject: id.Subject, SessionID: ended, IP: client.IP, UserAgent: client.UserAgent, Reason: ReasonSessionLimit})
	}
	session.UserVersion, session.Generation, session.AuthTime = created.UserVersion, 1, now.Unix()
	p, err := a.issuePair(now, session)
	if err != nil {
		return Claims{}, pair{}, err
	}
	return session, p, nil
}

// writePair answers c with p as a TokenResponse, extended by
// Options.ExtendTokenResponse. It reports whether it succeeded.
func (a *Auth) writePair(c *gin.Context, p pair, session Claims) bool {
	now := p.issuedAt
	res := TokenResponse{
		TokenType:        tokenType(session.Confirmation),
		ExpiresIn:        int64(p.accessExpiry.Sub(now) / time.Second),
		RefreshExpiresIn: int64(p.refreshExpiry.Sub(now) / time.Second),
	}
	var extra map[string]any
	if a.opts.ExtendTokenResponse != nil {
		var err error
		if extra, err = a.opts.ExtendTokenResponse(c, &session); err != nil {
			a.fail(c, fmt.Errorf("%w: ExtendTokenResponse: %w", ErrServer, err))
			return false
		}
	}
	if a.cookies != nil {
		res.CSRFToken = a.setTokenCookies(c, p, session.SessionID, now)
	} else {
		res.AccessToken, res.RefreshToken = p.access, p.refresh
	}
	body, err := extendJSON(res, extra)
	if err != nil {
		a.fail(c, fmt.Errorf("%w: ExtendTokenResponse: %w", ErrServer, err))
		return false
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	return true
}

// extendJSON encodes res with the fields of extra after its own; a field of
// extra that res has already is dropped, so the standard fields always win.
func extendJSON(res TokenResponse, extra map[string]any) ([]byte, error) {
	body := appendTokenResponse(make([]byte, 0, 160+len(res.AccessToken)+len(res.RefreshToken)+len(res.CSRFToken)), &res)
	if len(extra) == 0 {
		return body, nil
	}
	var own map[string]json.RawMessage
	if err := json.Unmarshal(body, &own); err != nil {
		return nil, err
	}
	added := make(map[string]any, len(extra))
	for k, v := range extra {
		if _, taken := own[k]; !taken && !tokenResponseFields[k] {
			added[k] = v
		}
	}
	if len(added) == 0 {
		return body, nil
	}
	more, err := json.Marshal(added)
	if err != nil {
		return nil, err
	}
	return append(append(body[:len(body)-1], ','), more[1:]...), nil
}

// tokenResponseFields are the fields a TokenResponse may carry, present or
// not; Options.ExtendTokenResponse cannot set them.
var tokenResponseFields = map[string]bool{
	"access_token": true, "token_type": true, "expires_in": true, "refresh_token": true,
	"refresh_expires_in": true, "csrf_token": true, "scope": true,
}
