package ginjwt

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/golang-jwt/jwt/v5"
)

// awkwardStrings need every kind of escape encoding/json knows.
var awkwardStrings = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"control \x00\x01\x1f \b\f\n\r\t del \x7f", "line\u2028para\u2029", "é ü 日本 🙂",
	"bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "ends with \xe2\x80",
}

// appendClaims gives json.Marshal's bytes for claims with every field set,
// with none, and with strings that need escaping.
func TestAppendClaimsMatchesMarshal(t *testing.T) {
	now := time.Unix(1_800_000_000, 987_654_321)
	full := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "https://issuer.example", Subject: "alice", Audience: jwt.ClaimStrings{"api"},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), NotBefore: jwt.NewNumericDate(now),
			IssuedAt: jwt.NewNumericDate(now), ID: "jti",
		},
		Type: TypeAccess, SessionID: "sid", UserVersion: 1<<62 + 5, Generation: 42, AuthTime: now.Unix(),
		SessionStart: now.Unix() - 60, ACR: "mfa", AMR: []string{"pwd", "otp"}, Roles: []string{"admin", "user"},
		Scope: "read write", Extra: json.RawMessage(`{"plan":"pro","n":[1,2.5,null],"s":"\u003c"}`),
		Confirmation: &Confirmation{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
	}
	cases := map[string]Claims{"full": full, "empty": {}}
	twoAud := full
	twoAud.Audience = jwt.ClaimStrings{"a", "b"}
	cases["two audiences"] = twoAud
	emptyLists := full
	emptyLists.Audience, emptyLists.AMR, emptyLists.Roles, emptyLists.Extra = jwt.ClaimStrings{}, []string{}, []string{}, json.RawMessage{}
	emptyLists.Confirmation = nil
	cases["empty lists"] = emptyLists
	negative := full
	negative.UserVersion, negative.Generation, negative.AuthTime = -1, 0, -1<<63
	cases["negative numbers"] = negative
	for i, s := range awkwardStrings {
		c := full
		c.Issuer, c.Subject, c.ID, c.SessionID, c.ACR, c.Scope = s, s, s, s, s, s
		c.Audience, c.AMR, c.Roles = jwt.ClaimStrings{s}, []string{s, "x"}, []string{"x", s}
		cases["awkward "+string(rune('a'+i))] = c
	}
	for name, c := range cases {
		checkAppendClaims(t, name, &c)
	}

	// golang-jwt's encoding globals are followed.
	defer func(p time.Duration, a bool) { jwt.TimePrecision, jwt.MarshalSingleStringAsArray = p, a }(jwt.TimePrecision, jwt.MarshalSingleStringAsArray)
	jwt.MarshalSingleStringAsArray = false
	checkAppendClaims(t, "single audience as a string", &full)
	jwt.TimePrecision = time.Millisecond
	checkAppendClaims(t, "millisecond dates", &full)
}

func checkAppendClaims(t *testing.T, name string, c *Claims) {
	t.Helper()
	want, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendClaims([]byte("prefix"), c)
	if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("%s:\nappendClaims = %s (%v)\njson.Marshal =       %s", name, got, err, want)
	}
}

// appendTokenResponse gives json.Marshal's bytes.
func TestAppendTokenResponseMatchesMarshal(t *testing.T) {
	for _, r := range []TokenResponse{
		{},
		{TokenType: "Bearer", ExpiresIn: 900, AccessToken: "a.b.c", RefreshToken: "d.e.f", RefreshExpiresIn: 604800},
		{TokenType: "Bearer", ExpiresIn: -1, CSRFToken: "<&>"},
	} {
		want, err := json.Marshal(r)
		if got := appendTokenResponse(nil, &r); err != nil || !bytes.Equal(got, want) {
			t.Errorf("appendTokenResponse = %s; json.Marshal gives %s (%v)", got, want, err)
		}
	}
}

// Strings of any bytes encode as json.Marshal encodes them.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s; json.Marshal gives %s", s, got, want)
		}
	})
}

// Issuing a token allocates the token string and little else.
func TestIssueAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need the race detector off: go test -run TestIssueAllocations ./ginjwt/")
	}
	kr, err := newKeyring([]Key{HS256([]byte("an-hs256-secret-of-at-least-32-bytes!"))})
	if err != nil {
		t.Fatal(err)
	}
	a := &Auth{keys: kr}
	now := time.Now()
	c := Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", Audience: jwt.ClaimStrings{"api"},
		ExpiresAt: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), ID: "jti"},
		SessionID: "sid", UserVersion: 1, Generation: 1, AuthTime: now.Unix(), Roles: []string{"user"}}
	if _, err := a.issue(accessKind, &c); err != nil { // fills the pools
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = a.issue(accessKind, &c) }); n > 1 {
		t.Errorf("issue allocates %v times per token; want 1, the token string", n)
	}
}

// A request through the warm guard (the token seen before, the session
// state at hand) allocates exactly what the same route allocates behind a
// middleware that only stores one value with c.Set: the guard itself
// allocates nothing.
func TestGuardAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need the race detector off: go test -run Allocations ./ginjwt/")
	}
	a := newFuzzAuth(t, "hs")
	access, _ := fuzzRealTokens(t, a)
	a.opts.Store = stateStore{}
	noContent := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	guarded := gin.New()
	guarded.GET("/", a.Middleware(), noContent)
	withSet := gin.New()
	withSet.GET("/", func(c *gin.Context) { c.Set(claimsKey{}, c) }, noContent)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	allocs := func(h http.Handler) float64 {
		serve := func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				t.Fatalf("answered %d %s", w.Code, w.Body)
			}
		}
		serve() // fills the token cache and the pools
		return testing.AllocsPerRun(200, serve)
	}
	if got, want := allocs(guarded), allocs(withSet); got != want {
		t.Errorf("the guarded route allocates %v times per request, the route with only c.Set %v", got, want)
	}
}
