package redisstore

// NearCacheLen returns how many sessions the near-cache of s holds.
func NearCacheLen(s *Store) int {
	s.near.mu.RLock()
	defer s.near.mu.RUnlock()
	return s.near.n
}
