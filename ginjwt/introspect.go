package ginjwt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// IntrospectionResponse is the body of the introspection route (RFC 7662
// §2.2). An inactive token gives {"active":false} and nothing else; an
// active one its claims.
type IntrospectionResponse struct {
	Active bool `json:"active"`
	// TokenType is "Bearer" for an access token, the token_type of RFC 6749
	// §7.1 it is used with, and "refresh_token" for a refresh token.
	TokenType string   `json:"token_type,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"` // seconds since the epoch
	IssuedAt  int64    `json:"iat,omitempty"`
	NotBefore int64    `json:"nbf,omitempty"`
	JWTID     string   `json:"jti,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	ACR       string   `json:"acr,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	// Extra is the application's claims, as in the token's "ext" claim.
	Extra json.RawMessage `json:"ext,omitempty"`
}

// IntrospectionHandler returns the token introspection route of RFC 7662,
// for resource servers that cannot verify tokens themselves or must see
// revocations at once. Mount it on POST:
//
//	r.POST("/oauth/introspect", auth.IntrospectionHandler())
//
// Only the clients of Options.Clients may call it, with HTTP Basic
// authentication; any other caller gets 401 invalid_client with a Basic
// challenge. The request is a form with token and, optionally,
// token_type_hint ("access_token" or "refresh_token"; the hinted type is
// tried first, then the other). The answer, never cached (Cache-Control:
// no-store), is an IntrospectionResponse.
//
// An access token is active when it passes every check of the guard but
// CSRF and the requirements: signature, type, claims, the session's maximum
// age, and the session alive at its generation and user version in the
// store. A refresh token is active when its signature, type and claims are
// good, its session is younger than its maximum age, and the session is at
// the token's generation: the refresh token a rotation replaced is
// inactive, even while Options.RefreshGrace would still honour it.
// Anything else, whatever the reason, is {"active":false}.
//
// A malformed request answers 400 invalid_request and an unreachable store
// 503 temporarily_unavailable (never "inactive", which a resource server
// would turn into a 401 that makes its clients drop their tokens). Errors
// have the RFC 6749 §5.2 shape, not ErrorResponse.
//
// It panics, at route set-up, when Options.Clients is empty.
func (a *Auth) IntrospectionHandler() gin.HandlerFunc {
	if !a.clients.has() {
		panic("ginjwt: IntrospectionHandler needs Options.Clients")
	}
	return func(c *gin.Context) {
		if _, ok := a.clients.authenticate(c.Request); !ok {
			a.oauthFail(c, errInvalidClient)
			return
		}
		token, hint, err := readOAuthForm(c)
		if err != nil {
			a.oauthFail(c, err)
			return
		}
		res, err := a.introspect(c.Request.Context(), token, hint)
		if err != nil {
			a.oauthFail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Header("Pragma", "no-cache")
		c.JSON(http.StatusOK, res)
	}
}

// introspect looks raw up as the hinted type of token, then as the other.
// Its only errors are store failures.
func (a *Auth) introspect(ctx context.Context, raw, hint string) (IntrospectionResponse, error) {
	first := refreshFirst(hint)
	for _, refresh := range []bool{first, !first} {
		claims, err := a.activeClaims(ctx, raw, refresh)
		switch {
		case err == nil:
			return introspection(claims, refresh), nil
		case errors.Is(err, ErrStoreUnavailable):
			return IntrospectionResponse{}, err
		}
	}
	return IntrospectionResponse{}, nil
}

// activeClaims returns the claims of raw if it is a currently valid token of
// the given type. An access token gets the guard's checks but CSRF and the
// requirements; a refresh token the refresh verifier's and the session at
// the token's generation.
func (a *Auth) activeClaims(ctx context.Context, raw string, refresh bool) (*Claims, error) {
	now := a.opts.Now()
	var (
		claims *Claims
		err    error
	)
	if refresh {
		claims, err = a.refresh.verify(raw)
	} else {
		claims, _, err = a.verifyAccess(raw, now) // only read
	}
	if err != nil {
		return nil, err
	}
	if err := a.checkLive(ctx, claims, now); err != nil {
		return nil, err
	}
	return claims, nil
}

// introspection is the answer for an active token.
func introspection(claims *Claims, refresh bool) IntrospectionResponse {
	res := IntrospectionResponse{
		Active:    true,
		TokenType: "Bearer",
		Scope:     claims.Scope,
		Subject:   claims.Subject,
		Issuer:    claims.Issuer,
		Audience:  claims.Audience,
		JWTID:     claims.ID,
		SessionID: claims.SessionID,
		Roles:     claims.Roles,
		ACR:       claims.ACR,
		AMR:       claims.AMR,
		AuthTime:  claims.AuthTime,
		Extra:     claims.Extra,
	}
	if refresh {
		res.TokenType = HintRefreshToken
	}
	if claims.ExpiresAt != nil {
		res.ExpiresAt = claims.ExpiresAt.Unix()
	}
	if claims.IssuedAt != nil {
		res.IssuedAt = claims.IssuedAt.Unix()
	}
	if claims.NotBefore != nil {
		res.NotBefore = claims.NotBefore.Unix()
	}
	return res
}
