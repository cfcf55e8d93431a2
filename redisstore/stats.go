package redisstore

import "sync/atomic"

// NearCacheStats is a snapshot of the near-cache's counters, for metrics
// (see ginjwt/otelguard). Counters only grow, from the store's creation.
// The zero value is what a store without a near-cache reports.
type NearCacheStats struct {
	Enabled bool // WithNearCache is on
	Healthy bool // the invalidation subscription is up: the cache is in use

	Hits          uint64 // State calls answered from the cache
	Misses        uint64 // State calls, with the cache in use, that read Redis
	Bypasses      uint64 // State calls that read Redis because the subscription was down
	Invalidations uint64 // invalidation messages received
	Flushes       uint64 // whole-cache flushes: subscription up or down, lost state, unreadable message

	Entries int // sessions cached now
}

// nearCacheCounters are the counters behind NearCacheStats: atomics, so
// that counting costs no lock on the guard's path.
type nearCacheCounters struct {
	hits, misses, bypasses, invalidations, flushes atomic.Uint64
}

// NearCacheStats returns the near-cache's counters; the zero NearCacheStats
// when it is off. It takes the cache's read lock once, to count entries.
func (s *Store) NearCacheStats() NearCacheStats {
	nc := s.near
	if nc == nil {
		return NearCacheStats{}
	}
	nc.mu.RLock()
	entries := nc.n
	nc.mu.RUnlock()
	return NearCacheStats{
		Enabled:       true,
		Healthy:       nc.healthy.Load(),
		Hits:          nc.stats.hits.Load(),
		Misses:        nc.stats.misses.Load(),
		Bypasses:      nc.stats.bypasses.Load(),
		Invalidations: nc.stats.invalidations.Load(),
		Flushes:       nc.stats.flushes.Load(),
		Entries:       entries,
	}
}
