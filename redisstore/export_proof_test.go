package redisstore

// ProofKey returns the key of the DPoP proof ids of session id of subject.
func ProofKey(s *Store, subject, id string) string {
	return s.keysFor(subject).proofs(id)
}
