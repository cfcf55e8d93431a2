package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned, without a call to Redis, while the store's
// circuit breaker is open: the last calls to the same Redis failed, and the
// next attempt is not due yet. ginjwt answers it, as any store error, with
// 503 store_unavailable.
var ErrUnavailable = errors.New("redisstore: Redis is unavailable; failing fast after repeated errors")

// Circuit breaker settings. Three consecutive failures open it; while open,
// calls fail at once, except one probe every breakerCooldown, which closes it
// again as soon as Redis answers. A request during an outage then costs
// microseconds instead of go-redis' dial retries or the store's timeout, and
// recovery after Redis returns takes at most the cool-down.
const (
	breakerThreshold = 3
	breakerCooldown  = 200 * time.Millisecond
)

// breaker is one circuit breaker. The closed state, the common one, costs an
// atomic load per call and a store after a failure.
type breaker struct {
	failures atomic.Int32
	open     atomic.Bool

	mu        sync.Mutex
	nextProbe time.Time // while open, when the next call may probe
	probing   bool      // a probe is in flight
}

// allow reports whether a call may go to Redis, and whether it is the probe
// of an open breaker; err is ErrUnavailable when it may not.
func (b *breaker) allow() (probe bool, err error) {
	if !b.open.Load() {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() {
		return false, nil
	}
	if b.probing || time.Now().Before(b.nextProbe) {
		return false, ErrUnavailable
	}
	b.probing = true
	return true, nil
}

// record counts the outcome of a call that allow let through.
func (b *breaker) record(probe bool, err error) {
	failed := countsAsFailure(err)
	if !probe && !b.open.Load() {
		switch {
		case !failed:
			if b.failures.Load() != 0 {
				b.failures.Store(0)
			}
			return
		case b.failures.Add(1) < breakerThreshold:
			return
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	if !failed {
		b.failures.Store(0)
		b.open.Store(false)
		return
	}
	b.nextProbe = time.Now().Add(breakerCooldown)
	b.open.Store(true)
}

// countsAsFailure reports whether err says Redis is unwell: any error but a
// missing key, a caller that gave up, and a write the primary took that
// its replicas did not confirm (the primary answers; reads go on).
func countsAsFailure(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, ErrNotReplicated)
}

// breakers holds one breaker for a single Redis, or one per range of 256
// hash slots for a Cluster, so that a failing master fails its own users
// fast and no one else's.
type breakers struct {
	single  breaker
	slots   []breaker // nil unless the client is a Cluster client
	cluster bool
}

func newBreakers(client redis.UniversalClient) *breakers {
	b := &breakers{}
	if _, ok := client.(*redis.ClusterClient); ok {
		b.cluster = true
		b.slots = make([]breaker, clusterSlots/256)
	}
	return b
}

// forKey returns the breaker of the Redis that holds key.
func (b *breakers) forKey(key string) *breaker {
	if !b.cluster {
		return &b.single
	}
	return &b.slots[keySlot(key)/256]
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// keySlot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of its hash
// tag, or of the whole key when it has none.
func keySlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}
