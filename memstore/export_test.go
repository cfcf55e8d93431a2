package memstore

// Size returns how many subjects and sessions s holds, expired or not.
func Size(s *Store) (subjects, sessions int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		sessions += len(u.sessions)
	}
	return len(s.users), sessions
}
