package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// reloadOnError makes a Cluster client read the slot map again after a
// failed call. go-redis reads it again on a MOVED reply and every
// ClusterStateReloadInterval (60 s by default), but not when a node stops
// answering: after a failover it would keep dialing the dead master, and
// every request on its slots would answer 503, until that interval ran out.
// The reload runs in the background, and go-redis coalesces reloads (one
// at a time, at most one per 200 ms), so a burst of errors costs a few
// CLUSTER SLOTS calls.
func (s *Store) reloadOnError(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	if c, ok := s.client.(*redis.ClusterClient); ok {
		c.ReloadState(context.Background())
	}
}
