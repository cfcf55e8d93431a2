package ginjwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// TokenResponse is the body of a successful login or refresh (RFC 6749 §5.1).
// With the cookie transport the tokens are in cookies instead, and the body
// carries the CSRF token.
type TokenResponse struct {
	AccessToken      string `json:"access_token,omitempty"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"` // absent after a step-up, which leaves the refresh token as it is
	CSRFToken        string `json:"csrf_token,omitempty"`
}

// Lengths kept of client-supplied labels: enough to recognise a device,
// short enough to keep a session's state small in any store.
const (
	maxDeviceLen    = 64
	maxUserAgentLen = 64
)

// maxLoginBodySize bounds the body a login request may send to
// Options.Authenticate.
const maxLoginBodySize = 64 << 10

// LoginHandler returns the login route. It calls Options.Authenticate and,
// on success, starts a session and answers 200 with a TokenResponse. A
// subject that already has Options.MaxSessions sessions loses its least
// recently used one in the same store call (event revoke, reason
// session_limit).
// Request bodies are cut at 64 KiB. It panics when Options.Authenticate is nil, at route set-up.
func (a *Auth) LoginHandler() gin.HandlerFunc {
	if a.opts.Authenticate == nil {
		panic("ginjwt: LoginHandler needs Options.Authenticate")
	}
	return func(c *gin.Context) {
		if a.cookies != nil {
			if err := a.checkCookieLogin(c); err != nil {
				a.fail(c, err)
				return
			}
		}
		cnf, err := a.bindLogin(c)
		if err != nil {
			a.failGrant(c, err)
			return
		}
		client := clientInfo(c)
		id, attempt, ok := a.authenticate(c, client)
		if !ok {
			return
		}
		a.loginSucceeded(c, client, attempt)
		a.startSession(c, id, client, cnf)
	}
}

// authenticate runs Options.Authenticate within the login limits, on a
// body cut at 64 KiB. When it refuses the request it answers it and returns
// false.
func (a *Auth) authenticate(c *gin.Context, client ClientInfo) (Identity, *loginAttempt, bool) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLoginBodySize)
	}
	attempt, err := a.startLogin(c, client)
	if err != nil {
		a.refuse(c, err, Event{})
		return Identity{}, nil, false
	}
	id, err := a.opts.Authenticate(c)
	if err != nil {
		err = loginError(err)
		if errors.Is(err, ErrTooManyRequests) {
			a.refuse(c, err, Event{})
			return Identity{}, nil, false
		}
		a.emit(Event{Kind: EventLoginFailed, IP: client.IP, UserAgent: client.UserAgent, Reason: ErrorCode(err)})
		a.fail(c, err)
		return Identity{}, nil, false
	}
	return id, attempt, true
}

// sessionClaims checks what Authenticate returned and turns it into the
// claims a new session's tokens share.
func (a *Auth) sessionClaims(id Identity) (Claims, error) {
	if id.Subject == "" || len(id.Subject) > maxSubjectLen || !utf8.ValidString(id.Subject) {
		return Claims{}, fmt.Errorf("%w: an Identity with a subject of %d bytes (want 1 to %d of UTF-8)", ErrServer, len(id.Subject), maxSubjectLen)
	}
	for _, s := range id.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return Claims{}, fmt.Errorf("%w: an Identity with an empty scope or one with spaces", ErrServer)
		}
	}
	session := Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: id.Subject},
		SessionID:        newID(),
		Roles:            id.Roles,
		Scope:            strings.Join(id.Scopes, " "),
		ACR:              id.ACR,
		AMR:              id.AMR,
	}
	if id.Extra != nil {
		extra, err := json.Marshal(id.Extra)
		if err != nil {
			return Claims{}, fmt.Errorf("%w: encoding Identity.Extra: %w", ErrServer, err)
		}
		session.Extra = extra
	}
	return session, nil
}

// loginError keeps the client-facing sentinels of an Authenticate error and
// turns anything else into a server error.
func loginError(err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrBadRequest), errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrTooManyRequests):
		return err
	}
	return fmt.Errorf("%w: Authenticate: %w", ErrServer, err)
}

// RefreshHandler returns the refresh route. It takes the refresh token from a
// JSON body {"refresh_token": "…"} or a form
// (grant_type=refresh_token&refresh_token=…), rotates the session and answers
// 200 with a new TokenResponse. The previous tokens of the session stop
// working at once; see Options.RefreshGrace for concurrent refreshes.
// Its refusals of the grant are GrantErrors, answered as an OAuth 2.0 token
// endpoint does (RFC 6749 §5.2): 400 invalid_grant with the specific
// reason (refresh_reused, token_revoked, session_expired, …), 400
// invalid_request or unsupported_grant_type.
func (a *Auth) RefreshHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := readTokenRequest(c)
		if err != nil {
			a.failGrant(c, err)
			return
		}
		if req.GrantType != "" && req.GrantType != "refresh_token" {
			a.fail(c, &GrantError{Code: grantUnsupportedGrantType, Err: fmt.Errorf("%w: grant_type must be refresh_token", ErrBadRequest)})
			return
		}
		raw, ambient := a.refreshToken(c, req)
		if raw == "" {
			a.failGrant(c, fmt.Errorf("%w: refresh_token is missing", ErrBadRequest))
			return
		}
		claims, err := a.refresh.verify(raw)
		if err != nil {
			a.failGrant(c, a.refreshError(raw, err))
			return
		}
		if err := a.checkCSRF(c, ambient, claims.SessionID); err != nil {
			a.fail(c, err)
			return
		}
		now := a.opts.Now()
		if err := a.checkMaxAge(claims, now); err != nil {
			a.failGrant(c, err)
			return
		}
		cnf, err := a.bindRefresh(c, claims)
		if err != nil {
			a.failGrant(c, err)
			return
		}
		client := clientInfo(c)
		grace, retries, reuseAfter := a.opts.grace()
		res, err := a.opts.Store.Rotate(c.Request.Context(), claims.Subject, claims.SessionID, Rotation{
			UserVersion: claims.UserVersion,
			Generation:  claims.Generation,
			Grace:       grace,
			Retries:     retries,
			ReuseAfter:  reuseAfter,
			TTL:         a.opts.RefreshTTL,
			MaxAge:      a.opts.SessionMaxAge,
			Client:      a.stored(client),
			Limit:       a.refreshLimit(),
		})
		if err != nil {
			a.fail(c, storeError(err))
			return
		}
		event := Event{Subject: claims.Subject, SessionID: claims.SessionID, IP: client.IP, UserAgent: client.UserAgent}
		switch res.Outcome {
		case Rotated, Converged, Retried, Healed:
			claims.Generation, claims.Confirmation = res.Generation, cnf
			if err := a.refreshIdentity(c.Request.Context(), claims, event); err != nil {
				a.failGrant(c, err)
				return
			}
			if a.respondPair(c, now, *claims) {
				event.Kind = EventRefresh
				if res.Outcome != Rotated {
					event.Reason = refreshReasons[res.Outcome]
				}
				a.emit(event)
			}
		case Throttled:
			r := a.limits.RefreshPerSession
			a.refuse(c, &RateLimitError{Policy: policyRefresh, Quota: r.Burst, Window: r.window(), RetryAfter: res.RetryAfter}, event)
		case Superseded:
			a.failGrant(c, fmt.Errorf("%w: refresh token already rotated", ErrTokenRevoked))
		case Reused:
			event.Kind = EventReuseDetected
			a.emit(event)
			a.failGrant(c, ErrRefreshReused)
		case Expired:
			a.failGrant(c, ErrSessionExpired)
		case Revoked:
			a.failGrant(c, ErrTokenRevoked)
		default:
			a.fail(c, fmt.Errorf("%w: store returned rotate outcome %v", ErrServer, res.Outcome))
		}
	}
}

// refreshReasons are the reasons of refresh events that did not advance the
// generation by one.
var refreshReasons = map[RotateOutcome]string{Converged: "converged", Retried: "retry", Healed: "healed"}

// sessionEnd is when the session of claims reaches Options.SessionMaxAge,
// counted from its start (sst, else auth_time).
func (a *Auth) sessionEnd(claims *Claims) time.Time {
	return time.Unix(claims.sessionStart(), 0).Add(a.opts.SessionMaxAge)
}

// checkMaxAge refuses, with ErrSessionExpired, claims whose session has
// reached Options.SessionMaxAge.
func (a *Auth) checkMaxAge(claims *Claims, now time.Time) error {
	if !now.Before(a.sessionEnd(claims)) {
		return fmt.Errorf("%w: past the session's maximum age", ErrSessionExpired)
	}
	return nil
}

// refreshError tells an expired refresh token whose session reached its
// absolute lifetime (session_expired: log in again) from one that merely sat
// idle too long (token_expired).
func (a *Auth) refreshError(raw string, err error) error {
	if !errors.Is(err, ErrTokenExpired) {
		return err
	}
	claims, verr := a.logoutRefresh.verify(raw)
	if verr != nil {
		return err
	}
	if expired := a.checkMaxAge(claims, a.opts.Now()); expired != nil {
		return expired
	}
	return err
}

// respondPair issues a token pair and writes it as a TokenResponse. It
// reports whether it succeeded.
func (a *Auth) respondPair(c *gin.Context, now time.Time, session Claims) bool {
	p, err := a.issuePair(now, session)
	if err != nil {
		a.fail(c, err)
		return false
	}
	return a.writePair(c, p, session)
}

// refreshToken returns the refresh token of a refresh or logout request:
// from the body, else from the cookie transport. ambient reports whether it
// needs the CSRF header: always with cookies on, even for a body token, or a
// cross-site form could plant another account's session in the browser
// (login CSRF).
func (a *Auth) refreshToken(c *gin.Context, req tokenRequest) (raw string, ambient bool) {
	if req.RefreshToken != "" {
		return req.RefreshToken, a.cookies != nil
	}
	if a.cookies == nil {
		return "", false
	}
	return FromCookie(a.cookies.RefreshName)(c)
}

// clientInfo reads the informational client details of a request.
func clientInfo(c *gin.Context) ClientInfo {
	return ClientInfo{IP: c.ClientIP(), UserAgent: cleanLabel(c.GetHeader("User-Agent"), maxUserAgentLen)}
}

// stored is what the store keeps of a client: nothing with
// Options.OmitClientInfo.
func (a *Auth) stored(client ClientInfo) ClientInfo {
	if a.opts.OmitClientInfo {
		return ClientInfo{}
	}
	return client
}

// cleanLabel cleans a client-supplied label for storage: valid UTF-8, no
// control characters, at most n bytes without splitting a character.
func cleanLabel(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
