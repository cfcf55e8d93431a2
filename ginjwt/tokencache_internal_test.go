package ginjwt

import (
	"encoding/json"
	"reflect"
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

// The cache hands out the claims it holds, unexpired, and nothing else; the
// guard copies them before application code sees them (see
// TestHandlersGetTheirOwnClaims).
func TestTokenCacheGet(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(8, time.Second)
	c := cachedClaims(now)
	tc.put("tok", c, now)
	if got, ok := tc.get("tok", now); !ok || got != c {
		t.Fatalf("get = %p, %v; want the cached %p", got, ok, c)
	}
	if _, ok := tc.get("other", now); ok {
		t.Fatal("a token never put came from the cache")
	}
	if _, ok := tc.get("tok", now.Add(2*time.Minute)); ok {
		t.Fatal("an expired token came from the cache")
	}
}

// MutateClaims is mutateClaims for the package's external tests.
var MutateClaims = mutateClaims

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
