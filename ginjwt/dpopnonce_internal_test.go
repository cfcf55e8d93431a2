package ginjwt

import (
	"testing"
	"time"
)

// A nonce passes during its period and the next, never after, never under
// another key, and nothing that is not a nonce passes.
func TestDPoPNonceValidity(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 30, 0, time.UTC)
	n := &nonces{key: []byte("0123456789abcdef0123456789abcdef"), lifetime: time.Minute, now: func() time.Time { return now }}
	nonce := n.current()
	if !n.valid(nonce) {
		t.Fatal("the current nonce refused")
	}
	now = now.Add(time.Minute)
	if !n.valid(nonce) {
		t.Fatal("the previous period's nonce refused")
	}
	if n.current() == nonce {
		t.Fatal("no new nonce in the next period")
	}
	now = now.Add(time.Minute)
	if n.valid(nonce) {
		t.Fatal("a nonce two periods old accepted")
	}
	other := &nonces{key: []byte("another-key-another-key-another!!"), lifetime: time.Minute, now: n.now}
	for _, bad := range []string{"", "x", other.current(), n.current() + "A", n.current()[:len(n.current())-1] + "B", n.make(n.period(now) + 1)} {
		if n.valid(bad) {
			t.Errorf("nonce %q accepted", bad)
		}
	}
}
