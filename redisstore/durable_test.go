package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
)

// A replica that does not confirm makes writes fail, not reads: the primary
// answers, so however many logins and logouts fail with ErrNotReplicated,
// the guard's State keeps working. The circuit breaker, which fails every
// call fast while Redis is down, must not open for it: Redis is up, and the
// breaker is shared by reads and writes.
func TestReplicaAcksMissingReplicaKeepsReads(t *testing.T) {
	redistest.SkipUnlessReal(t)
	primary, replica := redistest.StartReplicated(t)
	s, err := redisstore.New(primary.Client(), redisstore.WithReplicaAcks(1, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ns := ginjwt.NewSession{ID: newID(), TTL: time.Hour, MaxAge: 24 * time.Hour}
	if _, err := s.CreateSession(t.Context(), "alice", ns); err != nil {
		t.Fatalf("with the replica up: %v", err)
	}
	replica.Pause()
	defer replica.Resume()
	for i := range 5 {
		next := ginjwt.NewSession{ID: newID(), TTL: time.Hour, MaxAge: 24 * time.Hour}
		_, err := s.CreateSession(t.Context(), "bob", next)
		if !errors.Is(err, redisstore.ErrNotReplicated) && !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("login %d, replica paused: %v; want ErrNotReplicated", i+1, err)
		}
	}
	if _, found, err := s.State(t.Context(), "alice", ns.ID); err != nil || !found {
		t.Fatalf("State after writes failed for want of a replica: found %v, %v; want the session, the primary is up", found, err)
	}
}

// A durable write that finds its script missing on the primary (its first
// use there; a promoted replica has none, Redis does not replicate its
// script cache) still waits for replicas at most once: with no replica to
// confirm it, it fails with ErrNotReplicated within about the ack timeout,
// never with the store's timeout, which WithReplicaAcks promises for any
// ack timeout shorter than the store timeout.
func TestReplicaAcksFirstUseWaitsOnce(t *testing.T) {
	redistest.SkipUnlessReal(t)
	const ackTimeout, timeout = 600 * time.Millisecond, time.Second
	primary, replica := redistest.StartReplicated(t)
	s, err := redisstore.New(primary.Client(), redisstore.WithReplicaAcks(1, ackTimeout), redisstore.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	ns := ginjwt.NewSession{ID: newID(), TTL: time.Hour, MaxAge: 24 * time.Hour}
	if _, err := s.CreateSession(t.Context(), "alice", ns); err != nil {
		t.Fatalf("with the replica up: %v", err)
	}
	replica.Pause()
	defer replica.Resume()
	start := time.Now()
	err = s.DeleteSession(t.Context(), "alice", ns.ID) // the first DeleteSession: NOSCRIPT
	took := time.Since(start)
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("first DeleteSession, replica paused: %v after %v; want ErrNotReplicated within about %v", err, took, ackTimeout)
	}
	t.Logf("refused after %v", took)
}
