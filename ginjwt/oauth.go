package ginjwt

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// This file holds what the OAuth routes for other services share: the
// introspection route (RFC 7662), the revocation route (RFC 7009) and the
// metadata document (RFC 8414). Their error answers are those of RFC 6749
// §5.2, {"error","error_description"}, not ErrorResponse, and
// Options.ErrorHandler does not write them: clients written against the
// RFCs read them.

// Token type hints of RFC 7009 §2.1, in the token_type_hint parameter of
// introspection and revocation requests.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// errInvalidClient is a failed client authentication.
var errInvalidClient = errors.New("ginjwt: client authentication failed")

// readOAuthForm reads the token and token_type_hint of an introspection or
// revocation request: an application/x-www-form-urlencoded POST body of at
// most 16 KiB with exactly one token. Parameters in the URL are ignored, so
// that no token is read from where logs keep it. Errors wrap ErrBadRequest.
func readOAuthForm(c *gin.Context) (token, hint string, err error) {
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return "", "", fmt.Errorf("%w: Content-Type must be application/x-www-form-urlencoded", ErrBadRequest)
	}
	if c.Request.Body == nil {
		return "", "", fmt.Errorf("%w: token is missing", ErrBadRequest)
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBodySize)
	if err := c.Request.ParseForm(); err != nil {
		return "", "", fmt.Errorf("%w: unreadable form: %w", ErrBadRequest, err)
	}
	form := c.Request.PostForm
	// RFC 6749 §3.2: parameters must not be sent more than once.
	if len(form["token"]) != 1 || form.Get("token") == "" {
		return "", "", fmt.Errorf("%w: token is missing or repeated", ErrBadRequest)
	}
	if len(form["token_type_hint"]) > 1 {
		return "", "", fmt.Errorf("%w: token_type_hint is repeated", ErrBadRequest)
	}
	return form.Get("token"), form.Get("token_type_hint"), nil
}

// refreshFirst reports whether a token with this hint is looked up as a
// refresh token first. Any other hint, or none, starts with access tokens;
// either way the other type is tried next (RFC 7009 §2.1, RFC 7662 §2.1).
func refreshFirst(hint string) bool { return hint == HintRefreshToken }

// oauthFail answers err in the shape of RFC 6749 §5.2: 401 invalid_client
// with a Basic challenge, 400 invalid_request, 503 temporarily_unavailable
// or 500 server_error. Server-side failures go to c.Error for logging.
func (a *Auth) oauthFail(c *gin.Context, err error) {
	status, body := http.StatusInternalServerError, ErrorResponse{Error: "server_error", ErrorDescription: ErrorDescription(ErrServer)}
	switch {
	case errors.Is(err, errInvalidClient):
		status, body = http.StatusUnauthorized, ErrorResponse{Error: "invalid_client", ErrorDescription: "Client authentication failed."}
		c.Header("WWW-Authenticate", basicChallenge(a.opts.Issuer))
	case errors.Is(err, ErrBadRequest):
		status, body = http.StatusBadRequest, ErrorResponse{Error: grantInvalidRequest, ErrorDescription: ErrorDescription(ErrBadRequest)}
	case errors.Is(err, ErrStoreUnavailable):
		status, body = http.StatusServiceUnavailable, ErrorResponse{Error: "temporarily_unavailable", ErrorDescription: ErrorDescription(ErrStoreUnavailable)}
	}
	if status >= http.StatusInternalServerError {
		_ = c.Error(err)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.AbortWithStatusJSON(status, body)
}

// basicChallenge is the WWW-Authenticate value of a 401 invalid_client: the
// Basic scheme (RFC 7617) with the issuer as realm, less any character a
// quoted string cannot hold.
func basicChallenge(issuer string) string {
	realm := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, issuer)
	return `Basic realm="` + realm + `", charset="UTF-8"`
}
