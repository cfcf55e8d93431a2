package ginjwt

import (
	"net/url"
	"slices"
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
//
// A request may carry one Authorization header only. When it has several
// and one of them is a Bearer header, FromHeader returns all of them joined
// with commas, the way RFC 9110 §5.3 combines repeated fields: never a valid
// token, so the request is refused (token_malformed) rather than
// authenticated with whichever header comes first.
func FromHeader(c *gin.Context) (token string, ambient bool) {
	values := c.Request.Header["Authorization"] // canonical already: no lookup rewrite
	if len(values) > 1 && slices.ContainsFunc(values, isBearer) {
		return strings.Join(values, ", "), false
	}
	if len(values) == 0 || !isBearer(values[0]) {
		return "", false
	}
	return strings.TrimSpace(values[0][len(bearerScheme):]), false
}

const bearerScheme = "bearer "

// isBearer reports whether an Authorization value uses the Bearer scheme.
func isBearer(h string) bool {
	return len(h) >= len(bearerScheme) && strings.EqualFold(h[:len(bearerScheme)], bearerScheme)
}

// FromCookie finds a token in the named cookie. When the request carries
// several cookies of that name (one set for another path, or for a parent
// domain by a sibling site: cookie tossing), FromCookie returns their values
// joined with commas: never a valid token, so the request is refused
// (token_malformed) rather than authenticated with whichever comes first.
func FromCookie(name string) TokenExtractor {
	return func(c *gin.Context) (string, bool) {
		cookies := c.Request.CookiesNamed(name)
		if len(cookies) == 0 {
			return "", false
		}
		token := ""
		for i, ck := range cookies {
			if i > 0 {
				token += ", "
			}
			v, _ := url.QueryUnescape(ck.Value) // as gin's Context.Cookie
			token += v
		}
		return token, true
	}
}

// FromQuery finds a token in the named query parameter. Off by default: URLs
// end up in logs, browser history and Referer headers. Use it only where a
// header cannot be set, such as a WebSocket upgrade. Like FromCookie, it
// returns the values of a repeated parameter joined with commas.
func FromQuery(name string) TokenExtractor {
	return func(c *gin.Context) (string, bool) { return strings.Join(c.QueryArray(name), ", "), false }
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
