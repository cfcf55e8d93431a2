package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Slots as Redis computes them (CLUSTER KEYSLOT).
func TestKeySlot(t *testing.T) {
	for key, want := range map[string]int{
		"123456789":            0x31C3, // the CRC16-XMODEM check value
		"foo":                  12182,
		"{user1000}.following": 3443,
		"{user1000}.followers": 3443,
		"jwtguard:{YWxpY2U}:v": keySlot("YWxpY2U"),
	} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// Three failures open the breaker; while open, calls fail at once except one
// probe per cool-down; a probe that succeeds closes it.
func TestBreaker(t *testing.T) {
	var b breaker
	down := errors.New("connection refused")
	call := func(err error) error {
		probe, allowErr := b.allow()
		if allowErr != nil {
			return allowErr
		}
		b.record(probe, err)
		return err
	}
	// Misses and callers that gave up are no failures.
	for _, err := range []error{nil, redis.Nil, context.Canceled, nil} {
		if call(err) != err {
			t.Fatal("closed breaker refused a call")
		}
	}
	for i := range breakerThreshold {
		if err := call(down); err != down {
			t.Fatalf("failure %d: got %v", i+1, err)
		}
	}
	if err := call(nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after %d failures: got %v, want ErrUnavailable", breakerThreshold, err)
	}
	time.Sleep(breakerCooldown)
	// One probe, concurrent calls fail fast while it runs.
	probe, err := b.allow()
	if err != nil || !probe {
		t.Fatalf("after the cool-down: probe %v, %v", probe, err)
	}
	if _, err := b.allow(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a second call during the probe: %v", err)
	}
	b.record(true, down) // the probe failed: open for another cool-down
	if err := call(nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after a failed probe: %v", err)
	}
	time.Sleep(breakerCooldown)
	if err := call(nil); err != nil {
		t.Fatalf("a successful probe: %v", err)
	}
	if b.open.Load() || b.failures.Load() != 0 {
		t.Fatal("a successful probe did not close the breaker")
	}
}

// Under concurrent use the breaker keeps its invariants (run with -race).
func TestBreakerConcurrent(t *testing.T) {
	var b breaker
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				probe, err := b.allow()
				if err != nil {
					continue
				}
				var res error
				if (i+j)%3 == 0 {
					res = errors.New("down")
				}
				b.record(probe, res)
			}
		})
	}
	wg.Wait()
}
