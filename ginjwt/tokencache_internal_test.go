package ginjwt

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A handler that changes its claims cannot change what the cache hands the
// next request with the same token.
func TestTokenCacheCopiesAreIndependent(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(8, time.Second)
	tc.put("tok", &Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Roles: []string{"user"}}, now)
	got, ok := tc.get("tok", now)
	if !ok {
		t.Fatal("miss")
	}
	got.Roles[0] = "admin"
	again, _ := tc.get("tok", now)
	if again.Roles[0] != "user" {
		t.Fatalf("the cached roles changed to %v", again.Roles)
	}
	if _, ok := tc.get("tok", now.Add(2*time.Minute)); ok {
		t.Fatal("an expired token came from the cache")
	}
}
