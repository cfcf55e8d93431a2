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
local ROTATED, CONVERGED, SUPERSEDED, REUSED, REVOKED, EXPIRED, RETRIED, HEALED, THROTTLED = %d, %d, %d, %d, %d, %d, %d, %d, %d
`, ginjwt.Rotated, ginjwt.Converged, ginjwt.Superseded, ginjwt.Reused, ginjwt.Revoked, ginjwt.Expired, ginjwt.Retried, ginjwt.Healed, ginjwt.Throttled)

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

// migrate is shared by the login and the list (extendTTL first): it moves
// 0.1.0's index, scored by idle expiry, into the index scored by last use,
// taking each score from the session's own times and dropping ids whose
// session is gone, then deletes it. It costs one EXISTS once moved; the
// move itself walks the old index once per subject, the only work not
// bounded by the session limit: the first login after the upgrade then
// trims the subject to its limit.
const migrate = `
local function migrate(legacy, index, prefix)
  if redis.call('EXISTS', legacy) == 0 then return end
  local longest = 0
  for _, id in ipairs(redis.call('ZRANGE', legacy, 0, -1)) do
    local s = redis.call('HMGET', prefix .. id, 'g', 'c', 'r')
    if s[1] then
      redis.call('ZADD', index, math.max(tonumber(s[2]) or 0, tonumber(s[3]) or 0), id)
      longest = math.max(longest, redis.call('PTTL', prefix .. id))
    end
  end
  redis.call('DEL', legacy)
  if longest > 0 then extend(index, longest) end
end
`

// dropLegacy is migrate for the revocations: it deletes the sessions of
// 0.1.0's index but keep (false for none), moves keep into the index, and
// deletes the old index. It only deletes before it adds, so a Redis full
// under noeviction still lets a logout of other sessions through.
const dropLegacy = `
local function dropLegacy(legacy, index, prefix, keep)
  if redis.call('EXISTS', legacy) == 0 then return end
  local kept = false
  for _, id in ipairs(redis.call('ZRANGE', legacy, 0, -1)) do
    if id == keep then
      kept = true
    else
      redis.call('DEL', prefix .. id)
    end
  end
  redis.call('DEL', legacy)
  if kept then
    local s = redis.call('HMGET', prefix .. keep, 'g', 'c', 'r')
    if s[1] then
      redis.call('ZADD', index, math.max(tonumber(s[2]) or 0, tonumber(s[3]) or 0), keep)
      extend(index, redis.call('PTTL', prefix .. keep))
    end
  end
end
`

// live is shared by the scripts that check many sessions at once: it counts
// how many of the sessions ids still exist, with one EXISTS per thousand.
const live = `
local function live(ids, prefix)
  local n, batch = 0, {}
  for i, id in ipairs(ids) do
    batch[#batch + 1] = prefix .. id
    if #batch == 1000 or i == #ids then
      n = n + redis.call('EXISTS', unpack(batch))
      batch = {}
    end
  end
  return n
end
`

// createScript: KEYS version, index, session, legacy index; ARGV random
// version, session id, test clock (or empty), ttl, device, client IP, user
// agent, session key prefix, channel, subject tag, session limit. Returns
// the user version followed by the ids of the sessions it evicted, least
// recently used first. When the version is missing (lost, evicted), sessions
// left in the index are dead and are removed.
//
// The limit: while the index holds fewer entries than the limit, no
// session can be in excess, and the login costs O(log n) for the ZADD. At
// the limit, the entries of sessions that expired since are dropped first,
// so that a live session is only evicted when the live ones fill the
// limit: one EXISTS of all the index's sessions counts them, O(limit), and
// only when some are gone does the script look for them one by one. Then
// the lowest-scored entries (least recently used; equal scores by id) are
// deleted with their sessions, and one invalidation is published: the
// session's own, or, for several, the subject's. The index thus never holds
// more than the limit, and no step of the script walks more than it.
var createScript = redis.NewScript(clock + extendTTL + migrate + live + `
migrate(KEYS[4], KEYS[2], ARGV[8])
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
local now, ttl, limit = clock(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[11])
-- A session id logged in again is replaced, and never counted.
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DEL', KEYS[3])
  redis.call('PUBLISH', ARGV[9], ARGV[10] .. ' ' .. ARGV[2])
end
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  redis.call('ZREM', KEYS[2], ARGV[2])
end
-- The session first: as the script's first write (HSET may grow memory),
-- a Redis full under noeviction refuses the whole login, evictions included.
local fields = {'g', 1, 'c', now}
for i, name in ipairs({'d', 'i', 'a'}) do
  if ARGV[4 + i] ~= '' then
    table.insert(fields, name)
    table.insert(fields, ARGV[4 + i])
  end
end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('PEXPIRE', KEYS[3], ttl)
local out = {version}
if redis.call('ZCARD', KEYS[2]) >= limit then
  local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
  local alive = ids
  if live(ids, ARGV[8]) < #ids then
    alive = {}
    for _, id in ipairs(ids) do
      if redis.call('EXISTS', ARGV[8] .. id) == 1 then
        alive[#alive + 1] = id
      else
        redis.call('ZREM', KEYS[2], id)
      end
    end
  end
  local over = #alive - limit + 1
  if over > 0 then
    for i = 1, over do
      redis.call('DEL', ARGV[8] .. alive[i])
      out[#out + 1] = alive[i]
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
    if over == 1 then
      redis.call('PUBLISH', ARGV[9], ARGV[10] .. ' ' .. out[2])
    else
      redis.call('PUBLISH', ARGV[9], ARGV[10])
    end
  end
end
redis.call('ZADD', KEYS[2], now, ARGV[2])
extend(KEYS[1], ttl)
extend(KEYS[2], ttl)
return out
`)

// rotateScript: KEYS version, index, session; ARGV version, generation, test
// clock (or empty), grace, reuse-after, ttl, max age, session id, client IP,
// user agent, channel, subject tag, retries, refresh-limit interval and
// burst (milliseconds, 0: no limit). Returns {outcome, generation}, or
// {THROTTLED, milliseconds to wait}. Every change of the session is
// published. Session field n counts the retries of the previous generation
// after grace, t is the refresh limit's theoretical arrival time. A rotation (Rotated,
// Healed) makes the session the most recently used in the index; O(log n).
var rotateScript = redis.NewScript(clock + extendTTL + rotateOutcomes + `
local version = redis.call('GET', KEYS[1])
local s = redis.call('HMGET', KEYS[3], 'g', 'r', 'c', 'n', 't')
if not version or version ~= ARGV[1] or not s[1] then
  return {REVOKED, 0}
end
local g, rotated, created, retried = tonumber(s[1]), tonumber(s[2]) or 0, tonumber(s[3]), tonumber(s[4]) or 0
local gen, now, ttl = tonumber(ARGV[2]), clock(ARGV[3]), tonumber(ARGV[6])
local left = created + tonumber(ARGV[7]) - now
local function publish()
  redis.call('PUBLISH', ARGV[11], ARGV[12] .. ' ' .. ARGV[8])
end
-- The refresh limit, GCRA over the session's own field t (the theoretical
-- arrival time of its next refresh): a refresh is allowed while t is at
-- most a burst ahead of now. allow returns the new t, or nil and the wait.
local interval, burst = tonumber(ARGV[14]), tonumber(ARGV[15])
local function allow()
  if interval <= 0 then return 0 end
  local tat = math.max(tonumber(s[5]) or 0, now) + interval
  local wait = tat - burst - now
  if wait > 0 then return nil, wait end
  return tat
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
  local tat, wait = allow()
  if not tat then return {THROTTLED, wait} end
  local outcome = ROTATED
  if gen > g then outcome = HEALED end
  g = gen + 1
  if ttl > left then ttl = left end
  -- One HSET, with the client's IP and user agent when given (the usual
  -- case); an empty one is deleted.
  local fields = {'g', g, 'r', now, 't', tat}
  for i, name in ipairs({'i', 'a'}) do
    if ARGV[8 + i] ~= '' then
      table.insert(fields, name)
      table.insert(fields, ARGV[8 + i])
    else
      redis.call('HDEL', KEYS[3], name)
    end
  end
  redis.call('HSET', KEYS[3], unpack(fields))
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('ZADD', KEYS[2], now, ARGV[8])
  extend(KEYS[1], ttl)
  extend(KEYS[2], ttl)
  publish()
  return {outcome, g}
end
if gen == g - 1 and rotated > 0 then
  local since = now - rotated
  local grace = tonumber(ARGV[4])
  local converges = grace > 0 and since < grace
  if converges or retried < tonumber(ARGV[13]) then
    local tat, wait = allow()
    if not tat then return {THROTTLED, wait} end
    if tat > 0 then redis.call('HSET', KEYS[3], 't', tat) end
    if converges then return {CONVERGED, g} end
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
// O(log n). A session still in 0.1.0's index is dropped from it when it is
// moved: its session is gone.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. ARGV[1])
return 0
`)

// revokeUserScript: KEYS version, index, legacy index; ARGV session key
// prefix, channel, subject tag. Advances the version (INCR keeps its TTL)
// and deletes every indexed session: O(limit). The session keys are built
// from the index; they carry the same hash tag, so they are in the slot of
// KEYS.
var revokeUserScript = redis.NewScript(extendTTL + dropLegacy + `
dropLegacy(KEYS[3], KEYS[2], ARGV[1], false)
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

// revokeOthersScript: KEYS index, legacy index; ARGV session key prefix, id
// to keep, channel, subject tag. Deletes every indexed session but one:
// O(limit).
var revokeOthersScript = redis.NewScript(extendTTL + dropLegacy + `
dropLegacy(KEYS[2], KEYS[1], ARGV[1], ARGV[2])
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 0
`)

// sessionsScript: KEYS version, index, legacy index; ARGV session key
// prefix. Returns id, created, last rotation, device, IP, user agent for
// each live session, flattened, and drops index entries whose session is
// gone: O(limit), one HMGET per entry. Without a user version no session is
// alive.
var sessionsScript = redis.NewScript(extendTTL + migrate + `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
migrate(KEYS[3], KEYS[2], ARGV[1])
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

// proofOutcomes names ginjwt's ProofOutcome values in Lua, as rotateOutcomes
// does for rotations.
var proofOutcomes = fmt.Sprintf(`
local FRESH, REPLAYED, LIMITED = %d, %d, %d
`, ginjwt.ProofFresh, ginjwt.ProofReplayed, ginjwt.ProofLimited)

// proofScript: KEYS version, session, proofs; ARGV proof id, test clock (or
// empty), ttl, limit. State and the replay check of one DPoP proof in one
// step: returns {outcome, user version, generation}, or {0} when the
// version or the session is missing, and then remembers nothing.
//
// The proofs key is a zset of proof id -> expiry (unix ms, the scripts'
// clock). Expired ids are dropped first, so the set holds at most the
// limit's live ids: O(log n + expired) per call, n bounded by the limit.
// Its key TTL is only ever pushed out to the longest proof TTL, so the key
// disappears by itself once the session stops sending proofs, and the
// revocation scripts need not know of it.
var proofScript = redis.NewScript(clock + extendTTL + proofOutcomes + `
local version = redis.call('GET', KEYS[1])
local g = redis.call('HGET', KEYS[2], 'g')
if not version or not g then
  return {0}
end
local now, ttl = clock(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return {REPLAYED, version, g}
end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  return {LIMITED, version, g}
end
redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
extend(KEYS[3], ttl)
return {FRESH, version, g}
`)
