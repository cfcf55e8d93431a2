package ginjwt

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTokenCacheSize is how many verified access tokens the guard
// remembers unless Options.TokenCacheSize says otherwise.
const DefaultTokenCacheSize = 4096

// MaxTokenCacheSize is the largest Options.TokenCacheSize: New allocates
// the cache's table whole, 16 bytes per token (entries come as tokens do).
const MaxTokenCacheSize = 1 << 22

// tokenCache remembers access tokens that passed verification, keyed by the
// exact token string, so that the guard skips the signature check and the
// claims decoding when a token comes back. Only the outcome of verification
// is cached, never a session check: the store is still asked on every
// request (or its own near-cache is). Expiry is checked on every use.
//
// It is a set-associative table, as a CPU cache is: a token belongs to one
// set of tokenWays slots, chosen by a hash of its last 8 bytes (its
// signature's), and a slot holds an immutable entry. A lookup takes no lock:
// it loads the set's slots and compares each entry's token with the
// presented one, byte for byte, so a token whose last bytes collide with a
// cached one's is only ever a miss. A put fills a free or expired slot of
// the set, else the next one in turn.
type tokenCache struct {
	leeway time.Duration
	seed   uint64 // random, so that nobody can tell which tokens share a set
	shift  uint   // 64 minus the log2 of len(sets)
	sets   []tokenSet
	turn   atomic.Uint32 // the slot a put into a full set replaces
}

// tokenWays is how many tokens a set holds.
const tokenWays = 4

// tokenSet is one set of the cache.
type tokenSet [tokenWays]atomic.Pointer[tokenEntry]

// tokenEntry is one verified token and its claims; never changed once
// stored.
type tokenEntry struct {
	raw     string
	claims  *Claims
	expires time.Time // the token's expiry plus the leeway
	ends    time.Time // expires or the session's end, whichever is first
	// deadline is when live stops answering on the monotonic clock alone:
	// ends, or tokenRecheck after the wall clock was last read, whichever
	// is first. It carries the monotonic reading of that read (see live).
	deadline time.Time
}

// tokenRecheck is the longest the warm guard answers a cached token
// without reading the wall clock: after a step of the system clock, or a
// suspend of the host (which stops the monotonic clock), the wall clock
// judges every cached token again within it.
const tokenRecheck = time.Second

// newTokenEntry returns the entry of a token, its deadline counted from
// now.
func newTokenEntry(raw string, claims *Claims, expires, ends, now time.Time) *tokenEntry {
	return &tokenEntry{raw: raw, claims: claims, expires: expires, ends: ends, deadline: now.Add(min(ends.Sub(now), tokenRecheck))}
}

// newTokenCache returns a cache for max tokens (at most
// MaxTokenCacheSize): room for twice as many, in a power of two of sets, so
// that few sets overflow while max tokens are live.
func newTokenCache(max int, leeway time.Duration) *tokenCache {
	bits := uint(0)
	for tokenWays<<bits < 2*min(max, MaxTokenCacheSize) {
		bits++
	}
	return &tokenCache{leeway: leeway, seed: rand.Uint64(), shift: 64 - bits, sets: make([]tokenSet, 1<<bits)}
}

// set returns the set raw belongs to: its last 8 bytes, which belong to its
// signature and so look random, mixed with the seed by Fibonacci hashing
// (the top bits of a product with 2^64/φ). Tokens that share them share a
// set; the whole-token compare tells them apart.
func (tc *tokenCache) set(raw string) *tokenSet {
	var tail uint64
	for i := max(len(raw)-8, 0); i < len(raw); i++ {
		tail = tail<<8 | uint64(raw[i])
	}
	return &tc.sets[((tail^tc.seed)*0x9e3779b97f4a7c15)>>tc.shift]
}

// get returns the claims of a verified token that has not expired at now,
// on the wall clock. They are shared with every request that presents the
// token: read them only. A token live no longer answers while its session
// lasts gets a new deadline, counted from now.
func (tc *tokenCache) get(raw string, now time.Time) (*Claims, bool) {
	slot, e := tc.find(raw)
	if e == nil || !now.Before(e.expires) {
		return nil, false
	}
	if !now.Before(e.deadline) && now.Before(e.ends) {
		slot.CompareAndSwap(e, newTokenEntry(raw, e.claims, e.expires, e.ends, now))
	}
	return e.claims, true
}

// find returns the slot that holds raw and its entry, or nil when raw is
// not cached.
func (tc *tokenCache) find(raw string) (*atomic.Pointer[tokenEntry], *tokenEntry) {
	set := tc.set(raw)
	for i := range set {
		if e := set[i].Load(); e != nil && e.raw == raw {
			return &set[i], e
		}
	}
	return nil, nil
}

// live returns the claims of a cached token whose deadline has not passed
// on the monotonic clock, or nil: then the guard reads the wall clock and
// asks get, which judges the token by it and, while it lasts, sets a new
// deadline. So the wall clock judges each token at least once every
// tokenRecheck. Only the guard's warm path calls live, and only on the
// real clock (see Auth.warm), whose readings carry a monotonic one.
func (tc *tokenCache) live(raw string) *Claims {
	if _, e := tc.find(raw); e != nil && time.Until(e.deadline) > 0 {
		return e.claims
	}
	return nil
}

// put remembers verified claims, which from now on are shared: nobody may
// change them, until the token expires or, for live, the session ends at
// sessionEnd. It takes the token's own slot when it is already there, else
// a free or expired slot of its set, else the set's next slot in turn.
func (tc *tokenCache) put(raw string, claims *Claims, now, sessionEnd time.Time) {
	set := tc.set(raw)
	expires := claims.ExpiresAt.Add(tc.leeway)
	ends := expires
	if sessionEnd.Before(ends) {
		ends = sessionEnd
	}
	entry := newTokenEntry(raw, claims, expires, ends, now)
	for i := range set {
		if e := set[i].Load(); e == nil || e.raw == raw || !now.Before(e.expires) {
			set[i].Store(entry)
			return
		}
	}
	set[tc.turn.Add(1)%tokenWays].Store(entry)
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
