package ginjwt_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// b64 is base64url without padding, as JWTs use.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signHS256 signs header and payload JSON with secret, for crafted tokens.
func signHS256(t *testing.T, header, payload string, secret []byte) string {
	t.Helper()
	signing := b64(header) + "." + b64(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, secret)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// claimsOf returns the decoded payload JSON of token.
func claimsOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

// Bad input of every kind gets a 4xx with the right code, never a 500.
func TestBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		tok := a.login("alice")
		payload := claimsOf(t, tok.AccessToken)
		header := `{"alg":"HS256","typ":"at+jwt"}`
		otherSecret := []byte("another-secret-another-secret-32b")

		guard := []struct {
			name, header, code string
		}{
			{"no header", "", "token_missing"},
			{"bearer with nothing", "Bearer ", "token_missing"},
			{"basic scheme", "Basic YWxpY2U6cHc=", "token_missing"},
			{"garbage", "Bearer garbage", "token_malformed"},
			{"two segments", "Bearer " + b64(header) + "." + b64(payload), "token_malformed"},
			{"non-base64 payload", "Bearer " + b64(header) + ".!!!." + "abc", "token_malformed"},
			{"signed with another key", "Bearer " + signHS256(t, header, payload, otherSecret), "token_invalid"},
			{"alg none", "Bearer " + b64(`{"alg":"none","typ":"at+jwt"}`) + "." + b64(payload) + ".", "token_invalid"},
			{"alg NoNe", "Bearer " + b64(`{"alg":"NoNe","typ":"at+jwt"}`) + "." + b64(payload) + ".", "token_invalid"},
			{"signature stripped", "Bearer " + tok.AccessToken[:strings.LastIndex(tok.AccessToken, ".")+1], "token_invalid"},
			{"refresh token as access token", "Bearer " + tok.RefreshToken, "token_wrong_type"},
			{"access typ header missing", "Bearer " + signHS256(t, `{"alg":"HS256"}`, payload, testSecret), "token_wrong_type"},
			{"refresh claim under access header", "Bearer " + signHS256(t, header, strings.Replace(payload, `"typ":"access"`, `"typ":"refresh"`, 1), testSecret), "token_wrong_type"},
			{"duplicate claim", "Bearer " + signHS256(t, header, strings.Replace(payload, `{`, `{"sub":"bob",`, 1), testSecret), "token_malformed"},
			{"case-colliding claim", "Bearer " + signHS256(t, header, strings.Replace(payload, `{`, `{"EXP":99999999999,`, 1), testSecret), "token_malformed"},
			{"number where a string belongs", "Bearer " + signHS256(t, header, strings.Replace(payload, `"sub":"alice"`, `"sub":42`, 1), testSecret), "token_malformed"},
			{"missing exp", "Bearer " + signHS256(t, header, removeClaim(payload, "exp"), testSecret), "token_invalid"},
			{"wrong issuer", "Bearer " + signHS256(t, header, strings.Replace(payload, `"iss":"jwtguard"`, `"iss":"evil"`, 1), testSecret), "token_invalid"},
			{"unknown kid", "Bearer " + signHS256(t, `{"alg":"HS256","typ":"at+jwt","kid":"../../etc/passwd"}`, payload, testSecret), "token_invalid"},
			{"oversized token", "Bearer " + strings.Repeat("a", 9000), "token_malformed"},
			{"unicode and tabs", "Bearer é\tü.ñ.☃", "token_malformed"},
		}
		for _, tc := range guard {
			t.Run("guard/"+tc.name, func(t *testing.T) {
				var r response
				if tc.header == "" {
					r = a.do("GET", "/api/me", "", "")
				} else {
					r = a.do("GET", "/api/me", "", "", "Authorization", tc.header)
				}
				expect(t, tc.name, r, http.StatusUnauthorized, tc.code)
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate header", tc.name)
				}
				if strings.Contains(string(r.body), tok.AccessToken) {
					t.Errorf("%s: response echoes the token", tc.name)
				}
			})
		}

		t.Run("expired access token", func(t *testing.T) {
			a := newApp(t, b, nil)
			tok := a.login("alice")
			a.clock.Advance(16 * time.Minute)
			expect(t, "expired", a.me(tok.AccessToken), http.StatusUnauthorized, "token_expired")
		})
		t.Run("access token before nbf", func(t *testing.T) {
			a := newApp(t, b, nil)
			tok := a.login("alice")
			a.clock.Advance(-time.Minute)
			expect(t, "not yet valid", a.me(tok.AccessToken), http.StatusUnauthorized, "token_not_yet_valid")
		})

		// The refresh route answers as a token endpoint (RFC 6749 §5.2):
		// 400 with the OAuth code and the specific reason.
		refresh := []struct {
			name, contentType, body string
			oauth, code             string
		}{
			{"access token as refresh token", "application/json", `{"refresh_token":"` + tok.AccessToken + `"}`, "invalid_grant", "token_wrong_type"},
			{"garbage token", "application/json", `{"refresh_token":"x.y.z"}`, "invalid_grant", "token_malformed"},
			{"no token", "application/json", `{}`, "invalid_request", "bad_request"},
			{"empty body", "", "", "invalid_request", "bad_request"},
			{"broken JSON", "application/json", `{"refresh_token":`, "invalid_request", "bad_request"},
			{"number token", "application/json", `{"refresh_token":42}`, "invalid_request", "bad_request"},
			{"wrong grant", "application/x-www-form-urlencoded", "grant_type=password&refresh_token=x", "unsupported_grant_type", "bad_request"},
			{"wrong content type", "text/plain", "refresh_token", "invalid_request", "bad_request"},
			{"huge body", "application/json", `{"refresh_token":"` + strings.Repeat("a", 100_000) + `"}`, "invalid_request", "bad_request"},
		}
		for _, tc := range refresh {
			t.Run("refresh/"+tc.name, func(t *testing.T) {
				expectOAuth(t, tc.name, a.do("POST", "/auth/refresh", tc.contentType, tc.body), tc.oauth, tc.code)
			})
		}

		login := []struct {
			name, contentType, body string
			status                  int
			code                    string
		}{
			{"malformed body", "application/json", `{"username":`, 400, "bad_request"},
			{"empty body", "application/json", ``, 400, "bad_request"},
			{"wrong password", "application/json", `{"username":"alice","password":"nope"}`, 401, "invalid_credentials"},
			{"unknown user", "application/json", `{"username":"mallory","password":"x"}`, 401, "invalid_credentials"},
		}
		for _, tc := range login {
			t.Run("login/"+tc.name, func(t *testing.T) {
				expect(t, tc.name, a.do("POST", "/auth/login", tc.contentType, tc.body), tc.status, tc.code)
			})
		}

		logout := []struct {
			name, contentType, body, header string
			status                          int
			code                            string
		}{
			{"no token", "", "", "", 401, "token_missing"},
			{"forged access token", "", "", "Bearer " + signHS256(t, header, payload, otherSecret), 401, "token_invalid"},
			{"garbage refresh token", "application/json", `{"refresh_token":"garbage"}`, "", 401, "token_malformed"},
			{"unknown scope", "application/json", `{"refresh_token":"` + tok.RefreshToken + `","scope":"galaxy"}`, "", 400, "bad_request"},
		}
		for _, tc := range logout {
			t.Run("logout/"+tc.name, func(t *testing.T) {
				var hdr []string
				if tc.header != "" {
					hdr = []string{"Authorization", tc.header}
				}
				expect(t, tc.name, a.do("POST", "/auth/logout", tc.contentType, tc.body, hdr...), tc.status, tc.code)
			})
		}
		expect(t, "session survives the bad logouts", a.me(tok.AccessToken), http.StatusOK, "")
	})
}

// removeClaim drops a numeric claim from a compact JSON payload.
func removeClaim(payload, name string) string {
	i := strings.Index(payload, `"`+name+`":`)
	if i < 0 {
		return payload
	}
	j := i + len(name) + 3
	for j < len(payload) && payload[j] != ',' && payload[j] != '}' {
		j++
	}
	if payload[j] == ',' {
		j++
	}
	return payload[:i] + payload[j:]
}
