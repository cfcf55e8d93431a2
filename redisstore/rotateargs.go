package redisstore

import (
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// rotateConstants are the rotate script's arguments that come from the
// Auth's options and so repeat from one refresh to the next, boxed once:
// boxing an int64 above 255, a float64 or a string into an argument costs
// an allocation, seven per refresh. The store keeps the last set it built
// and builds another when the options differ (several Auths on one store).
type rotateConstants struct {
	key  rotateOptions
	args [7]any // grace, reuse after, TTL, maximum age, channel, interval, burst
}

// rotateOptions identifies a set of rotateConstants.
type rotateOptions struct {
	grace, reuseAfter, ttl, maxAge int64 // milliseconds
	interval, burst                float64
}

// rotateArgs returns the boxed constant arguments of r.
func (s *Store) rotateArgs(r *ginjwt.Rotation) *[7]any {
	var interval float64 // milliseconds between refreshes at the limit's rate; 0: no limit
	if r.Limit.Count > 0 {
		interval = float64(r.Limit.Period) / float64(r.Limit.Count) / float64(time.Millisecond)
	}
	key := rotateOptions{
		grace: r.Grace.Milliseconds(), reuseAfter: r.ReuseAfter.Milliseconds(),
		ttl: r.TTL.Milliseconds(), maxAge: r.MaxAge.Milliseconds(),
		interval: interval, burst: interval * float64(r.Limit.Burst),
	}
	if c := s.rotateConsts.Load(); c != nil && c.key == key {
		return &c.args
	}
	c := &rotateConstants{key: key, args: [7]any{key.grace, key.reuseAfter, key.ttl, key.maxAge, s.channel(), key.interval, key.burst}}
	s.rotateConsts.Store(c)
	return &c.args
}
