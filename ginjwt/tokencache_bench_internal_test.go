package ginjwt

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkTokenCacheGet: a hit among 1,000 cached tokens of an access
// token's length, the token cache's share of the warm guard.
func BenchmarkTokenCacheGet(b *testing.B) {
	now := time.Now()
	tc := newTokenCache(DefaultTokenCacheSize, time.Second)
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = strings.Repeat("x", 250) + strings.Repeat("s", 36) + strconv.Itoa(1e6+i)
		tc.put(tokens[i], cachedClaims(now), now, now.Add(time.Hour))
	}
	raw := strings.Clone(tokens[500]) // another string with the same bytes, as a request brings
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tc.get(raw, now); !ok {
			b.Fatal("miss")
		}
	}
}
