package ginjwt

// Edges of the one-pass verifier, the header memo, the shared claims and
// their inline room: what a hostile reading of them looked for.

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// Name checks refuse a known name twice, in another case (also after many
// unknown names, when the set has moved to its map), escaped, or folding to
// a known one through Unicode (ſ, K).
func TestNameChecksEdges(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `"u%d":0,`, i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		payload string
		ok      bool
	}{
		{`{` + many(40) + `"u0":1}`, false},
		{`{` + many(40) + `"u39":1}`, false},
		{`{` + many(40) + `"exp":1,"exp":2}`, false},
		{`{"exp":1,` + many(40) + `"exp":2}`, false},
		{`{"exp":1,` + many(40) + `"EXP":2}`, false},
		{`{` + many(40) + `"EXP":2,"exp":1}`, false},
		{`{"exp":1,"e\u0078p":2}`, false},
		{`{"e\u0078p":2}`, false},
		{`{"auxxxxxxe":1,"auxxxxxxe":2}`, false}, // nameKey of auth_time
		{`{"auxxxxxxe":1,"auth_time":2}`, true},
		{`{"ſub":"x"}`, false}, // U+017F folds to s
		{`{` + many(100) + `"exp":1}`, true},
		{`{"iss":"a","sub":"b","aud":"c","exp":1,"nbf":1,"iat":1,"jti":"j","typ":"t","sid":"s","ver":1,"gen":1,"auth_time":1,"sst":1,"acr":"a","amr":[],"roles":[],"scope":"s","ext":{},"cnf":null}`, true},
		{`{"iss":"a","sub":"b","aud":"c","exp":1,"nbf":1,"iat":1,"jti":"j","typ":"t","sid":"s","ver":1,"gen":1,"auth_time":1,"sst":1,"acr":"a","amr":[],"roles":[],"scope":"s","ext":{},"cnf":null,"cnf":null}`, false},
	} {
		data := []byte(tc.payload)
		err := decodeClaims(data, string(data), new(claimsBlock))
		if (err == nil) != tc.ok {
			t.Errorf("decodeClaims(%.60s…) = %v, want ok %v", tc.payload, err, tc.ok)
		}
		if err2 := checkClaimNames(data); (err2 == nil) != tc.ok {
			t.Errorf("checkClaimNames(%.60s…) = %v, want ok %v", tc.payload, err2, tc.ok)
		}
	}
	for _, h := range []string{`{"alg":"HS256","\u212Aid":"x"}`, `{"alg":"HS256","alg":"none"}`, `{"alg":"HS256","ALG":"none"}`, `{"alg":"HS256","crit":[],"Crit":1}`} {
		if _, err := decodeHeader([]byte(h), h); err == nil {
			t.Errorf("header %s accepted", h)
		}
	}
}

// The integer fast path of NumericDates reads what ParseFloat reads.
func TestSmallIntegerMatchesParseFloat(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 200000 {
		n := 1 + r.Intn(17)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.Intn(10))
		}
		if n > 1 && b[0] == '0' {
			b[0] = '1'
		}
		v := string(b)
		var fast, slow jwt.NumericDate
		_, e1 := jsonDate(v, &fast)
		f, e2 := strconv.ParseFloat(v, 64)
		if e1 != nil || e2 != nil {
			t.Fatalf("%s: %v %v", v, e1, e2)
		}
		if f > 9e18/2 {
			continue
		}
		slow.Time = time.Unix(int64(f), 0)
		if !fast.Time.Equal(slow.Time) {
			t.Fatalf("%s: %v vs %v", v, fast.Time, slow.Time)
		}
	}
}

// Lists: more than 8 strings across lists, aud string after the room is
// full, appends never reach a neighbour; cloneClaims of the result too.
func TestListsRoomEdges(t *testing.T) {
	for _, p := range []string{
		`{"roles":["1","2","3","4","5"],"amr":["a","b","c","d","e"],"aud":"x"}`,
		`{"roles":["1","2","3","4","5","6","7","8"],"aud":"x","amr":["a"]}`,
		`{"roles":["1","2","3","4","5","6","7"],"aud":"x","amr":["a"]}`,
		`{"roles":["1","2","3","4","5","6","7"],"amr":["a","b"],"aud":["x"]}`,
	} {
		var b claimsBlock
		data := []byte(p)
		if err := decodeClaims(data, string(data), &b); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*Claims{&b.claims, cloneClaims(&b.claims)} {
			before := fmt.Sprint(c.Audience, c.Roles, c.AMR)
			for _, l := range []*[]string{(*[]string)(&c.Audience), &c.Roles, &c.AMR} {
				if len(*l) != cap(*l) {
					t.Fatalf("%s: len %d cap %d", p, len(*l), cap(*l))
				}
				_ = append(*l, "Z")
			}
			if after := fmt.Sprint(c.Audience, c.Roles, c.AMR); after != before {
				t.Fatalf("%s: %s -> %s", p, before, after)
			}
		}
	}
}

// The header memo never lets a header of another kind or key through.
func TestHeaderMemoKeepsKindsAndKeys(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	access, refresh := fuzzRealTokens(t, a)
	ed := newFuzzAuth(t, "ed")
	edAccess, _ := fuzzRealTokens(t, ed)
	if _, err := a.access.verify(access); err != nil {
		t.Fatal(err)
	}
	if _, err := a.refresh.verify(refresh); err != nil {
		t.Fatal(err)
	}
	if _, err := a.access.verify(edAccess); err != nil {
		t.Fatal(err) // the ed key is configured too: accepted, now remembered
	}
	for _, tc := range []struct {
		v   *verifier
		raw string
	}{
		{a.access, refresh}, {a.refresh, access}, {a.logoutAccess, refresh}, {a.logoutRefresh, access},
		{a.access, strings.SplitN(access, ".", 2)[0] + "." + strings.SplitN(edAccess, ".", 2)[1]},
		{a.access, strings.SplitN(edAccess, ".", 2)[0] + "." + strings.SplitN(access, ".", 2)[1]},
	} {
		for range 2 {
			if _, err := tc.v.verify(tc.raw); err == nil {
				t.Fatalf("accepted %s", tc.raw)
			}
		}
	}
	if _, err := a.logoutRefresh.verify(refresh); err != nil {
		t.Fatal(err)
	}
	if _, err := a.logoutAccess.verify(access); err != nil {
		t.Fatal(err)
	}
	if _, err := a.logoutAccess.verify(refresh); errors.Is(err, ErrKeyUnknown) || err == nil {
		t.Fatal(err)
	}
}

type stateStore struct{ Store }

func (stateStore) State(context.Context, string, string) (SessionState, bool, error) {
	return SessionState{UserVersion: 42, Generation: 1}, true, nil
}

// Tokens whose payload and signature fill the stack buffer exactly, nearly,
// or overflow it verify, for HMAC and EdDSA, and a flipped signature byte is
// refused.
func TestStackBufferBoundaries(t *testing.T) {
	for _, signer := range []string{"hs", "ed"} {
		a := newFuzzAuth(t, signer)
		hit := map[string]bool{}
		for pad := 800; pad < 1100; pad++ {
			c := Claims{
				RegisteredClaims: jwt.RegisteredClaims{Issuer: a.opts.Issuer, Subject: "alice", Audience: jwt.ClaimStrings{a.opts.Audience},
					ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(time.Minute)), ID: "j"},
				SessionID: "s", UserVersion: 1, Generation: 1, AuthTime: fuzzNow.Unix(),
				Extra: []byte(`"` + strings.Repeat("x", pad) + `"`),
			}
			raw, err := a.issue(accessKind, &c)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(raw, ".")
			total := b64url.DecodedLen(len(parts[1])) + b64url.DecodedLen(len(parts[2]))
			switch {
			case total == decodeOnStack:
				hit["exact"] = true
			case b64url.DecodedLen(len(parts[1])) <= decodeOnStack && total > decodeOnStack:
				hit["sig spills"] = true
			case b64url.DecodedLen(len(parts[1])) > decodeOnStack:
				hit["payload spills"] = true
			}
			got, err := a.access.verify(raw)
			if err != nil || string(got.Extra) != string(c.Extra) {
				t.Fatalf("%s pad %d: %v", signer, pad, err)
			}
			sig := []byte(parts[2])
			sig[3] ^= 1
			if _, err := a.access.verify(parts[0] + "." + parts[1] + "." + string(sig)); err == nil {
				t.Fatalf("%s pad %d: a changed signature verified", signer, pad)
			}
		}
		t.Log(signer, hit)
	}
}

// StepUp, Subject and ClaimsFromContext mutation at once on one cached
// token (run with -race): nothing writes the shared claims.
func TestSharedClaimsUnderStepUp(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	a.opts.Store = stateStore{}
	access, _ := fuzzRealTokens(t, a)
	r := gin.New()
	r.POST("/up", a.Middleware(), func(c *gin.Context) {
		a.StepUp(c, Identity{Subject: "alice", ACR: "mfa", AMR: []string{"otp"}})
	})
	r.GET("/mut", a.Middleware(), func(c *gin.Context) {
		_ = Subject(c)
		cl, _ := ClaimsFromContext(c)
		cl.Roles[0] = "hacked"
		cl.ExpiresAt.Time = time.Time{}
		cl.Subject = "mallory"
		c.Status(204)
	})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := []string{http.MethodPost, http.MethodGet}[i%2]
			p := []string{"/up", "/mut"}[i%2]
			req := httptest.NewRequest(m, p, nil)
			req.Header.Set("Authorization", "Bearer "+access)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code/100 != 2 {
				t.Errorf("%s: %d %s", p, w.Code, w.Body)
			}
		}()
	}
	wg.Wait()
	c, ok := a.tokens.get(access, fuzzNow)
	if !ok || c.Subject != "alice" || c.Roles[0] != "admin" || len(c.AMR) != 0 {
		t.Fatalf("cached claims changed: %+v", c)
	}
}

// NumericDates in other forms (negative, fractions, exponents, 16 digits)
// take the ParseFloat path and read to the second; 007 is not JSON.
func TestNumericDateForms(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
		s  int64
	}{{"007", false, 0}, {"-0", true, 0}, {"1e3", true, 1000}, {"1E3", true, 1000}, {"-5", true, -5}, {"999999999999999", true, 999999999999999}, {"1000000000000000", true, 1000000000000000}, {"1.9", true, 1}, {"-1.9", true, -1}} {
		var b claimsBlock
		data := []byte(`{"exp":` + tc.v + `}`)
		err := decodeClaims(data, string(data), &b)
		if (err == nil) != tc.ok || err == nil && b.claims.ExpiresAt.Unix() != tc.s {
			t.Errorf("exp %s: %v %v", tc.v, err, b.claims.ExpiresAt)
		}
	}
}
