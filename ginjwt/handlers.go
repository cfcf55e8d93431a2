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
)

// TokenResponse is the body of a successful login or refresh (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

// LoginHandler returns the login route. It calls Options.Authenticate and,
// on success, starts a session and answers 200 with a TokenResponse.
// It panics when Options.Authenticate is nil, at route set-up.
func (a *Auth) LoginHandler() gin.HandlerFunc {
	if a.opts.Authenticate == nil {
		panic("ginjwt: LoginHandler needs Options.Authenticate")
	}
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, DefaultMaxBodySize)
		}
		id, err := a.opts.Authenticate(c)
		if err != nil {
			a.fail(c, loginError(err))
			return
		}
		if id.Subject == "" || len(id.Subject) > maxSubjectLen {
			a.fail(c, fmt.Errorf("%w: Authenticate returned a subject of %d bytes (want 1 to %d)", ErrServer, len(id.Subject), maxSubjectLen))
			return
		}
		var extra []byte
		if id.Extra != nil {
			if extra, err = json.Marshal(id.Extra); err != nil {
				a.fail(c, fmt.Errorf("%w: encoding Identity.Extra: %w", ErrServer, err))
				return
			}
		}
		now := a.opts.Now()
		sid := newID()
		version, err := a.opts.Store.CreateSession(c.Request.Context(), id.Subject, NewSession{
			ID:      sid,
			Device:  deviceLabel(id.Device),
			Created: now,
			TTL:     a.opts.RefreshTTL,
			MaxAge:  a.opts.SessionMaxAge,
		})
		if err != nil {
			a.fail(c, storeError(err))
			return
		}
		a.respondPair(c, id.Subject, sid, version, 1, now, extra)
	}
}

// loginError keeps the client-facing sentinels of an Authenticate error and
// turns anything else into a server error.
func loginError(err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrBadRequest), errors.Is(err, ErrStoreUnavailable):
		return err
	}
	return fmt.Errorf("%w: Authenticate: %w", ErrServer, err)
}

// RefreshHandler returns the refresh route. It takes the refresh token from a
// JSON body {"refresh_token": "…"} or a form
// (grant_type=refresh_token&refresh_token=…), rotates the session and answers
// 200 with a new TokenResponse. The previous tokens of the session stop
// working at once; see Options.RefreshGrace for concurrent refreshes.
func (a *Auth) RefreshHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := readTokenRequest(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		if req.GrantType != "" && req.GrantType != "refresh_token" {
			a.fail(c, fmt.Errorf("%w: grant_type must be refresh_token", ErrBadRequest))
			return
		}
		if req.RefreshToken == "" {
			a.fail(c, fmt.Errorf("%w: refresh_token is missing", ErrBadRequest))
			return
		}
		claims, err := a.refresh.verify(req.RefreshToken)
		if err != nil {
			a.fail(c, a.refreshError(req.RefreshToken, err))
			return
		}
		grace, reuseAfter := a.opts.grace()
		res, err := a.opts.Store.Rotate(c.Request.Context(), claims.Subject, claims.SessionID, Rotation{
			UserVersion: claims.UserVersion,
			Generation:  claims.Generation,
			Now:         a.opts.Now(),
			Grace:       grace,
			ReuseAfter:  reuseAfter,
			TTL:         a.opts.RefreshTTL,
			MaxAge:      a.opts.SessionMaxAge,
		})
		if err != nil {
			a.fail(c, storeError(err))
			return
		}
		switch res.Outcome {
		case Rotated, Converged:
			a.respondPair(c, claims.Subject, claims.SessionID, claims.UserVersion, res.Generation, time.Unix(claims.AuthTime, 0), claims.Extra)
		case Superseded:
			a.fail(c, fmt.Errorf("%w: refresh token already rotated", ErrTokenRevoked))
		case Reused:
			a.fail(c, ErrRefreshReused)
		case Expired:
			a.fail(c, ErrSessionExpired)
		case Revoked:
			a.fail(c, ErrTokenRevoked)
		default:
			a.fail(c, fmt.Errorf("%w: store returned rotate outcome %d", ErrServer, res.Outcome))
		}
	}
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
	if !a.opts.Now().Before(time.Unix(claims.AuthTime, 0).Add(a.opts.SessionMaxAge)) {
		return fmt.Errorf("%w: %w", ErrSessionExpired, err)
	}
	return err
}

// LogoutHandler returns the logout route. It ends the session of the access
// token in the Authorization header or of the refresh token in the body
// (JSON or form, as for refresh); either suffices, and expired tokens are
// accepted, so a mobile app holding only its refresh token can log out.
// It answers 204, also when the session was already gone, and 401 only for
// tokens that fail verification. The optional "scope" (query or body) must
// be "local", the default.
func (a *Auth) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := readTokenRequest(c)
		if err != nil {
			a.fail(c, err)
			return
		}
		scope := req.Scope
		if scope == "" {
			scope = c.Query("scope")
		}
		if scope != "" && scope != "local" {
			a.fail(c, fmt.Errorf("%w: unsupported logout scope", ErrBadRequest))
			return
		}
		var sessions []*Claims
		if raw := TokenFromHeader(c); raw != "" {
			claims, err := a.logoutAccess.verify(raw)
			if err != nil {
				a.fail(c, err)
				return
			}
			sessions = append(sessions, claims)
		}
		if req.RefreshToken != "" {
			claims, err := a.logoutRefresh.verify(req.RefreshToken)
			if err != nil {
				a.fail(c, err)
				return
			}
			sessions = append(sessions, claims)
		}
		if len(sessions) == 0 {
			a.fail(c, ErrTokenMissing)
			return
		}
		for i, s := range sessions {
			if i > 0 && s.Subject == sessions[0].Subject && s.SessionID == sessions[0].SessionID {
				continue
			}
			if err := a.RevokeSession(c.Request.Context(), s.Subject, s.SessionID); err != nil {
				a.fail(c, err)
				return
			}
		}
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusNoContent)
	}
}

// respondPair issues a token pair and writes it as a TokenResponse.
func (a *Auth) respondPair(c *gin.Context, subject, sessionID string, version, gen int64, authTime time.Time, extra []byte) {
	now := a.opts.Now()
	p, err := a.issuePair(now, subject, sessionID, version, gen, authTime, extra)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, TokenResponse{
		AccessToken:      p.access,
		TokenType:        "Bearer",
		ExpiresIn:        int64(p.accessExpiry.Sub(now) / time.Second),
		RefreshToken:     p.refresh,
		RefreshExpiresIn: int64(p.refreshExpiry.Sub(now) / time.Second),
	})
}

// deviceLabel cleans a device label for storage: valid UTF-8, no control
// characters, at most maxDeviceLen bytes without splitting a character.
func deviceLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	n := maxDeviceLen
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
