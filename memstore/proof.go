package memstore

import (
	"context"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

var _ ginjwt.ProofStore = (*Store)(nil)

// StateAndProof implements ginjwt.ProofStore. A session's proof ids live
// with the session: removing the session drops them at once. Expired ids
// are dropped by the session's next call, so a session holds at most
// p.Limit of them (the largest Limit it was called with).
func (s *Store) StateAndProof(ctx context.Context, subject, sessionID string, p ginjwt.ProofCheck) (ginjwt.SessionState, bool, ginjwt.ProofOutcome, error) {
	if err := ctx.Err(); err != nil {
		return ginjwt.SessionState{}, false, 0, err
	}
	if err := p.Validate(); err != nil {
		return ginjwt.SessionState{}, false, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.sweep(now)

	u := s.liveUser(subject, now)
	if u == nil || u.sessions[sessionID] == nil {
		return ginjwt.SessionState{}, false, 0, nil
	}
	se := u.sessions[sessionID]
	st := ginjwt.SessionState{UserVersion: u.version, Generation: se.generation}

	// Like redisstore, count in whole milliseconds.
	at := toMillis(now)
	for id, expires := range se.proofs {
		if !at.Before(expires) {
			delete(se.proofs, id)
		}
	}
	if _, ok := se.proofs[p.ID]; ok {
		return st, true, ginjwt.ProofReplayed, nil
	}
	if len(se.proofs) >= p.Limit {
		return st, true, ginjwt.ProofLimited, nil
	}
	if se.proofs == nil {
		se.proofs = map[string]time.Time{}
	}
	se.proofs[p.ID] = at.Add(p.TTL.Truncate(time.Millisecond))
	return st, true, ginjwt.ProofFresh, nil
}
