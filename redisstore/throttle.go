package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

var _ ginjwt.Throttle = (*Store)(nil)

// throttleKey is the Redis key of a throttle counter: a hash of ginjwt's key
// (which may hold a login name or an IP address, kept out of Redis this way)
// as its own hash tag, marked with "t." so that it never meets a subject's
// tag (base64url has no '.').
//
//	rate:<prefix>{t.<hash>}:r   string  GCRA state, redis_rate's (Take, Refund)
//	<prefix>{t.<hash>}:b        hash    n attempts, l locked until (unix ms) (Attempt, Clear)
func (s *Store) throttleKey(key, kind string) string {
	sum := sha256.Sum256([]byte(key))
	return s.prefix + "{t." + base64.RawURLEncoding.EncodeToString(sum[:16]) + "}:" + kind
}

// rateKey is the key Take and Refund pass to redis_rate, which puts "rate:"
// in front of it.
func (s *Store) rateKey(key string) string { return s.throttleKey(key, "r") }

func limit(r ginjwt.Rate) redis_rate.Limit {
	return redis_rate.Limit{Rate: r.Count, Burst: r.Burst, Period: r.Period}
}

// Take implements ginjwt.Throttle with redis_rate's GCRA script, on Redis'
// clock.
func (s *Store) Take(ctx context.Context, key string, r ginjwt.Rate) (ginjwt.Allowance, error) {
	k := s.rateKey(key)
	res, err := within(ctx, s, k, func(ctx context.Context) (*redis_rate.Result, error) {
		return s.limiter.Allow(ctx, k, limit(r))
	})
	if err != nil {
		return ginjwt.Allowance{}, fmt.Errorf("redisstore: take: %w", err)
	}
	return ginjwt.Allowance{
		Allowed:    res.Allowed > 0,
		Remaining:  res.Remaining,
		RetryAfter: max(res.RetryAfter, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}, nil
}

// Refund implements ginjwt.Throttle: the same GCRA script with a cost of
// -1 moves the key's theoretical arrival time back by one emission
// interval. When less than one interval is left the key is left as it is,
// and the attempt comes back on its own within that interval.
func (s *Store) Refund(ctx context.Context, key string, r ginjwt.Rate) error {
	k := s.rateKey(key)
	_, err := within(ctx, s, k, func(ctx context.Context) (*redis_rate.Result, error) {
		return s.limiter.AllowN(ctx, k, limit(r), -1)
	})
	if err != nil {
		return fmt.Errorf("redisstore: refund: %w", err)
	}
	return nil
}

// Attempt implements ginjwt.Throttle.
func (s *Store) Attempt(ctx context.Context, key string, b ginjwt.Backoff) (time.Duration, error) {
	k := s.throttleKey(key, "b")
	ms, err := s.run(ctx, attemptScript, []string{k},
		s.clockArg(), b.Free, b.Lockout.Milliseconds(), b.MaxLockout.Milliseconds(), b.Forget.Milliseconds(),
	).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: attempt: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Clear implements ginjwt.Throttle.
func (s *Store) Clear(ctx context.Context, key string) error {
	k := s.throttleKey(key, "b")
	_, err := within(ctx, s, k, func(ctx context.Context) (int64, error) {
		return s.client.Del(ctx, k).Result()
	})
	if err != nil {
		return fmt.Errorf("redisstore: clear: %w", err)
	}
	return nil
}

// attemptScript counts one attempt of a backoff and answers the lockout
// left in milliseconds, 0 when the attempt may go ahead.
var attemptScript = redis.NewScript(clock + `
local now = clock(ARGV[1])
local free, lockout, longest, forget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
if lockedUntil > now then return lockedUntil - now end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= free then
  local d = lockout
  for _ = free + 1, n do
    if d >= longest then break end
    d = d * 2
  end
  redis.call('HSET', KEYS[1], 'l', now + math.min(d, longest))
end
redis.call('PEXPIRE', KEYS[1], forget)
return 0
`)
