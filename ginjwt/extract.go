package ginjwt

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// A TokenExtractor finds a token in a request, or returns "". ambient
// reports whether the browser attaches the token by itself (a cookie): such
// requests need CSRF protection. Options.TokenLookup lists the extractors
// the guard tries, in order.
type TokenExtractor func(c *gin.Context) (token string, ambient bool)

// FromHeader finds the token of an "Authorization: Bearer <token>" header.
// The scheme is matched case-insensitively (RFC 7235 §2.1).
func FromHeader(c *gin.Context) (token string, ambient bool) {
	h := c.GetHeader("Authorization")
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme):]), false
}

// FromCookie finds a token in the named cookie.
func FromCookie(name string) TokenExtractor {
	return func(c *gin.Context) (string, bool) {
		v, err := c.Cookie(name)
		if err != nil {
			return "", false
		}
		return v, true
	}
}

// FromQuery finds a token in the named query parameter. Off by default: URLs
// end up in logs, browser history and Referer headers. Use it only where a
// header cannot be set, such as a WebSocket upgrade.
func FromQuery(name string) TokenExtractor {
	return func(c *gin.Context) (string, bool) { return c.Query(name), false }
}

// lookupToken returns the first token the extractors find.
func lookupToken(c *gin.Context, extractors []TokenExtractor) (token string, ambient bool) {
	for _, extract := range extractors {
		if token, ambient = extract(c); token != "" {
			return token, ambient
		}
	}
	return "", false
}
