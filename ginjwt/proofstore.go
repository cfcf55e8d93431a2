package ginjwt

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ProofStore is implemented by stores that can also remember DPoP proofs
// (RFC 9449), so that a proof presented twice is refused (§11.1): the
// guard's state read and the replay check of the request's proof then cost
// one call, and for redisstore one round trip.
//
// A store remembers proof ids per session, each for the TTL the caller
// gives, on the store's own clock like every other time of the Store
// contract, and never more than ProofCheck.Limit live ids per session, so
// that the memory a session may take is bounded whatever a client sends.
// Proof ids of different sessions, of one subject or of several, are
// independent.
//
// Removing a session (DeleteSession, RevokeOtherSessions, RevokeUser, an
// eviction at CreateSession, expiry) may keep its proof ids until their TTL
// passes: they are short-lived and bounded, and since session ids are
// random and never reused, nothing reads them again. A store may also drop
// them with the session, as memstore does.
//
// Losing remembered proof ids (a Redis failover before replication, a
// restart of an in-memory store) lets a proof seen before the loss pass once
// more within its TTL; unlike the rest of the Store's state, which only ever
// logs people out when lost, this is accepted as the price of not waiting
// for replicas on every request.
type ProofStore interface {
	// StateAndProof is State, plus the replay check of one proof of the
	// session, in one atomic step: when the session is found, the proof id
	// p.ID is remembered unless it is already (ProofReplayed) or the session
	// holds p.Limit live ids (ProofLimited); then the outcome is ProofFresh.
	// Of any number of concurrent calls with one id, on any number of
	// application instances, at most one is ProofFresh, and exactly one
	// when the session has room: the others find the id remembered.
	//
	// found is false, with a nil error, when State would report the session
	// not found; then the proof is not remembered and outcome is the zero
	// ProofOutcome, which is no outcome. A p that is not valid (see
	// ProofCheck.Validate) gives an error, and nothing is read or written.
	StateAndProof(ctx context.Context, subject, sessionID string, p ProofCheck) (st SessionState, found bool, outcome ProofOutcome, err error)
}

// MaxProofIDLen is the longest ProofCheck.ID a ProofStore accepts.
const MaxProofIDLen = 64

// ProofCheck is the replay check of one DPoP proof.
type ProofCheck struct {
	// ID identifies the proof: 1 to MaxProofIDLen bytes. Callers pass
	// base64url(SHA-256(jkt + "." + jti)), 43 bytes, so that ids of
	// different keys never collide. The store keeps the id, never the
	// proof.
	ID string
	// TTL is how long the id is remembered: the proof's acceptance window,
	// at least a millisecond. Stores count it in whole milliseconds.
	TTL time.Duration
	// Limit is the most live proof ids the session may hold: at the limit,
	// a new id is refused (ProofLimited) until one expires. It must be
	// positive. redisstore keeps a session's ids compact up to 128 (Redis'
	// zset-max-listpack-entries).
	Limit int
}

// errProofCheck is returned for a ProofCheck that is not valid.
var errProofCheck = errors.New("ginjwt: a proof check needs an id of 1 to 64 bytes, a TTL of at least a millisecond and a positive limit")

// Validate returns an error unless p is a check a ProofStore accepts: an ID
// of 1 to MaxProofIDLen bytes, a TTL of at least a millisecond and a
// positive Limit.
func (p ProofCheck) Validate() error {
	if p.ID == "" || len(p.ID) > MaxProofIDLen || p.TTL < time.Millisecond || p.Limit <= 0 {
		return errProofCheck
	}
	return nil
}

// ProofOutcome is what StateAndProof decided about a proof. The zero value
// is no outcome: StateAndProof returns it when the session is not found.
type ProofOutcome int

// Proof outcomes.
const (
	// ProofFresh: the id was not remembered; it is now, for ProofCheck.TTL.
	ProofFresh ProofOutcome = iota + 1
	// ProofReplayed: the id is remembered and live: the proof was presented
	// before, and the request must be refused. Nothing changes; in
	// particular the id's expiry is not pushed back.
	ProofReplayed
	// ProofLimited: the id is not remembered, but the session already holds
	// ProofCheck.Limit live ids, so it is not remembered now either: the
	// request must be refused, since its proof could not be recorded.
	ProofLimited
)

// String returns the outcome's name, such as "fresh".
func (o ProofOutcome) String() string {
	switch o {
	case ProofFresh:
		return "fresh"
	case ProofReplayed:
		return "replayed"
	case ProofLimited:
		return "limited"
	}
	return "ProofOutcome(" + strconv.Itoa(int(o)) + ")"
}
