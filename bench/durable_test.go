package bench

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The cost of durable revocations (redisstore.WithReplicaAcks): the same
// writes with and without waiting for a replica, side by side, on one
// private primary with one replica (two redis-server processes on this
// machine, started for the benchmark), so that only WAIT differs.

// replicatedRedis starts a primary with one replica and returns a client on
// the primary.
func replicatedRedis(b *testing.B) *redis.Client {
	primary, _ := redistest.StartReplicated(b)
	return primary.Client()
}

// BenchmarkDurableRefreshParallel: refreshes per second with acks off and
// with every rotation waiting for one replica.
func BenchmarkDurableRefreshParallel(b *testing.B) {
	rdb := replicatedRedis(b)
	for _, acks := range []int{0, 1} {
		b.Run("acks="+strconv.Itoa(acks), func(b *testing.B) {
			runRefreshParallel(b, newOurAppOn(b, ourConfig{tokenCache: -1, acks: acks}, rdb, "bench-acks"+strconv.Itoa(acks)+":"))
		})
	}
}

// BenchmarkDurableLogout: the latency of one logout (state check and
// delete, and with acks the WAIT), serially; ns/op is the logout alone.
func BenchmarkDurableLogout(b *testing.B) {
	rdb := replicatedRedis(b)
	for _, acks := range []int{0, 1} {
		b.Run("acks="+strconv.Itoa(acks), func(b *testing.B) {
			a := newOurAppOn(b, ourConfig{tokenCache: -1, acks: acks}, rdb, "bench-logout"+strconv.Itoa(acks)+":")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				rt := a.login(b, "user-"+strconv.Itoa(i%1000)).RefreshToken
				b.StartTimer()
				w := httptest.NewRecorder()
				a.engine.ServeHTTP(w, logoutRequest(rt))
				if w.Code != http.StatusNoContent {
					b.Fatalf("logout answered %d %s", w.Code, w.Body)
				}
			}
		})
	}
}
