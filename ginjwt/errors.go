package ginjwt

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Sentinel errors. Every failure the package reports to a client wraps exactly
// one of them, so callers can match with errors.Is. The HTTP status, the
// stable error code and the message a client sees are fixed per sentinel (see
// ErrorCode, HTTPStatus and ErrorMessage); the wrapped cause is for logs only.
var (
	ErrTokenMissing       = errors.New("ginjwt: token missing")
	ErrTokenMalformed     = errors.New("ginjwt: token malformed")
	ErrTokenInvalid       = errors.New("ginjwt: token invalid")
	ErrTokenExpired       = errors.New("ginjwt: token expired")
	ErrTokenNotYetValid   = errors.New("ginjwt: token not yet valid")
	ErrTokenWrongType     = errors.New("ginjwt: token of the wrong type")
	ErrTokenRevoked       = errors.New("ginjwt: token revoked")
	ErrRefreshReused      = errors.New("ginjwt: refresh token reused")
	ErrSessionExpired     = errors.New("ginjwt: session expired")
	ErrKeyUnknown         = errors.New("ginjwt: signing key unknown")
	ErrInvalidCredentials = errors.New("ginjwt: invalid credentials")
	ErrInsufficientScope  = errors.New("ginjwt: insufficient scope")
	ErrInsufficientAuth   = errors.New("ginjwt: insufficient user authentication")
	ErrSessionNotFound    = errors.New("ginjwt: session not found")
	ErrCSRF               = errors.New("ginjwt: CSRF check failed")
	ErrBadRequest         = errors.New("ginjwt: bad request")
	ErrTooManyRequests    = errors.New("ginjwt: too many requests")
	ErrStoreUnavailable   = errors.New("ginjwt: store unavailable")
	ErrServer             = errors.New("ginjwt: server error")
)

// ErrInvalidOptions is wrapped by every error New returns for a bad option.
var ErrInvalidOptions = errors.New("ginjwt: invalid options")

// errorInfo is what a client learns about a failure.
type errorInfo struct {
	sentinel error
	status   int
	code     string
	message  string
}

// errorTable maps each sentinel to its HTTP status, code and message. The
// messages are the only text a client sees: they never include input.
var errorTable = []errorInfo{
	{ErrTokenMissing, http.StatusUnauthorized, "token_missing", "No token was sent."},
	{ErrTokenMalformed, http.StatusUnauthorized, "token_malformed", "The token is not a well-formed JWT."},
	{ErrTokenInvalid, http.StatusUnauthorized, "token_invalid", "The token is not valid."},
	{ErrTokenExpired, http.StatusUnauthorized, "token_expired", "The token has expired."},
	{ErrTokenNotYetValid, http.StatusUnauthorized, "token_not_yet_valid", "The token is not valid yet."},
	{ErrTokenWrongType, http.StatusUnauthorized, "token_wrong_type", "The token is of the wrong type for this endpoint."},
	{ErrTokenRevoked, http.StatusUnauthorized, "token_revoked", "The token has been revoked."},
	{ErrRefreshReused, http.StatusUnauthorized, "refresh_reused", "The refresh token was already used; the session has been revoked."},
	{ErrSessionExpired, http.StatusUnauthorized, "session_expired", "The session has reached its maximum age; log in again."},
	{ErrKeyUnknown, http.StatusUnauthorized, "key_unknown", "The token was signed with a key no longer in use; log in again."},
	{ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "The credentials are not valid."},
	{ErrInsufficientAuth, http.StatusUnauthorized, "insufficient_user_authentication", "A more recent or stronger authentication is required."},
	{ErrInsufficientScope, http.StatusForbidden, "insufficient_scope", "The token does not grant access to this resource."},
	{ErrCSRF, http.StatusForbidden, "csrf_failed", "The request lacks a valid CSRF token."},
	{ErrSessionNotFound, http.StatusNotFound, "session_not_found", "No such session."},
	{ErrBadRequest, http.StatusBadRequest, "bad_request", "The request is malformed."},
	{ErrTooManyRequests, http.StatusTooManyRequests, "too_many_requests", "Too many attempts; try again later."},
	{ErrStoreUnavailable, http.StatusServiceUnavailable, "store_unavailable", "The session store is unavailable; try again shortly."},
	{ErrServer, http.StatusInternalServerError, "server_error", "The server failed to handle the request."},
}

// lookupError returns the table entry of the first sentinel err wraps, or the
// ErrServer entry when it wraps none.
func lookupError(err error) errorInfo {
	for _, e := range errorTable {
		if errors.Is(err, e.sentinel) {
			return e
		}
	}
	return errorTable[len(errorTable)-1]
}

// ErrorCode returns the stable code clients see for err, such as
// "token_expired". Errors that wrap no sentinel of this package give
// "server_error".
func ErrorCode(err error) string { return lookupError(err).code }

// HTTPStatus returns the HTTP status the default error handler answers for err.
func HTTPStatus(err error) int { return lookupError(err).status }

// ErrorMessage returns the fixed human-readable message clients see for err.
// It never contains any part of the request.
func ErrorMessage(err error) string { return lookupError(err).message }

// ErrorResponse is the JSON body of an error answer.
type ErrorResponse struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// DefaultErrorHandler answers err with its status and a JSON ErrorResponse.
// On 401 and on 403 insufficient_scope it adds the RFC 6750
// WWW-Authenticate header; on 429 Retry-After and the RateLimit headers. Server-side failures
// (5xx) are handed to gin with c.Error, so logging middleware can record the
// cause; the client only sees the fixed message.
func DefaultErrorHandler(c *gin.Context, err error) {
	info := lookupError(err)
	if info.status == http.StatusUnauthorized || info.sentinel == ErrInsufficientScope {
		c.Header("WWW-Authenticate", bearerChallenge(info))
	}
	if info.status >= http.StatusInternalServerError {
		_ = c.Error(err)
	}
	var limited *RateLimitError
	if errors.As(err, &limited) {
		limited.setHeaders(c)
	}
	var stepUp *StepUpError
	if errors.As(err, &stepUp) {
		c.Header("WWW-Authenticate", stepUp.challenge(info.message))
	}
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(info.status, ErrorResponse{Error: info.code, Message: info.message})
}

// bearerChallenge is the RFC 6750 §3 WWW-Authenticate value for a 401. A
// request that carried no token gets a bare challenge, as §3.1 asks.
func bearerChallenge(info errorInfo) string {
	switch info.sentinel {
	case ErrTokenMissing, ErrInvalidCredentials:
		return "Bearer"
	case ErrInsufficientScope:
		return `Bearer error="insufficient_scope", error_description="` + info.message + `"`
	case ErrInsufficientAuth:
		return (&StepUpError{}).challenge(info.message)
	}
	return `Bearer error="invalid_token", error_description="` + info.message + `"`
}
