package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// A guessing loop answers a known and an unknown account alike, in status,
// body and time (the example checks a dummy bcrypt hash for unknown
// users), first with 401 and, past the free attempts, with 429 before any
// password work.
func TestGuessingKnownAndUnknownAlike(t *testing.T) {
	c := startApp(t, config{secret: testSecret})
	var known, unknown []time.Duration
	for i := range 7 {
		var answers [2]response
		for j, user := range []string{"alice", "nobody-by-that-name"} {
			start := time.Now()
			answers[j] = c.do("POST", "/auth/login", "", `{"username":"`+user+`","password":"guess"}`)
			if i < 5 {
				d := time.Since(start)
				if j == 0 {
					known = append(known, d)
				} else {
					unknown = append(unknown, d)
				}
			}
		}
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if answers[0].status != want || answers[1].status != want || string(answers[0].body) != string(answers[1].body) {
			t.Fatalf("attempt %d: known %d %s, unknown %d %s; want both %d", i+1, answers[0].status, answers[0].body, answers[1].status, answers[1].body, want)
		}
	}
	slices.Sort(known)
	slices.Sort(unknown)
	mk, mu := known[len(known)/2], unknown[len(unknown)/2]
	if ratio := float64(mk) / float64(mu); ratio < 0.5 || ratio > 2 {
		t.Errorf("median time of a wrong password: known %v, unknown %v", mk, mu)
	}
	t.Logf("median time of a wrong password: known %v, unknown %v", mk, mu)
}

// The example's data export needs a recent authentication; a step-up
// gives the same session a fresh access token and keeps the refresh token.
func TestStepUpRoute(t *testing.T) {
	c := startApp(t, config{secret: testSecret})
	tok := c.login("alice", "wonderland")
	expect(t, "export right after login", c.do("GET", "/api/account/export", tok.AccessToken, ""), http.StatusOK, "")
	expect(t, "step-up with a wrong password", c.do("POST", "/auth/step-up", tok.AccessToken, `{"username":"alice","password":"x"}`), http.StatusUnauthorized, "invalid_credentials")
	r := expect(t, "step-up", c.do("POST", "/auth/step-up", tok.AccessToken, `{"username":"alice","password":"wonderland"}`), http.StatusOK, "")
	var raised struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(r.body, &raised); err != nil || raised.AccessToken == "" || raised.RefreshToken != "" {
		t.Fatalf("step-up answer %s", r.body)
	}
	expect(t, "export with the raised token", c.do("GET", "/api/account/export", raised.AccessToken, ""), http.StatusOK, "")
	expect(t, "the refresh token still works", c.refresh(tok.RefreshToken), http.StatusOK, "")
}
