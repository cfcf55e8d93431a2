package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/clocktest"
)

// hourly allows 3 attempts at once and one more every 20 minutes: slow
// enough that no attempt comes back while a test runs, on any clock.
var hourly = ginjwt.Rate{Count: 3, Period: time.Hour, Burst: 3}

// backoff is the suite's ginjwt.Backoff: 3 free attempts, then 1, 2, 4, 4…
// minutes.
var backoff = ginjwt.Backoff{Free: 3, Lockout: time.Minute, MaxLockout: 4 * time.Minute, Forget: time.Hour}

// runThrottle checks the ginjwt.Throttle methods of stores that implement
// them. GCRA limits (Take, Refund) may follow the store's own clock, as
// redis_rate follows Redis'; backoffs (Attempt) take the time from the
// suite's clock, and only their expiry (Forget) may follow the store's.
func runThrottle(t *testing.T, newStore NewStore) {
	if _, ok := newStore(t, time.Now).(ginjwt.Throttle); !ok {
		return
	}
	tests := []struct {
		name string
		run  func(t *testing.T, th ginjwt.Throttle, clock *clocktest.Clock)
	}{
		{"Take/a burst, then refused until an attempt is due", testTakeBurst},
		{"Take/keys are counted apart", testTakeKeysApart},
		{"Refund/gives one attempt back, never more than a burst", testRefund},
		{"Attempt/free attempts, then doubling lockouts up to the longest", testAttemptBackoff},
		{"Clear/forgets attempts and lockout", testClear},
		{"Concurrency/takes never exceed the burst", testConcurrentTakes},
		{"Concurrency/attempts never exceed the free ones", testConcurrentAttempts},
	}
	for _, tc := range tests {
		t.Run("Throttle/"+tc.name, func(t *testing.T) {
			clock := clocktest.New(base)
			tc.run(t, newStore(t, clock.Now).(ginjwt.Throttle), clock)
		})
	}
}

func take(t *testing.T, th ginjwt.Throttle, key string, r ginjwt.Rate) ginjwt.Allowance {
	t.Helper()
	a, err := th.Take(context.Background(), key, r)
	if err != nil {
		t.Fatalf("Take(%q): %v", key, err)
	}
	return a
}

func attempt(t *testing.T, th ginjwt.Throttle, key string) time.Duration {
	t.Helper()
	d, err := th.Attempt(context.Background(), key, backoff)
	if err != nil {
		t.Fatalf("Attempt(%q): %v", key, err)
	}
	return d
}

func testTakeBurst(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	for i := range hourly.Burst {
		a := take(t, th, "k", hourly)
		if !a.Allowed || a.Remaining != hourly.Burst-1-i || a.ResetAfter <= 0 {
			t.Fatalf("attempt %d of the burst = %+v, want allowed with %d remaining and a reset time", i+1, a, hourly.Burst-1-i)
		}
	}
	a := take(t, th, "k", hourly)
	interval := hourly.Period / time.Duration(hourly.Count)
	if a.Allowed || a.Remaining != 0 || a.RetryAfter <= interval-time.Minute || a.RetryAfter > interval {
		t.Fatalf("attempt past the burst = %+v, want refused, retry after about %v", a, interval)
	}
}

func testTakeKeysApart(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	keys := append([]string{"a", "b", strings.Repeat("k", 300)}, AwkwardSubjects...)
	for _, k := range keys {
		for range hourly.Burst {
			if !take(t, th, k, hourly).Allowed {
				t.Fatalf("key %q refused within its burst: counted with another key", k)
			}
		}
	}
	for _, k := range keys {
		if take(t, th, k, hourly).Allowed {
			t.Fatalf("key %q allowed past its burst", k)
		}
	}
}

func testRefund(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	ctx := context.Background()
	// A refund on a full or unknown key adds nothing.
	if err := th.Refund(ctx, "r", hourly); err != nil {
		t.Fatal(err)
	}
	for range hourly.Burst {
		take(t, th, "r", hourly)
	}
	if take(t, th, "r", hourly).Allowed {
		t.Fatal("a refund before any take raised the burst")
	}
	if err := th.Refund(ctx, "r", hourly); err != nil {
		t.Fatal(err)
	}
	if !take(t, th, "r", hourly).Allowed {
		t.Fatal("the refunded attempt was not given back")
	}
	if take(t, th, "r", hourly).Allowed {
		t.Fatal("one refund gave back more than one attempt")
	}
}

func testAttemptBackoff(t *testing.T, th ginjwt.Throttle, clock *clocktest.Clock) {
	for i := range backoff.Free {
		if d := attempt(t, th, "acct"); d != 0 {
			t.Fatalf("free attempt %d locked out for %v", i+1, d)
		}
	}
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		if d := attempt(t, th, "acct"); d != want {
			t.Fatalf("during the lockout: %v left, want %v", d, want)
		}
		clock.Advance(want - time.Second)
		if d := attempt(t, th, "acct"); d != time.Second {
			t.Fatalf("a second before the lockout ends: %v left, want 1s", d)
		}
		clock.Advance(time.Second)
		if d := attempt(t, th, "acct"); d != 0 {
			t.Fatalf("after a lockout of %v: still locked for %v", want, d)
		}
	}
	if d := attempt(t, th, "other"); d != 0 {
		t.Fatalf("another key is locked out for %v", d)
	}
}

func testClear(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	for range backoff.Free + 1 {
		attempt(t, th, "acct")
	}
	if d := attempt(t, th, "acct"); d == 0 {
		t.Fatal("not locked out past the free attempts")
	}
	if err := th.Clear(context.Background(), "acct"); err != nil {
		t.Fatal(err)
	}
	for i := range backoff.Free {
		if d := attempt(t, th, "acct"); d != 0 {
			t.Fatalf("after Clear, attempt %d locked out for %v", i+1, d)
		}
	}
	if err := th.Clear(context.Background(), "never-seen"); err != nil {
		t.Fatalf("Clear of an unknown key: %v", err)
	}
}

func testConcurrentTakes(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	r := ginjwt.Rate{Count: 10, Period: time.Hour, Burst: 10}
	allowed := 0
	for _, a := range race(concurrency, func(int) ginjwt.Allowance {
		a, err := th.Take(context.Background(), "burst", r)
		if err != nil {
			t.Error(err)
		}
		return a
	}) {
		if a.Allowed {
			allowed++
		}
	}
	if allowed != r.Burst {
		t.Fatalf("%d concurrent takes allowed %d, want the burst of %d", concurrency, allowed, r.Burst)
	}
}

func testConcurrentAttempts(t *testing.T, th ginjwt.Throttle, _ *clocktest.Clock) {
	free := 0
	for _, d := range race(concurrency, func(int) time.Duration {
		d, err := th.Attempt(context.Background(), "acct", backoff)
		if err != nil {
			t.Error(err)
			return -1
		}
		return d
	}) {
		if d == 0 {
			free++
		}
	}
	if free != backoff.Free {
		t.Fatalf("%d concurrent attempts went ahead %d times, want %d", concurrency, free, backoff.Free)
	}
}
