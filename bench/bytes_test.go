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

// BenchmarkBytesPerSession logs sessions in through the login handler, as an app
// does, and sums MEMORY USAGE (SAMPLES 0: exact) of the keys the store
// writes for the user: version key, session index and session hash. It uses
// the default key prefix, since the length of key names counts, and a fresh
// random subject of a realistic length ("user-" and 5 digits).
//
// first: the user's first session (all three keys); marginal: each further
// session of the same user (a session hash and an index entry), averaged
// over sessions 2 to 10; refreshed: per session after one refresh of each.
// MEMORY USAGE counts key, value and Redis object overhead, not the entry
// each key with a TTL adds to the expires table. The figures are reported
// as metrics; ns/op is one round of ten logins and ten refreshes.
func BenchmarkBytesPerSession(b *testing.B) {
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
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				first, further, refreshed := sessionBytes(b, tc.device, tc.omit)
				b.ReportMetric(float64(first), "first-B")
				b.ReportMetric(further, "further-B")
				b.ReportMetric(refreshed, "refreshed-B/session")
			}
		})
	}
}

// sessionBytes logs ten sessions of a fresh subject in and refreshes each
// once. It returns the bytes of the first session (the user's keys and one
// session), of each further session, and the user's bytes per session once
// every session was refreshed.
func sessionBytes(tb testing.TB, device func(*gin.Context) string, omit bool) (first int64, further, refreshed float64) {
	rdb, _ := newRedis(tb)
	a := newOurAppOn(tb, ourConfig{device: device, omitClient: omit}, rdb, redisstore.DefaultPrefix)
	sub := freeSubject(tb, rdb)
	refresh := []string{a.login(tb, sub).RefreshToken}
	first, perKey := userBytes(tb, rdb, sub)
	const more = 9
	for range more {
		refresh = append(refresh, a.login(tb, sub).RefreshToken)
	}
	total, _ := userBytes(tb, rdb, sub)
	further = float64(total-first) / more
	for _, rt := range refresh { // the state of sessions in use
		if code := serve(a.engine, refreshRequest(rt)); code != http.StatusOK {
			tb.Fatalf("refresh answered %d", code)
		}
	}
	after, _ := userBytes(tb, rdb, sub)
	refreshed = float64(after) / float64(len(refresh))
	tb.Logf("subject %q, User-Agent header %d bytes: first session %d B (%s); each further session %.0f B; "+
		"after one refresh of each: %d B for %d sessions", sub, len(userAgent), first, perKey, further, after, len(refresh))
	return first, further, refreshed
}

// freeSubject picks a random subject with no state under the default
// prefix, and deletes whatever the test writes for it.
func freeSubject(t testing.TB, rdb *redis.Client) string {
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
func userBytes(t testing.TB, rdb *redis.Client, sub string) (int64, string) {
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
