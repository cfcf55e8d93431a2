package ginjwt

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// cachedClaims are claims with every field set, as the cache holds them.
func cachedClaims(now time.Time) *Claims {
	return &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "iss",
			Subject:   "sub",
			Audience:  jwt.ClaimStrings{"aud"},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
			ID:        "jti",
		},
		Type:         TypeAccess,
		SessionID:    "sid",
		UserVersion:  7,
		Generation:   3,
		AuthTime:     now.Unix(),
		ACR:          "pwd",
		AMR:          []string{"pwd", "otp"},
		Roles:        []string{"user", "editor"},
		Scope:        "read",
		Extra:        json.RawMessage(`{"plan":"free"}`),
		Confirmation: &Confirmation{JKT: "jkt"},
	}
}

// mutateClaims changes every field of c a handler can reach, through
// pointers and slices too.
func mutateClaims(c *Claims) {
	c.Issuer, c.Subject, c.ID = "x", "x", "x"
	c.Audience[0] = "x"
	c.ExpiresAt.Time = c.ExpiresAt.Add(2 * time.Hour)
	c.NotBefore.Time = c.NotBefore.Add(2 * time.Hour)
	c.IssuedAt.Time = c.IssuedAt.Add(2 * time.Hour)
	c.Type, c.SessionID, c.Scope = "x", "x", "x"
	c.UserVersion, c.Generation, c.AuthTime = 0, 0, 0
	c.Roles[0] = "admin"
	c.AMR[0], c.ACR = "x", "x"
	c.Confirmation.JKT = "x"
	c.Extra[2] = 'X'
	// Appending must not write into storage a later copy shares.
	c.Audience = append(c.Audience[:1], "y")
	c.Roles = append(c.Roles[:1], "owner")
	c.AMR = append(c.AMR[:1], "hwk")
}

// A handler that changes its claims cannot change what the cache hands the
// next request with the same token, nor race with requests reading them at
// the same time (run with -race).
func TestTokenCacheCopiesAreIndependent(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(8, time.Second)
	tc.put("tok", cachedClaims(now), now)
	want := cachedClaims(now)

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, ok := tc.get("tok", now)
			if !ok {
				t.Error("miss")
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the cache gave %+v, want %+v", got, want)
			}
			mutateClaims(got)
		}()
	}
	wg.Wait()

	again, ok := tc.get("tok", now)
	if !ok || !reflect.DeepEqual(again, want) {
		t.Fatalf("after handlers changed their copies the cache gives %+v (hit %v), want %+v", again, ok, want)
	}
	if _, ok := tc.get("tok", now.Add(2*time.Minute)); ok {
		t.Fatal("an expired token came from the cache")
	}
}

// The token handed to put stays the caller's: changing it afterwards does
// not change the cached entry.
func TestTokenCachePutCopies(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(8, time.Second)
	c := cachedClaims(now)
	tc.put("tok", c, now)
	mutateClaims(c)
	got, ok := tc.get("tok", now)
	if !ok || !reflect.DeepEqual(got, cachedClaims(now)) {
		t.Fatalf("cache gives %+v (hit %v) after the caller changed its claims", got, ok)
	}
}

// A clone holds its own copy of every string slice, small or large, and
// keeps nil slices nil.
func TestCloneClaimsSlices(t *testing.T) {
	now := time.Now()
	for _, n := range []int{0, 1, 3, inlineStrings, inlineStrings + 1, 40} {
		c := cachedClaims(now)
		c.Roles = make([]string, n)
		for i := range c.Roles {
			c.Roles[i] = "role"
		}
		if n == 0 {
			c.Roles = nil
		}
		cp := cloneClaims(c)
		if !reflect.DeepEqual(cp, c) {
			t.Fatalf("%d roles: clone %+v differs from %+v", n, cp, c)
		}
		for _, list := range []*[]string{(*[]string)(&cp.Audience), &cp.AMR, &cp.Roles} {
			for i := range *list {
				(*list)[i] = "changed"
			}
			*list = append(*list, "appended")
		}
		if !reflect.DeepEqual(c.Roles, cachedClaimsRoles(n)) || c.Audience[0] != "aud" || c.AMR[0] != "pwd" {
			t.Fatalf("%d roles: changing the clone changed the original: %+v", n, c)
		}
	}
}

func cachedClaimsRoles(n int) []string {
	if n == 0 {
		return nil
	}
	r := make([]string, n)
	for i := range r {
		r[i] = "role"
	}
	return r
}
