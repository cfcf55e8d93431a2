package redisstore

import (
	"fmt"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

// Every rule the store applies inside Redis is in this file. Each mutation is
// one script, so it is atomic; all keys of a script share the subject's hash
// tag (see keys.go). Times are unix milliseconds of Redis' clock (TIME), so
// that every application instance applies the same rules whatever its own
// clock says; a test clock (WithClock) replaces it when given.

// rotateOutcomes names ginjwt's RotateOutcome values in Lua, so that
// rotateScript returns them by name and the store reads them back as they are.
var rotateOutcomes = fmt.Sprintf(`
local ROTATED, CONVERGED, SUPERSEDED, REUSED, REVOKED, EXPIRED, RETRIED, HEALED = %d, %d, %d, %d, %d, %d, %d, %d
`, ginjwt.Rotated, ginjwt.Converged, ginjwt.Superseded, ginjwt.Reused, ginjwt.Revoked, ginjwt.Expired, ginjwt.Retried, ginjwt.Healed)

// clock is shared by the scripts that read the time: Redis' TIME in
// milliseconds, or the test clock's value when the argument is not empty.
const clock = `
local function clock(override)
  if override ~= '' then return tonumber(override) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// extendTTL is shared by the scripts that start or prolong a session: the
// subject's version and index must outlive every session they serve.
const extendTTL = `
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
`

// createScript: KEYS version, index, session; ARGV random version, session id,
// test clock (or empty), ttl, device, client IP, user agent, session key prefix,
// channel, subject tag. Returns the user version. When the version is missing
// (lost, evicted), sessions left in the index are dead and are removed.
var createScript = redis.NewScript(clock + extendTTL + `
local version = redis.call('GET', KEYS[1])
if not version then
  version = ARGV[1]
  redis.call('SET', KEYS[1], version)
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    redis.call('DEL', ARGV[8] .. id)
  end
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[9], ARGV[10])
end
local now, ttl = clock(ARGV[3]), tonumber(ARGV[4])
local fields = {'g', 1, 'c', now}
for i, name in ipairs({'d', 'i', 'a'}) do
  if ARGV[4 + i] ~= '' then
    table.insert(fields, name)
    table.insert(fields, ARGV[4 + i])
  end
end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
extend(KEYS[1], ttl)
extend(KEYS[2], ttl)
return version
`)

// rotateScript: KEYS version, index, session; ARGV version, generation, test
// clock (or empty), grace, reuse-after, ttl, max age, session id, client IP,
// user agent, channel, subject tag, retries. Returns {outcome, generation}.
// Every change of the session is published. Session field n counts the
// retries of the previous generation after grace.
var rotateScript = redis.NewScript(clock + extendTTL + rotateOutcomes + `
local version = redis.call('GET', KEYS[1])
local s = redis.call('HMGET', KEYS[3], 'g', 'r', 'c', 'n')
if not version or version ~= ARGV[1] or not s[1] then
  return {REVOKED, 0}
end
local g, rotated, created, retried = tonumber(s[1]), tonumber(s[2]) or 0, tonumber(s[3]), tonumber(s[4]) or 0
local gen, now, ttl = tonumber(ARGV[2]), clock(ARGV[3]), tonumber(ARGV[6])
local left = created + tonumber(ARGV[7]) - now
local function publish()
  redis.call('PUBLISH', ARGV[11], ARGV[12] .. ' ' .. ARGV[8])
end
if left <= 0 then
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[2], ARGV[8])
  publish()
  return {EXPIRED, 0}
end
-- The current generation rotates; a later one, which only a store that
-- lost rotations can see, moves the session on past it (heals).
if gen >= g then
  local outcome = ROTATED
  if gen > g then outcome = HEALED end
  g = gen + 1
  if ttl > left then ttl = left end
  redis.call('HSET', KEYS[3], 'g', g, 'r', now)
  for i, name in ipairs({'i', 'a'}) do
    if ARGV[8 + i] ~= '' then
      redis.call('HSET', KEYS[3], name, ARGV[8 + i])
    else
      redis.call('HDEL', KEYS[3], name)
    end
  end
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[8])
  extend(KEYS[1], ttl)
  extend(KEYS[2], ttl)
  publish()
  return {outcome, g}
end
if gen == g - 1 and rotated > 0 then
  local since = now - rotated
  local grace = tonumber(ARGV[4])
  if grace > 0 and since < grace then return {CONVERGED, g} end
  if retried < tonumber(ARGV[13]) then
    redis.call('HSET', KEYS[3], 'n', retried + 1)
    return {RETRIED, g}
  end
  if since < tonumber(ARGV[5]) then return {SUPERSEDED, g} end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[8])
publish()
return {REUSED, 0}
`)

// deleteScript: KEYS index, session; ARGV session id, channel, subject tag.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. ARGV[1])
return 0
`)

// revokeUserScript: KEYS version, index; ARGV session key prefix, channel,
// subject tag. Advances the
// version (INCR keeps its TTL) and deletes every indexed session. The session
// keys are built from the index; they carry the same hash tag, so they are in
// the slot of KEYS.
var revokeUserScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return #ids
`)

// revokeOthersScript: KEYS index; ARGV session key prefix, id to keep,
// channel, subject tag.
// Deletes every indexed session but one.
var revokeOthersScript = redis.NewScript(`
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 0
`)

// sessionsScript: KEYS version, index; ARGV session key prefix. Returns
// id, created, last rotation, device, IP, user agent for each live session,
// flattened, and drops index entries whose session is gone. Without a user
// version no session is alive.
var sessionsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'c', 'r', 'd', 'i', 'a')
  if f[1] then
    table.insert(out, id)
    for i = 1, 5 do
      table.insert(out, f[i] or '')
    end
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
`)
