package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jwtguard/jwtguard/ginjwt"
)

var _ ginjwt.ProofStore = (*Store)(nil)

// StateAndProof implements ginjwt.ProofStore in one round trip: one script
// (EVALSHA; EVAL once more when Redis does not have it yet, as after a
// restart or a failover) reads what State reads and checks the proof, so
// the state and the outcome are those of one moment. It always reaches
// Redis: the near-cache neither answers nor changes.
//
// The proof ids of a session are a zset of id -> expiry on the scripts'
// clock (Redis' TIME, or WithClock's), in the subject's hash slot (see
// keys.go). The write is not acknowledged by replicas even with
// WithReplicaAcks: a failover may lose ids remembered just before it, as
// ginjwt.ProofStore allows. A Redis full under noeviction refuses the
// script, and the call fails.
func (s *Store) StateAndProof(ctx context.Context, subject, sessionID string, p ginjwt.ProofCheck) (ginjwt.SessionState, bool, ginjwt.ProofOutcome, error) {
	if err := p.Validate(); err != nil {
		return ginjwt.SessionState{}, false, 0, err
	}
	if !ginjwt.ValidSessionID(sessionID) {
		return ginjwt.SessionState{}, false, 0, nil
	}
	k := s.keysFor(subject)
	reply, err := s.run(ctx, proofScript,
		[]string{k.version, k.session(sessionID), k.proofs(sessionID)},
		p.ID, s.clockArg(), p.TTL.Milliseconds(), p.Limit,
	).Slice()
	if err != nil {
		return ginjwt.SessionState{}, false, 0, fmt.Errorf("redisstore: state and proof: %w", err)
	}
	st, found, outcome, ok := proofReply(reply)
	if !ok {
		return ginjwt.SessionState{}, false, 0, fmt.Errorf("redisstore: state and proof: unexpected reply %v", reply)
	}
	return st, found, outcome, nil
}

// proofReply reads the proof script's {outcome, user version, generation},
// or {0} for a session not found.
func proofReply(reply []any) (st ginjwt.SessionState, found bool, outcome ginjwt.ProofOutcome, ok bool) {
	if len(reply) == 1 {
		n, ok := reply[0].(int64)
		return st, false, 0, ok && n == 0
	}
	if len(reply) != 3 {
		return st, false, 0, false
	}
	o, ok1 := reply[0].(int64)
	version, ok2 := reply[1].(string)
	gen, ok3 := reply[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return st, false, 0, false
	}
	v, err1 := strconv.ParseInt(version, 10, 64)
	g, err2 := strconv.ParseInt(gen, 10, 64)
	outcome = ginjwt.ProofOutcome(o)
	if err1 != nil || err2 != nil || outcome < ginjwt.ProofFresh || outcome > ginjwt.ProofLimited {
		return st, false, 0, false
	}
	return ginjwt.SessionState{UserVersion: v, Generation: g}, true, outcome, true
}
