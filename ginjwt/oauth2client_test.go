package ginjwt_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"golang.org/x/oauth2"
)

// A stock OAuth 2.0 client, golang.org/x/oauth2, refreshes through the
// refresh route as through any token endpoint, and understands its
// refusals: after reuse or a logout its TokenSource fails with a
// RetrieveError whose ErrorCode is invalid_grant (RFC 6749 §5.2), with a
// description, and the specific reason in the body.
func TestOAuth2ClientRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		ctx := context.WithValue(ctx(t), oauth2.HTTPClient, a.srv.Client())
		conf := &oauth2.Config{
			Endpoint: oauth2.Endpoint{TokenURL: a.srv.URL + "/auth/refresh", AuthStyle: oauth2.AuthStyleInParams},
		}
		// refreshWith is a token source holding only refreshToken, so that
		// its first Token call refreshes.
		refreshWith := func(refreshToken string) (*oauth2.Token, error) {
			return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
		}

		t.Run("refresh", func(t *testing.T) {
			first := a.login("alice")
			tok, err := refreshWith(first.RefreshToken)
			if err != nil {
				t.Fatalf("refresh through x/oauth2: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.RefreshToken == first.RefreshToken || time.Until(tok.Expiry) <= 0 {
				t.Fatalf("token %+v: want a new Bearer pair with an expiry", tok)
			}
			expect(t, "the refreshed access token", a.me(tok.AccessToken), http.StatusOK, "")
			expect(t, "the replaced access token", a.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
			next, err := refreshWith(tok.RefreshToken)
			if err != nil {
				t.Fatalf("second refresh: %v", err)
			}
			expect(t, "the access token of the second refresh", a.me(next.AccessToken), http.StatusOK, "")
		})

		t.Run("reuse", func(t *testing.T) {
			first := a.login("alice")
			second, err := refreshWith(first.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := refreshWith(second.RefreshToken); err != nil {
				t.Fatal(err)
			}
			a.clock.Advance(time.Minute) // past the grace of the first rotation
			_, err = refreshWith(first.RefreshToken)
			expectRetrieveError(t, "a reused refresh token", err, "refresh_reused")
			_, err = refreshWith(second.RefreshToken)
			expectRetrieveError(t, "the session's refresh token after reuse", err, "token_revoked")
		})

		t.Run("logout", func(t *testing.T) {
			tok := a.login("bob")
			expect(t, "logout", a.logoutWithRefresh(tok.RefreshToken), http.StatusNoContent, "")
			_, err := refreshWith(tok.RefreshToken)
			expectRetrieveError(t, "a logged-out refresh token", err, "token_revoked")
		})
	})
}

// expectRetrieveError fails the test unless err is x/oauth2's RetrieveError
// for 400 invalid_grant with a description and reason in the body.
func expectRetrieveError(t *testing.T, what string, err error, reason string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("%s: %v, want an *oauth2.RetrieveError", what, err)
	}
	if re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_grant" || re.ErrorDescription == "" {
		t.Fatalf("%s: %d ErrorCode %q ErrorDescription %q, want 400 invalid_grant with a description", what, re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	if got := (response{status: re.Response.StatusCode, body: re.Body}).code(); got != reason {
		t.Fatalf("%s: reason %q in %s, want %q", what, got, re.Body, reason)
	}
}
