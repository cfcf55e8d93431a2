package ginjwt_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// Fuzz targets of the request surface. Their seed corpora are under
// testdata/fuzz/<FuzzName>; `go test` runs the seeds as ordinary tests, and
// `go test -run '^$' -fuzz '^FuzzRefreshBody$'` fuzzes.

// FuzzFromHeader: whatever the Authorization header holds, extraction
// never panics and returns a substring of the value after a
// case-insensitive "Bearer " scheme, with no surrounding spaces; it returns
// "" for any other scheme and for a bearer header with nothing after it.
func FuzzFromHeader(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
	f.Add("bEaReR   x  ")
	f.Add("Basic YWxpY2U6cHc=")
	f.Fuzz(func(t *testing.T, h string) {
		c := &gin.Context{Request: &http.Request{Header: http.Header{"Authorization": {h}}}}
		tok, ambient := ginjwt.FromHeader(c)
		if ambient {
			t.Fatalf("FromHeader(%q) calls a header ambient", h)
		}
		const scheme = "bearer "
		bearer := len(h) >= len(scheme) && strings.EqualFold(h[:len(scheme)], scheme)
		if tok == "" {
			if bearer && strings.TrimSpace(h[len(scheme):]) != "" {
				t.Fatalf("no token found in %q", h)
			}
			return
		}
		if !bearer {
			t.Fatalf("token %q found in %q, whose scheme is not bearer", tok, h)
		}
		if !strings.Contains(h[len(scheme):], tok) {
			t.Fatalf("token %q is not part of %q", tok, h)
		}
		if strings.TrimSpace(tok) != tok {
			t.Fatalf("token %q has surrounding spaces", tok)
		}
	})
}

// FuzzFromHeaders: given two Authorization headers, one of them Bearer,
// FromHeader returns both joined by ", ", which is never a valid token (a
// comma is not base64url); given two of other schemes, it finds nothing.
func FuzzFromHeaders(f *testing.F) {
	f.Add("Bearer a.b.c", "Bearer d.e.f")
	f.Add("Basic YWxpY2U6cHc=", "Bearer a.b.c")
	f.Add("Basic YWxpY2U6cHc=", "Basic Ym9iOnB3")
	f.Fuzz(func(t *testing.T, first, second string) {
		c := &gin.Context{Request: &http.Request{Header: http.Header{"Authorization": {first, second}}}}
		tok, ambient := ginjwt.FromHeader(c)
		if ambient {
			t.Fatalf("FromHeader calls a header ambient")
		}
		const scheme = "bearer "
		bearer := func(h string) bool { return len(h) >= len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) }
		want := ""
		if bearer(first) || bearer(second) {
			want = first + ", " + second
		}
		if tok != want {
			t.Fatalf("FromHeader(%q, %q) = %q, want %q", first, second, tok, want)
		}
	})
}

// bodyFuzzNow is the fixed clock of the body fuzz targets, so that the
// checked-in seed tokens, signed for this instant, stay valid.
var bodyFuzzNow = time.Unix(1_900_000_000, 0).UTC()

// bodyFuzz is the refresh and logout handlers of a real Auth on memstore,
// called straight through a gin engine.
type bodyFuzz struct {
	engine     *gin.Engine
	refreshKey []byte
	// descriptions is the error_description of each expected error code.
	descriptions map[string]string
}

func newBodyFuzz(f *testing.F) *bodyFuzz {
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(),
		Keys:  []ginjwt.Key{ginjwt.HS256(testSecret)},
		Now:   func() time.Time { return bodyFuzzNow },
		Authenticate: func(*gin.Context) (ginjwt.Identity, error) {
			return ginjwt.Identity{Subject: "alice"}, nil
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	fz := &bodyFuzz{engine: r, refreshKey: refreshKeyFor(f, testSecret), descriptions: map[string]string{}}
	for _, s := range []error{
		ginjwt.ErrTokenMissing, ginjwt.ErrTokenMalformed, ginjwt.ErrTokenInvalid, ginjwt.ErrTokenExpired,
		ginjwt.ErrTokenNotYetValid, ginjwt.ErrTokenWrongType, ginjwt.ErrTokenRevoked, ginjwt.ErrRefreshReused,
		ginjwt.ErrSessionExpired, ginjwt.ErrBadRequest,
	} {
		fz.descriptions[ginjwt.ErrorCode(s)] = ginjwt.ErrorDescription(s)
	}
	return fz
}

// post sends body with the content type to path.
func (fz *bodyFuzz) post(path string, body []byte, contentType string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header["Content-Type"] = []string{contentType}
	}
	w := httptest.NewRecorder()
	fz.engine.ServeHTTP(w, req)
	return w
}

// addRealTokens logs in and adds the refresh token, in JSON and in a form,
// to the seeds.
func (fz *bodyFuzz) addRealTokens(f *testing.F, extra ...string) {
	w := fz.post("/auth/login", nil, "")
	var tr ginjwt.TokenResponse
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tr) != nil {
		f.Fatalf("login: %d %s", w.Code, w.Body)
	}
	body, _ := json.Marshal(map[string]string{"refresh_token": tr.RefreshToken})
	f.Add(body, "application/json")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	f.Add([]byte(form.Encode()), "application/x-www-form-urlencoded")
}

// presented returns the refresh token a request body carries, read the way
// the handlers read it.
func presented(body []byte, contentType string) string {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "application/json":
		var req struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(bytes.NewReader(body)).Decode(&req)
		return req.RefreshToken
	case "application/x-www-form-urlencoded":
		v, _ := url.ParseQuery(string(body))
		return v.Get("refresh_token")
	}
	return ""
}

// signedByUs reports whether token is a refresh token signed with the
// app's refresh key, in canonical encoding.
func (fz *bodyFuzz) signedByUs(token string) bool {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding())
	_, err := p.Parse(token, func(*jwt.Token) (any, error) { return fz.refreshKey, nil })
	return err == nil && !strings.ContainsAny(token, "\r\n")
}

// check asserts the properties of every answer: success only for a token
// signed by us, otherwise 400 or 401 with an exact error body of an expected
// code, and a Bearer challenge on 401. The refresh route (success 200)
// answers every failure as a token endpoint: 400 with an RFC 6749 code and
// the specific one as reason.
func (fz *bodyFuzz) check(t *testing.T, w *httptest.ResponseRecorder, body []byte, contentType string, success int) {
	t.Helper()
	switch w.Code {
	case success:
		if tok := presented(body, contentType); !fz.signedByUs(tok) {
			t.Fatalf("answered %d to a body without a token of ours: %q (%s)", w.Code, body, contentType)
		}
		if success == http.StatusOK {
			var tr ginjwt.TokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || !fz.signedByUs(tr.RefreshToken) {
				t.Fatalf("refresh answered 200 without a new refresh token: %s", w.Body)
			}
		}
		return
	case http.StatusBadRequest, http.StatusUnauthorized:
	default:
		t.Fatalf("answered %d to %q (%s): %s", w.Code, body, contentType, w.Body)
	}
	var e ginjwt.ErrorResponse
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	code := e.Code()
	want := ginjwt.ErrorResponse{Error: code, ErrorDescription: fz.descriptions[code]}
	tokenEndpoint := success == http.StatusOK
	if tokenEndpoint {
		want.Error, want.Reason = "invalid_grant", code
		if code == "bad_request" {
			want.Error = e.Error // invalid_request or unsupported_grant_type
			if e.Error != "invalid_request" && e.Error != "unsupported_grant_type" {
				t.Fatalf("answered bad_request with the OAuth code %q", e.Error)
			}
		}
	}
	if b, _ := json.Marshal(want); want.ErrorDescription == "" || w.Body.String() != string(b) {
		t.Fatalf("answered %d with the unexpected body %s", w.Code, w.Body)
	}
	if (w.Code == http.StatusBadRequest) != (tokenEndpoint || code == "bad_request") {
		t.Fatalf("answered %d with code %s", w.Code, code)
	}
	if w.Code == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without a Bearer challenge")
	}
	if w.Code == http.StatusBadRequest && w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("400 with a challenge: %q", w.Header().Get("WWW-Authenticate"))
	}
}

// FuzzRefreshBody sends arbitrary bodies and content types to the refresh
// handler: it answers 400 with an exact RFC 6749 error body, never 5xx, never
// a panic, and 200 only for a refresh token signed by us (the seeds that are
// real tokens; random input cannot forge one).
func FuzzRefreshBody(f *testing.F) {
	fz := newBodyFuzz(f)
	fz.addRealTokens(f)
	f.Add([]byte(`{"refresh_token":"x.y.z"}`), "application/json")
	f.Add([]byte("grant_type=refresh_token&refresh_token=x.y.z"), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		fz.check(t, fz.post("/auth/refresh", body, contentType), body, contentType, http.StatusOK)
	})
}

// FuzzLogoutBody sends arbitrary bodies and content types to the logout
// handler, with no Authorization header: it answers 400 or 401 with an exact
// error body, never 5xx, never a panic, and 204 only for a refresh token
// signed by us.
func FuzzLogoutBody(f *testing.F) {
	fz := newBodyFuzz(f)
	fz.addRealTokens(f)
	fz.addRealTokens(f, "scope", "global")
	f.Add([]byte(`{"refresh_token":"x.y.z","scope":"others"}`), "application/json")
	f.Add([]byte("refresh_token=x.y.z&scope=galaxy"), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		fz.check(t, fz.post("/auth/logout", body, contentType), body, contentType, http.StatusNoContent)
	})
}
