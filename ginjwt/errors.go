package ginjwt

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Sentinel errors. Every failure the package reports to a client wraps exactly
// one of them, so callers can match with errors.Is. The HTTP status, the
// stable error code and the description a client sees are fixed per sentinel
// (see ErrorCode, HTTPStatus and ErrorDescription; at the refresh route a
// GrantError sets the status to 400); the wrapped cause is for logs only.
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
	ErrAccountDisabled    = errors.New("ginjwt: account disabled")
	ErrKeyUnknown         = errors.New("ginjwt: signing key unknown")
	ErrInvalidDPoPProof   = errors.New("ginjwt: invalid DPoP proof")
	ErrUseDPoPNonce       = errors.New("ginjwt: DPoP proof without the server's nonce")
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
	sentinel    error
	status      int
	code        string
	description string
}

// errorTable maps each sentinel to its HTTP status, code and description.
// The descriptions are the only text a client sees: they never include
// input.
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
	{ErrAccountDisabled, http.StatusUnauthorized, "account_disabled", "The account can no longer sign in; the session has ended."},
	{ErrKeyUnknown, http.StatusUnauthorized, "key_unknown", "The token was signed with a key no longer in use; log in again."},
	{ErrInvalidDPoPProof, http.StatusUnauthorized, "invalid_dpop_proof", "The DPoP proof is missing, not valid, or not of the token's key."},
	{ErrUseDPoPNonce, http.StatusUnauthorized, "use_dpop_nonce", "The DPoP proof must carry the nonce of the DPoP-Nonce header."},
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

// ErrorCode returns the stable code that says what went wrong with err, such
// as "token_expired" or "refresh_reused"; errors that wrap no sentinel of
// this package give "server_error". Clients see it as "error", except for a
// GrantError, whose "error" is the RFC 6749 code (read it with errors.As and
// GrantError.Code) and whose ErrorCode is sent as "reason".
func ErrorCode(err error) string { return lookupError(err).code }

// HTTPStatus returns the HTTP status the default error handler answers for
// err: 400 for a GrantError, else the status of its sentinel.
func HTTPStatus(err error) int {
	var grant *GrantError
	if errors.As(err, &grant) {
		return http.StatusBadRequest
	}
	return lookupError(err).status
}

// ErrorDescription returns the fixed human-readable text clients see for err
// as "error_description". It never contains any part of the request.
func ErrorDescription(err error) string { return lookupError(err).description }

// ErrorResponse is the JSON body of an error answer, named after RFC 6749
// §5.2 and RFC 6750 §3.
type ErrorResponse struct {
	// Error is the code: ErrorCode of the error (token_expired, …), or for
	// a GrantError the RFC 6749 code (invalid_grant, …).
	Error string `json:"error"`
	// ErrorDescription is the fixed text of ErrorDescription.
	ErrorDescription string `json:"error_description"`
	// Reason is ErrorCode of a GrantError, such as refresh_reused; it is
	// absent when Error is that code already.
	Reason string `json:"reason,omitempty"`
}

// Code returns the specific code of the answer: Reason when present, else
// Error. It is ErrorCode of the error answered.
func (r ErrorResponse) Code() string {
	if r.Reason != "" {
		return r.Reason
	}
	return r.Error
}

// RFC 6749 §5.2 error codes of RefreshHandler, the Code of its GrantErrors.
const (
	grantInvalidRequest       = "invalid_request"
	grantInvalidGrant         = "invalid_grant"
	grantUnsupportedGrantType = "unsupported_grant_type"
)

// GrantError is the error of a refresh request that RefreshHandler refuses
// the way an OAuth 2.0 token endpoint does (RFC 6749 §5.2), so that stock
// OAuth clients understand it: Code is "invalid_grant" when the refresh
// token failed (expired, revoked, reused, its session expired, its key
// unknown, not a valid refresh token, its account disabled by
// Options.OnRefresh, …), "invalid_request" when the request
// is malformed or carries no refresh token, and "unsupported_grant_type" for
// a grant_type other than refresh_token. Err is the specific failure and
// wraps one of the sentinels, so errors.Is and ErrorCode see through a
// GrantError. DefaultErrorHandler answers it 400 {"error": Code,
// "error_description": ErrorDescription(Err), "reason": ErrorCode(Err)},
// without WWW-Authenticate. A custom Options.ErrorHandler can find it with
// errors.As.
//
// The refresh route's other failures are not grant failures and keep their
// own answers: 403 csrf_failed, 429 too_many_requests, 503
// store_unavailable and 500 server_error.
type GrantError struct {
	Code string // the RFC 6749 error code
	Err  error  // the specific failure
}

func (e *GrantError) Error() string {
	if e.Err == nil {
		return "ginjwt: " + e.Code
	}
	return "ginjwt: " + e.Code + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *GrantError) Unwrap() error { return e.Err }

// grantError returns err as the refresh route answers it: a failure of the
// refresh token becomes an invalid_grant GrantError, a malformed request an
// invalid_request one; a GrantError already, and the failures that are not
// the grant's (CSRF, limits, the store, the server), are returned as they
// are.
func grantError(err error) error {
	var grant *GrantError
	if err == nil || errors.As(err, &grant) {
		return err
	}
	switch info := lookupError(err); {
	case info.sentinel == ErrBadRequest, info.sentinel == ErrTokenMissing:
		return &GrantError{Code: grantInvalidRequest, Err: err}
	case info.sentinel == ErrInvalidDPoPProof, info.sentinel == ErrUseDPoPNonce:
		return &GrantError{Code: info.code, Err: err} // RFC 9449 §5, §8
	case info.status == http.StatusUnauthorized:
		return &GrantError{Code: grantInvalidGrant, Err: err}
	}
	return err
}

// failGrant answers a failed refresh request with grantError(err).
func (a *Auth) failGrant(c *gin.Context, err error) { a.fail(c, grantError(err)) }

// DefaultErrorHandler answers err with HTTPStatus(err) and a JSON
// ErrorResponse. On 401 and on 403 insufficient_scope it adds the RFC 6750
// WWW-Authenticate header; on 429 Retry-After and the RateLimit headers. A
// GrantError answers 400 with its RFC 6749 code as "error" and ErrorCode as
// "reason", without WWW-Authenticate. Server-side failures (5xx) are handed
// to gin with c.Error, so logging middleware can record the cause; the
// client only sees the fixed description.
func DefaultErrorHandler(c *gin.Context, err error) {
	info := lookupError(err)
	status := info.status
	body := ErrorResponse{Error: info.code, ErrorDescription: info.description}
	var grant *GrantError
	if errors.As(err, &grant) {
		status, body.Error, body.Reason = http.StatusBadRequest, grant.Code, info.code
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden && info.sentinel == ErrInsufficientScope {
		c.Header("WWW-Authenticate", bearerChallenge(info))
	}
	if status >= http.StatusInternalServerError {
		_ = c.Error(err)
	}
	var limited *RateLimitError
	if errors.As(err, &limited) {
		limited.setHeaders(c)
	}
	var stepUp *StepUpError
	if status == http.StatusUnauthorized && errors.As(err, &stepUp) {
		c.Header("WWW-Authenticate", stepUp.challenge(info.description))
	}
	var bound *dpopChallenge
	if status == http.StatusUnauthorized && errors.As(err, &bound) {
		bound.setHeader(c, info)
	}
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, body)
}

// bearerChallenge is the RFC 6750 §3 WWW-Authenticate value for a 401. A
// request that carried no token gets a bare challenge, as §3.1 asks.
func bearerChallenge(info errorInfo) string {
	switch info.sentinel {
	case ErrTokenMissing, ErrInvalidCredentials:
		return "Bearer"
	case ErrInsufficientScope:
		return `Bearer error="insufficient_scope", error_description="` + info.description + `"`
	case ErrInsufficientAuth:
		return (&StepUpError{}).challenge(info.description)
	}
	return `Bearer error="invalid_token", error_description="` + info.description + `"`
}
