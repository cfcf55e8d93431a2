package redisstore

import (
	"fmt"

	"github.com/redis/go-redis/v9"
)

// checkPrimaryReads refuses a client that may send reads to replicas. A
// replica lags its primary: a session read there can still be alive after its
// logout was acknowledged, so every check must read the primary.
//
// It covers Cluster clients and Sentinel-backed cluster clients
// (NewFailoverClusterClient, or NewUniversalClient with a MasterName and
// RouteByLatency or RouteRandomly), whose options say so. A plain failover
// client with FailoverOptions.ReplicaOnly connects only to replicas and is not
// visible in its options; every write the store makes fails there (READONLY),
// so no login, refresh or logout can succeed through it.
func checkPrimaryReads(client redis.UniversalClient) error {
	c, ok := client.(*redis.ClusterClient)
	if !ok {
		return nil
	}
	o := c.Options()
	for _, opt := range []struct {
		name string
		on   bool
	}{
		{"RouteByLatency", o.RouteByLatency},
		{"RouteRandomly", o.RouteRandomly},
		{"ReadOnly (ReplicaOnly for a failover client)", o.ReadOnly},
	} {
		if opt.on {
			return fmt.Errorf("redisstore: the client may read from replicas (%s): revocation checks must read "+
				"the primary, or a revoked token can pass while a replica lags; turn %s off", opt.name, opt.name)
		}
	}
	return nil
}
