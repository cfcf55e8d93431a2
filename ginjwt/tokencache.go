package ginjwt

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTokenCacheSize is how many verified access tokens the guard
// remembers unless Options.TokenCacheSize says otherwise.
const DefaultTokenCacheSize = 4096

// tokenCache remembers access tokens that passed verification, keyed by the
// exact token string, so that the guard skips the signature check and the
// claims decoding when a token comes back. Only the outcome of verification
// is cached, never a session check: the store is still asked on every
// request (or its own near-cache is). Expiry is checked on every use.
type tokenCache struct {
	max    int
	leeway time.Duration

	mu      sync.RWMutex
	entries map[string]*Claims
}

func newTokenCache(max int, leeway time.Duration) *tokenCache {
	return &tokenCache{max: max, leeway: leeway, entries: make(map[string]*Claims, min(max, 1024))}
}

// get returns the claims of a verified token that has not expired. They
// are shared with every request that presents the token: read them only.
func (tc *tokenCache) get(raw string, now time.Time) (*Claims, bool) {
	tc.mu.RLock()
	claims, ok := tc.entries[raw]
	tc.mu.RUnlock()
	if !ok || !now.Before(claims.ExpiresAt.Add(tc.leeway)) {
		return nil, false
	}
	return claims, true
}

// put remembers verified claims, which from now on are shared: nobody may
// change them. When the cache is full it drops expired entries and, if
// that is not enough, an arbitrary eighth of the rest.
func (tc *tokenCache) put(raw string, claims *Claims, now time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.entries) >= tc.max {
		tc.evict(now)
	}
	tc.entries[raw] = claims
}

// inlineStrings is how many strings of Audience, AMR and Roles a
// claimsBlock holds; longer lists get an allocation of their own.
const inlineStrings = 8

// claimsBlock is claims and the memory they point into, allocated at once:
// the three dates, up to inlineStrings strings of their lists, and the
// confirmation. Verified tokens and copies of claims are made in one.
type claimsBlock struct {
	claims  Claims
	dates   [3]jwt.NumericDate
	strings [inlineStrings]string
	cnf     Confirmation
}

// cloneClaims copies claims deeply, so that a handler changing its copy (a
// role, or the time behind ExpiresAt) can change neither what the cache gives
// the next request nor what another request reads at the same time. The
// claims, their three dates and up to inlineStrings strings of their lists
// are one allocation; each list is capped at its length, so that appending
// to it copies rather than writes into a neighbour.
func cloneClaims(c *Claims) *Claims {
	cp := &claimsBlock{claims: *c}
	if c.Confirmation != nil {
		cp.cnf = *c.Confirmation
		cp.claims.Confirmation = &cp.cnf
	}
	cp.claims.ExpiresAt = cloneDate(c.ExpiresAt, &cp.dates[0])
	cp.claims.NotBefore = cloneDate(c.NotBefore, &cp.dates[1])
	cp.claims.IssuedAt = cloneDate(c.IssuedAt, &cp.dates[2])
	free := cp.strings[:0]
	cp.claims.Audience = cloneStrings(c.Audience, &free)
	cp.claims.AMR = cloneStrings(c.AMR, &free)
	cp.claims.Roles = cloneStrings(c.Roles, &free)
	cp.claims.Extra = bytes.Clone(c.Extra)
	return &cp.claims
}

// cloneStrings copies src into the room left in *free when it fits, else
// into a new slice; nil stays nil.
func cloneStrings(src []string, free *[]string) []string {
	if src == nil {
		return nil
	}
	buf := *free
	if len(src) > cap(buf)-len(buf) {
		return slices.Clone(src)
	}
	start := len(buf)
	buf = append(buf, src...)
	*free = buf
	return buf[start:len(buf):len(buf)]
}

// cloneDate copies *d into dst and returns dst, or nil when d is nil.
func cloneDate(d, dst *jwt.NumericDate) *jwt.NumericDate {
	if d == nil {
		return nil
	}
	*dst = *d
	return dst
}

func (tc *tokenCache) evict(now time.Time) {
	for raw, c := range tc.entries {
		if !now.Before(c.ExpiresAt.Add(tc.leeway)) {
			delete(tc.entries, raw)
		}
	}
	drop := len(tc.entries) - tc.max + max(tc.max/8, 1)
	for raw := range tc.entries {
		if drop <= 0 {
			break
		}
		delete(tc.entries, raw)
		drop--
	}
}
