package ginjwt

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// New refuses a TokenCacheSize above MaxTokenCacheSize at once: the table
// is allocated whole, and a size near math.MaxInt once made the sizing
// loop run forever.
func TestTokenCacheHugeSizeRefused(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		_, err := New(Options{Store: fuzzStore{}, Limits: Limits{Off: true},
			Keys: []Key{{ID: "hs", Algorithm: "HS256", Secret: fuzzSecret}}, TokenCacheSize: math.MaxInt})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("New(TokenCacheSize: math.MaxInt) = %v, want ErrInvalidOptions", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("New(Options{TokenCacheSize: math.MaxInt}) did not return within 3s (newTokenCache loops forever)")
	}
}

// A working set of real HS256 access tokens up to the configured size stays
// cached: requested in random order, once the cache is warm, the hit ratio
// is at least its row's minimum (about 96 % measured when the working set
// fills the configured size).
func TestTokenCacheWorkingSetHitRatio(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: a.opts.Issuer, Subject: "alice", Audience: jwt.ClaimStrings{a.opts.Audience},
			IssuedAt: jwt.NewNumericDate(fuzzNow), ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(a.opts.AccessTTL)),
		},
		SessionID: "ZnV6ei1zZXNzaW9uLWlkMQ", UserVersion: 1, Generation: 1, AuthTime: fuzzNow.Unix(),
	}
	all := make([]string, 4000)
	for i := range all {
		c.ID = "jti-" + strconv.Itoa(i)
		raw, err := a.issue(accessKind, &c)
		if err != nil {
			t.Fatal(err)
		}
		all[i] = raw
	}
	for w, least := range map[int]float64{1000: 0.995, 2000: 0.99, 3000: 0.97, 4000: 0.93} {
		a.tokens = newTokenCache(DefaultTokenCacheSize, a.opts.Leeway)
		tokens := all[:w]
		hits, n := 0, 0
		for round := range 20 {
			for range w {
				raw := tokens[rand.IntN(w)]
				_, ok := a.tokens.get(raw, fuzzNow)
				if !ok {
					if _, _, err := a.verifyAccess(raw, fuzzNow); err != nil {
						t.Fatal(err)
					}
				}
				if round >= 10 {
					n++
					if ok {
						hits++
					}
				}
			}
		}
		if ratio := float64(hits) / float64(n); ratio < least {
			t.Errorf("working set %d, TokenCacheSize %d: steady hit ratio %.1f%%, want at least %.1f%%", w, DefaultTokenCacheSize, 100*ratio, 100*least)
		}
	}
}
