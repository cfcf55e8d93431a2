package bench

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Revocation propagation between two app instances: A and B are two
// ginjwt.Auth on two redisstore.Store with the near-cache on, on two go-redis
// clients, sharing one Redis and one key prefix. A trial logs a session in
// through A, warms B's caches with its access token (B answers from memory),
// revokes the session through A, and polls B's guard until it refuses the
// token. The delay is measured from the start of A's revocation call (so it
// includes A's round trip) to B's first 401.
//
// How B is polled matters on a 2-core machine shared with redis-server: a
// loop that polls without pause keeps a core busy and delays the very Redis
// and subscriber work it waits for (its p99 is several ms worse). The
// default poller spins for spinFor after A's call returns, then polls after
// sleeping 50 µs (about 1 ms on a VM without high-resolution timers), as an
// instance with spare CPU would see it; the busy poller is reported too.

// spinFor is how long the default poller polls B without pausing.
const spinFor = 200 * time.Microsecond

type instances struct{ a, b *ourApp }

func newInstances(tb testing.TB) instances {
	tb.Helper()
	rdbA, prefix := newRedis(tb)
	rdbB, _ := newRedis(tb)
	a := newOurAppOn(tb, warmConfig, rdbA, prefix)
	b := newOurAppOn(tb, warmConfig, rdbB, prefix)
	return instances{a, b}
}

// checkWarm fails tb unless B answers token from its caches: a guard check
// that costs no round trip. It retries, since a near-cache entry may expire
// (its TTL) between two requests.
func (in instances) checkWarm(tb testing.TB, token string) {
	tb.Helper()
	req := getRequest(token)
	for range 3 {
		if code := serve(in.b.engine, req); code != http.StatusNoContent {
			tb.Fatalf("B answered %d", code)
		}
		before := in.b.trips.load()
		for range 10 {
			serve(in.b.engine, req)
		}
		if in.b.trips.load() == before {
			return
		}
	}
	tb.Fatal("B's guard goes to Redis on every request: near-cache not in use")
}

// trial runs one propagation trial and returns the delay, and the part of it
// after A's revocation call returned.
// busy polls B without ever pausing.
func (in instances) trial(tb testing.TB, busy bool) (delay, afterAck time.Duration) {
	tb.Helper()
	tr := in.a.login(tb, subject)
	var claims struct {
		jwt.RegisteredClaims
		SessionID string `json:"sid"`
	}
	if _, _, err := jwt.NewParser().ParseUnverified(tr.AccessToken, &claims); err != nil {
		tb.Fatal(err)
	}
	req := getRequest(tr.AccessToken)
	for range 2 { // the first fills B's caches, the second is served from them
		if code := serve(in.b.engine, req); code != http.StatusNoContent {
			tb.Fatalf("B answered %d before the revocation", code)
		}
	}
	start := time.Now()
	if err := in.a.auth.RevokeSession(context.Background(), subject, claims.SessionID); err != nil {
		tb.Fatal(err)
	}
	acked := time.Now()
	for {
		switch code := serve(in.b.engine, req); code {
		case http.StatusNoContent:
		case http.StatusUnauthorized:
			end := time.Now()
			return end.Sub(start), end.Sub(acked)
		default:
			tb.Fatalf("B answered %d", code)
		}
		if !busy && time.Since(acked) > spinFor {
			time.Sleep(50 * time.Microsecond)
		}
		if time.Since(start) > time.Second {
			tb.Fatal("B still accepts the revoked token after 1s")
		}
	}
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRevocationPropagation runs b.N trials (use -benchtime=1000x) with
// each poller and reports the delay's p50 and p99 in ms; ns/op is a whole
// trial (login, warm-up, revocation, polling).
func BenchmarkRevocationPropagation(b *testing.B) {
	for _, poll := range []struct {
		name string
		busy bool
	}{{"poll=spin-then-sleep", false}, {"poll=busy", true}} {
		b.Run(poll.name, func(b *testing.B) {
			in := newInstances(b)
			in.checkWarm(b, in.a.login(b, subject).AccessToken)
			delays := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				d, _ := in.trial(b, poll.busy)
				delays = append(delays, d)
			}
			b.StopTimer()
			slices.Sort(delays)
			b.ReportMetric(ms(quantile(delays, 0.50)), "p50-ms")
			b.ReportMetric(ms(quantile(delays, 0.99)), "p99-ms")
			b.ReportMetric(ms(delays[len(delays)-1]), "max-ms")
		})
	}
}
