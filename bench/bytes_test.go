package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestBytesPerSession logs sessions in through the login handler, as an app
// does, and sums MEMORY USAGE (SAMPLES 0: exact) of the keys the store
// writes for the user: version key, session index and session hash. It uses
// the default key prefix, since the length of key names counts, and a fresh
// random subject of a realistic length ("user-" and 5 digits).
//
// first: the user's first session (all three keys); marginal: each further
// session of the same user (a session hash and an index entry), averaged
// over sessions 2 to 10. MEMORY USAGE counts key, value and Redis object
// overhead, not the entry each key with a TTL adds to the expires table.
func TestBytesPerSession(t *testing.T) {
	iPhone := func(*gin.Context) string { return "iPhone" }
	cases := []struct {
		name   string
		device func(*gin.Context) string
		omit   bool // Options.OmitClientInfo
	}{
		{"device=User-Agent (as the example app)", nil, false},
		{"device=iPhone", iPhone, false},
		{"device=iPhone, OmitClientInfo", iPhone, true},
		{"no device, OmitClientInfo (floor)", func(*gin.Context) string { return "" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rdb, _ := newRedis(t)
			a := newOurAppOn(t, ourConfig{device: tc.device, omitClient: tc.omit}, rdb, redisstore.DefaultPrefix)
			sub := freeSubject(t, rdb)
			var refresh []string
			refresh = append(refresh, a.login(t, sub).RefreshToken)
			first, perKey := userBytes(t, rdb, sub)
			const more = 9
			for range more {
				refresh = append(refresh, a.login(t, sub).RefreshToken)
			}
			total, _ := userBytes(t, rdb, sub)
			marginal := float64(total-first) / more
			// Refresh every session once: the state of a session in use.
			for _, rt := range refresh {
				if code := serve(a.engine, refreshRequest(rt)); code != http.StatusOK {
					t.Fatalf("refresh answered %d", code)
				}
			}
			refreshed, _ := userBytes(t, rdb, sub)
			t.Logf("subject %q, User-Agent header %d bytes: first session %d B (%s); each further session %.0f B "+
				"(session hash + index entry); after one refresh of each: %d B for %d sessions",
				sub, len(userAgent), first, perKey, marginal, refreshed, len(refresh))
		})
	}
}

// freeSubject picks a random subject with no state under the default
// prefix, and deletes whatever the test writes for it.
func freeSubject(t *testing.T, rdb *redis.Client) string {
	for range 100 {
		sub := fmt.Sprintf("user-%05d", 10000+rand.IntN(90000))
		pattern := userPrefix(sub)
		keys, _, err := rdb.Scan(context.Background(), 0, pattern+"*", 1000).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			t.Cleanup(func() { deleteKeys(t, rdb, pattern) })
			return sub
		}
	}
	t.Fatal("no free subject")
	return ""
}

// userPrefix starts every key of sub under the default prefix (see
// redisstore's key layout: prefix, hash tag of the base64url subject).
func userPrefix(sub string) string {
	return redisstore.DefaultPrefix + "{" + base64.RawURLEncoding.EncodeToString([]byte(sub)) + "}:"
}

// userBytes sums MEMORY USAGE over the keys of sub and describes them by
// kind (v version, x index, s session hash).
func userBytes(t *testing.T, rdb *redis.Client, sub string) (int64, string) {
	ctx := context.Background()
	prefix := userPrefix(sub)
	var keys []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	var total int64
	var parts []string
	for _, k := range keys {
		n, err := rdb.MemoryUsage(ctx, k, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += n
		kind, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), ":")
		parts = append(parts, fmt.Sprintf("%s %d", kind, n))
	}
	return total, strings.Join(parts, " + ")
}
