package ginjwt

import (
	"encoding/json"
	"reflect"
	"strconv"
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

// The cache hands out the claims it holds, unexpired, and nothing else; the
// guard copies them before application code sees them (see
// TestHandlersGetTheirOwnClaims).
func TestTokenCacheGet(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(8, time.Second)
	c := cachedClaims(now)
	tc.put("tok", c, now, now.Add(time.Hour))
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

// claimsWithID are cachedClaims told apart by their jti, expiring at exp.
func claimsWithID(id string, exp time.Time) *Claims {
	c := cachedClaims(exp.Add(-time.Minute))
	c.ID = id
	return c
}

// Tokens whose last bytes are equal share a set: it holds tokenWays of
// them, each found only by its own exact string; a token that only shares
// their last bytes is a miss; a full set gives up an expired slot first,
// else a live one.
func TestTokenCacheSet(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(64, 0)
	tail := ".same-signature-tail"
	token := func(i int) string { return "header.payload-" + strconv.Itoa(i) + tail }
	for i := range tokenWays {
		tc.put(token(i), claimsWithID(strconv.Itoa(i), now.Add(time.Minute)), now, now.Add(time.Hour))
	}
	for i := range tokenWays {
		if got, ok := tc.get(token(i), now); !ok || got.ID != strconv.Itoa(i) {
			t.Fatalf("token %d: get = %v, %v", i, got, ok)
		}
	}
	if _, ok := tc.get("forged.payload"+tail, now); ok {
		t.Fatal("a token sharing only the last bytes of cached ones was a hit")
	}

	// An expired slot goes first.
	tc.put(token(1), claimsWithID("1", now.Add(time.Second)), now, now.Add(time.Hour))
	later := now.Add(2 * time.Second)
	tc.put(token(9), claimsWithID("9", later.Add(time.Minute)), later, later.Add(time.Hour))
	for _, i := range []int{0, 2, 3, 9} {
		if got, ok := tc.get(token(i), later); !ok || got.ID != strconv.Itoa(i) {
			t.Fatalf("after replacing the expired token: token %d: get = %v, %v", i, got, ok)
		}
	}
	// With none expired, one live token gives way, and only one.
	tc.put(token(10), claimsWithID("10", later.Add(time.Minute)), later, later.Add(time.Hour))
	hits := 0
	for _, i := range []int{0, 2, 3, 9, 10} {
		if got, ok := tc.get(token(i), later); ok {
			if got.ID != strconv.Itoa(i) {
				t.Fatalf("token %d got the claims of %s", i, got.ID)
			}
			hits++
		}
	}
	if hits != tokenWays {
		t.Fatalf("%d of 5 tokens of a full set found, want %d", hits, tokenWays)
	}
}

// The cache has room for twice as many tokens as asked, in a power of two
// of sets.
func TestTokenCacheSize(t *testing.T) {
	for _, c := range []struct{ max, sets int }{{1, 1}, {2, 1}, {3, 2}, {5, 4}, {1000, 512}, {DefaultTokenCacheSize, 2048}} {
		tc := newTokenCache(c.max, 0)
		if len(tc.sets) != c.sets {
			t.Errorf("newTokenCache(%d): %d sets, want %d", c.max, len(tc.sets), c.sets)
		}
		// Every set index is reachable and in range.
		seen := map[*tokenSet]bool{}
		for i := range 100 * c.sets {
			seen[tc.set("signature-"+strconv.Itoa(i))] = true
		}
		if len(seen) != c.sets {
			t.Errorf("newTokenCache(%d): %d of %d sets used", c.max, len(seen), c.sets)
		}
	}
}

// Gets and puts from many goroutines: a hit always returns the claims that
// were put with that exact token (run with -race).
func TestTokenCacheConcurrent(t *testing.T) {
	now := time.Now()
	tc := newTokenCache(16, 0) // small: sets fill and slots are replaced
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				id := strconv.Itoa((g*7 + i) % 100)
				raw := "h.p" + id + ".sig" + id
				if got, ok := tc.get(raw, now); ok {
					if got.ID != id {
						t.Errorf("token %s got the claims of %s", id, got.ID)
						return
					}
					continue
				}
				tc.put(raw, claimsWithID(id, now.Add(time.Minute)), now, now.Add(time.Hour))
			}
		}()
	}
	wg.Wait()
}

// live times a token by the monotonic clock from the put's reading: it
// ends at the token's expiry plus leeway or the session's end, whichever
// is first, and compares whole tokens.
func TestTokenCacheLive(t *testing.T) {
	now := time.Now()                       // the real clock: it has a monotonic reading
	tc := newTokenCache(16, 10*time.Second) // expiries are whole seconds
	tc.put("live", claimsWithID("live", now.Add(time.Minute)), now, now.Add(time.Hour))
	tc.put("expired", claimsWithID("expired", now.Add(-20*time.Second)), now, now.Add(time.Hour))
	tc.put("in-leeway", claimsWithID("in-leeway", now.Add(-5*time.Second)), now, now.Add(time.Hour))
	tc.put("session-ended", claimsWithID("session-ended", now.Add(time.Minute)), now, now.Add(-time.Millisecond))
	tc.put("session-ends-soon", claimsWithID("session-ends-soon", now.Add(time.Minute)), now, now.Add(50*time.Millisecond))
	for raw, want := range map[string]bool{"live": true, "expired": false, "in-leeway": true, "session-ended": false, "session-ends-soon": true, "unknown": false, "liv": false} {
		if got := tc.live(raw); (got != nil) != want || got != nil && got.ID != raw {
			t.Errorf("live(%q) = %v, want found %v", raw, got, want)
		}
	}
	time.Sleep(60 * time.Millisecond)
	if tc.live("session-ends-soon") != nil {
		t.Error("a token whose session ended is still live")
	}
	// The wall-clock lookup ignores the session's end: the guard checks it.
	if _, ok := tc.get("session-ended", time.Now()); !ok {
		t.Error("get refused a token for its session's end")
	}
}
