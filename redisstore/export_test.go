package redisstore

// NearCacheLen returns how many sessions the near-cache of s holds.
func NearCacheLen(s *Store) int {
	s.near.mu.RLock()
	defer s.near.mu.RUnlock()
	return s.near.n
}

// UserKeys returns the keys of subject: its user version, its index of
// sessions by last use, 0.1.0's index, and the key of session id.
func UserKeys(s *Store, subject, id string) (version, index, legacy, session string) {
	k := s.keysFor(subject)
	return k.version, k.index, k.legacy, k.session(id)
}
