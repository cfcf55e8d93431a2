package ginjwt

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// StepUpError is the error of a request whose token meets a
// RequireRecentAuth or RequireACR requirement too weakly. It wraps
// ErrInsufficientAuth, so the client sees 401
// insufficient_user_authentication with the RFC 9470 challenge:
//
//	WWW-Authenticate: Bearer error="insufficient_user_authentication", error_description="…", max_age=300
type StepUpError struct {
	MaxAge    time.Duration // the longest time since the user authenticated; 0 when not the reason
	ACRValues []string      // acceptable acr values; empty when not the reason
}

func (e *StepUpError) Error() string {
	if e.MaxAge > 0 {
		return fmt.Sprintf("ginjwt: authentication older than %v", e.MaxAge)
	}
	return fmt.Sprintf("ginjwt: authentication context not one of %q", e.ACRValues)
}

// Unwrap returns ErrInsufficientAuth.
func (e *StepUpError) Unwrap() error { return ErrInsufficientAuth }

// challenge is the WWW-Authenticate value of RFC 9470 §3.
func (e *StepUpError) challenge(message string) string {
	var b strings.Builder
	b.WriteString(`Bearer error="insufficient_user_authentication", error_description="` + message + `"`)
	if e.MaxAge > 0 {
		b.WriteString(", max_age=" + strconv.FormatInt(int64(e.MaxAge/time.Second), 10))
	}
	if len(e.ACRValues) > 0 {
		b.WriteString(`, acr_values="` + strings.Join(e.ACRValues, " ") + `"`)
	}
	return b.String()
}

// StepUp raises the authentication of the session of the request in c
// after the app authenticated its user again (RFC 9470): a password typed
// again, a one-time code, a passkey. id must name the session's subject;
// its ACR and AMR describe the new authentication. It answers 200 with a
// TokenResponse holding a new access token (with the cookie transport, the
// access cookie) of the same session, whose auth_time is now and whose acr
// and amr are id's, and emits a step_up event. Call it from a route behind
// Middleware.
//
// The raised level lives in that access token only, for at most
// Options.StepUpTTL: the refresh token is left as it is, so refreshes issue
// tokens at the login's level, and a stolen refresh token never yields a
// raised one. Roles, scopes and Extra stay the session's.
func (a *Auth) StepUp(c *gin.Context, id Identity) {
	claims, err := a.authenticated(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if id.Subject != claims.Subject {
		a.fail(c, fmt.Errorf("%w: step-up for another subject", ErrInvalidCredentials))
		return
	}
	now := a.opts.Now()
	raised := *claims
	raised.SessionStart, raised.AuthTime = claims.sessionStart(), now.Unix()
	raised.ACR, raised.AMR = id.ACR, id.AMR
	end := a.sessionEnd(&raised)
	expiry := now.Add(a.opts.StepUpTTL)
	if expiry.After(end) {
		expiry = end
	}
	var slots *[2]jwt.NumericDate
	raised.RegisteredClaims, slots = a.registered(claims.Subject, now)
	raised.ExpiresAt, raised.ID = expiresAt(&slots[0], expiry), newID()
	token, err := a.issue(accessKind, &raised)
	if err != nil {
		a.fail(c, fmt.Errorf("%w: signing access token: %w", ErrServer, err))
		return
	}
	res := TokenResponse{TokenType: tokenType(raised.Confirmation), ExpiresIn: int64(expiry.Sub(now) / time.Second)}
	if a.cookies != nil {
		a.setCookie(c, a.cookies.AccessName, token, a.cookies.Path, int(end.Sub(now)/time.Second), true)
		res.CSRFToken = csrfToken(a.keys.signer.csrf, claims.SessionID)
	} else {
		res.AccessToken = token
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, res)
	client := clientInfo(c)
	a.emit(Event{Kind: EventStepUp, Subject: claims.Subject, SessionID: claims.SessionID, IP: client.IP, UserAgent: client.UserAgent, Reason: id.ACR})
}

// StepUpHandler returns a step-up route for logins by password: it runs
// Options.Authenticate on the request, within the login limits, and then
// StepUp. Mount it behind Middleware:
//
//	r.POST("/auth/step-up", auth.Middleware(), auth.StepUpHandler())
//
// It panics when Options.Authenticate is nil, at route set-up.
func (a *Auth) StepUpHandler() gin.HandlerFunc {
	if a.opts.Authenticate == nil {
		panic("ginjwt: StepUpHandler needs Options.Authenticate")
	}
	return func(c *gin.Context) {
		if _, err := a.authenticated(c); err != nil {
			a.fail(c, err)
			return
		}
		client := clientInfo(c)
		id, attempt, ok := a.authenticate(c, client)
		if !ok {
			return
		}
		a.loginSucceeded(c, client, attempt)
		a.StepUp(c, id)
	}
}
