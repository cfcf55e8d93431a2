package ginjwt

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// RevocationHandler returns the token revocation route of RFC 7009, for
// third-party and native clients that speak OAuth rather than this
// package's logout route. Mount it on POST:
//
//	r.POST("/oauth/revoke", auth.RevocationHandler())
//
// The request is a form with token, an access or refresh token, and
// optionally token_type_hint ("access_token" or "refresh_token"; the hinted
// type is tried first, then the other). It answers 200 with an empty body
// whenever the request is well formed: also for a token that is invalid,
// expired, unknown or already revoked, as RFC 7009 §2.2 asks, so the answer
// tells nothing about the token.
//
// The token ends its session when the logout route would accept it with
// scope local: the session's current access token, even expired, or the
// refresh token of its current or previous generation. Such a revocation
// emits the event a logout emits, kind logout with reason local. An older
// access token changes nothing; an older refresh token is reuse, as at the
// logout route: the session ends and a reuse_detected event is emitted. A
// 200 means the session is gone, as durably as a logout (see
// redisstore.WithReplicaAcks).
//
// Client authentication is optional. A request with HTTP Basic credentials
// must carry those of one of Options.Clients; one with wrong credentials,
// or with an Authorization header of another scheme, answers 401
// invalid_client. A request without an Authorization header comes from a
// public client: holding the token is the proof. Tokens are not bound to
// clients, so an authenticated client may revoke any token it holds.
//
// A malformed request answers 400 invalid_request and an unreachable store
// 503 temporarily_unavailable (RFC 7009 §2.2.1): the client should retry,
// for the token may still be valid. Errors have the RFC 6749 §5.2 shape,
// not ErrorResponse.
func (a *Auth) RevocationHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		if len(c.Request.Header.Values("Authorization")) > 0 {
			if _, ok := a.clients.authenticate(c.Request); !ok {
				a.oauthFail(c, errInvalidClient)
				return
			}
		}
		token, hint, err := readOAuthForm(c)
		if err != nil {
			a.oauthFail(c, err)
			return
		}
		if err := a.revokeToken(c, token, hint); err != nil {
			a.oauthFail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Header("Pragma", "no-cache")
		c.Status(http.StatusOK)
	}
}

// revokeToken ends the session of raw, looked up as the hinted type of
// token then as the other, with the logout route's verifiers and rules (see
// endSession). Tokens that fail verification, and tokens too old to speak
// for their session, change nothing. Its only errors are store and server
// failures.
func (a *Auth) revokeToken(c *gin.Context, raw, hint string) error {
	first := refreshFirst(hint)
	for _, refresh := range []bool{first, !first} {
		v := a.logoutAccess
		if refresh {
			v = a.logoutRefresh
		}
		claims, err := v.verify(raw)
		if err != nil {
			continue
		}
		err = a.endSession(c, claims, refresh)
		if errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrServer) {
			return err
		}
		return nil
	}
	return nil
}
