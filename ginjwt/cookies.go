package ginjwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// CookieOptions turn on the cookie transport, for browser apps that should
// not hold tokens in JavaScript. Login and refresh then answer with the
// tokens in HttpOnly cookies instead of the body; the guard, refresh and
// logout read them from there. Every request whose credentials came from a
// cookie and whose method is not safe (GET, HEAD, OPTIONS) must echo the
// session's CSRF token in the CSRFHeader (signed double submit): the token is
// in the login and refresh bodies and in the CSRFName cookie, which scripts of
// the site can read. Zero values mean the documented default.
type CookieOptions struct {
	// AccessName is the access-token cookie. Default "jwtguard_access".
	AccessName string
	// RefreshName is the refresh-token cookie. Default "jwtguard_refresh".
	RefreshName string
	// CSRFName is the readable cookie holding the CSRF token. Default "jwtguard_csrf".
	CSRFName string
	// CSRFHeader is the request header that must echo the CSRF token.
	// Default "X-CSRF-Token".
	CSRFHeader string
	// Path of the access and CSRF cookies. Default "/".
	Path string
	// RefreshPath is the path of the refresh route; the refresh cookie is only
	// sent there. Required.
	RefreshPath string
	// Domain of the cookies. Default none: the host that set them.
	Domain string
	// SameSite of the cookies. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// Insecure drops the Secure attribute, for plain-HTTP development only.
	Insecure bool
	// TrustedOrigins are the other origins, such as
	// "https://app.example.com", whose pages may log in and send requests
	// with the cookies. Every cookie-transport request that can change state
	// (login, refresh, logout, and unsafe methods on guarded routes with the
	// access cookie) from any other origin is refused with 403 csrf_failed,
	// as net/http's CrossOriginProtection judges it from Sec-Fetch-Site or
	// Origin. Default none: same-origin pages only.
	TrustedOrigins []string

	crossOrigin *http.CrossOriginProtection
}

// defaultCSRFHeader is CookieOptions.CSRFHeader's default.
const defaultCSRFHeader = "X-CSRF-Token"

// withDefaults fills in defaults and checks the options.
func (o CookieOptions) withDefaults() (CookieOptions, error) {
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&o.AccessName, "jwtguard_access")
	set(&o.RefreshName, "jwtguard_refresh")
	set(&o.CSRFName, "jwtguard_csrf")
	set(&o.CSRFHeader, defaultCSRFHeader)
	set(&o.Path, "/")
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	o.crossOrigin = http.NewCrossOriginProtection()
	for _, origin := range o.TrustedOrigins {
		if err := o.crossOrigin.AddTrustedOrigin(origin); err != nil {
			return o, fmt.Errorf("%w: Options.Cookies.TrustedOrigins: %w", ErrInvalidOptions, err)
		}
	}
	o.TrustedOrigins = slices.Clone(o.TrustedOrigins)
	switch {
	case !strings.HasPrefix(o.RefreshPath, "/"):
		return o, fmt.Errorf("%w: Options.Cookies.RefreshPath %q must be the absolute path of the refresh route", ErrInvalidOptions, o.RefreshPath)
	case !strings.HasPrefix(o.Path, "/"):
		return o, fmt.Errorf("%w: Options.Cookies.Path %q must start with /", ErrInvalidOptions, o.Path)
	case o.SameSite == http.SameSiteNoneMode && o.Insecure:
		return o, fmt.Errorf("%w: Options.Cookies.SameSite None needs Secure cookies; unset Insecure", ErrInvalidOptions)
	}
	return o, nil
}

// safeMethod reports whether a request method cannot change state (RFC 9110 §9.2.1).
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// csrfToken is the CSRF token of a session under one key:
// base64url(HMAC-SHA256(key, "csrf:" + session id)), cut to 128 bits.
func csrfToken(key []byte, sessionID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("csrf:" + sessionID))
	return b64(mac.Sum(nil)[:16])
}

// checkCSRF refuses an unsafe request carried by a cookie unless it comes
// from a trusted origin and its CSRF header matches the session's token
// under one of the keys.
func (a *Auth) checkCSRF(c *gin.Context, ambient bool, sessionID string) error {
	if !ambient || safeMethod(c.Request.Method) {
		return nil
	}
	if err := a.checkOrigin(c); err != nil {
		return err
	}
	got := c.GetHeader(a.csrfHeader)
	if got == "" {
		return fmt.Errorf("%w: %s header missing", ErrCSRF, a.csrfHeader)
	}
	for _, k := range a.keys.all {
		if k.csrf != nil && subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(k.csrf, sessionID))) == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s header does not match", ErrCSRF, a.csrfHeader)
}

// sameOriginOnly trusts no other origin.
var sameOriginOnly = http.NewCrossOriginProtection()

// checkOrigin refuses an unsafe cross-origin browser request unless its
// origin is trusted (CookieOptions.TrustedOrigins).
func (a *Auth) checkOrigin(c *gin.Context) error {
	origins := sameOriginOnly // a cookie in TokenLookup without the cookie transport
	if a.cookies != nil {
		origins = a.cookies.crossOrigin
	}
	if err := origins.Check(c.Request); err != nil {
		return fmt.Errorf("%w: %w", ErrCSRF, err)
	}
	return nil
}

// checkCookieLogin guards a login of the cookie transport against login
// CSRF, where a page of another site signs the victim's browser into the
// attacker's account: the request must come from a trusted origin and be
// JSON, which a cross-site form cannot send without a CORS preflight.
func (a *Auth) checkCookieLogin(c *gin.Context) error {
	if err := a.checkOrigin(c); err != nil {
		return err
	}
	if c.ContentType() != "application/json" {
		return fmt.Errorf("%w: a cookie-transport login must be application/json", ErrCSRF)
	}
	return nil
}

// setTokenCookies stores a fresh pair in cookies. The cookies live as long as
// the refresh token, so that an expired access token is still sent: the guard
// answers token_expired (time to refresh) and logout can still end the session.
func (a *Auth) setTokenCookies(c *gin.Context, p pair, sessionID string, now time.Time) string {
	maxAge := int(p.refreshExpiry.Sub(now) / time.Second)
	csrf := csrfToken(a.keys.signer.csrf, sessionID)
	a.setCookie(c, a.cookies.AccessName, p.access, a.cookies.Path, maxAge, true)
	a.setCookie(c, a.cookies.RefreshName, p.refresh, a.cookies.RefreshPath, maxAge, true)
	a.setCookie(c, a.cookies.CSRFName, csrf, a.cookies.Path, maxAge, false)
	return csrf
}

// clearTokenCookies removes the cookies of the transport.
func (a *Auth) clearTokenCookies(c *gin.Context) {
	a.setCookie(c, a.cookies.AccessName, "", a.cookies.Path, -1, true)
	a.setCookie(c, a.cookies.RefreshName, "", a.cookies.RefreshPath, -1, true)
	a.setCookie(c, a.cookies.CSRFName, "", a.cookies.Path, -1, false)
}

func (a *Auth) setCookie(c *gin.Context, name, value, path string, maxAge int, httpOnly bool) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		Domain:   a.cookies.Domain,
		MaxAge:   maxAge,
		Secure:   !a.cookies.Insecure,
		HttpOnly: httpOnly,
		SameSite: a.cookies.SameSite,
	})
}
