package redisstore

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "jwtguard:"

// keys are the Redis keys of one subject. All of them carry the same hash tag,
// "{" + base64url(subject) + "}", so they live in one Redis Cluster hash slot
// and every script can touch them together. base64url never produces '{',
// '}' or ':', so no subject, whatever its bytes, can break out of its tag.
//
//	<prefix>{<b64 subject>}:v          string  user version
//	<prefix>{<b64 subject>}:u          zset    session id -> last use: login or latest rotation
//	                                           (unix ms); at most the session limit of entries
//	<prefix>{<b64 subject>}:s:<sid>    hash    g generation, c created (unix ms),
//	                                           r last rotation (unix ms; absent before the first),
//	                                           d device label, i client IP, a User-Agent
//	                                           (absent when empty), n retries spent,
//	                                           t next refresh due at the refresh limit
//	                                           (unix ms, GCRA; absent before the first)
//	<prefix>{<b64 subject>}:p:<sid>    zset    DPoP proof id -> expiry (unix ms), at most the
//	                                           ProofCheck.Limit of live entries; key TTL the
//	                                           longest proof TTL (see StateAndProof)
//	<prefix>{<b64 subject>}:w          string  write marker of durable writes (WithReplicaAcks), 10 s
//	<prefix>{<b64 subject>}:x          zset    0.1.0's index (session id -> idle expiry), read only
//	                                           to move it into :u; see migrate in scripts.go
//
// The index :u is the session limit's LRU: its lowest score is the least
// recently used session. A login keeps it within the limit, so every
// script that walks it does at most the limit's work. It may hold ids of
// sessions that expired since (a session key expires by its TTL, its entry
// stays): they count towards no limit, are skipped by Sessions, and are
// dropped when the index reaches the limit or is listed. With the default
// limit of 100, below Redis' zset-max-listpack-entries (128), the index is
// a compact listpack.
//
// A session's proof ids :p:<sid> outlive it by at most their TTL: no
// revocation script deletes them (see ginjwt.ProofStore), and a session id
// is never reused. With ids of 43 bytes and a limit up to 128 the set is a
// listpack too, about 55 bytes an id: 6.2 KB for 100, as MEMORY USAGE reports
// it on Redis 7 (see TestProofFloodBounded).
type keys struct {
	tag                           string // base64url of the subject, as in invalidation messages
	version, index, sessionPrefix string
	legacy                        string // 0.1.0's index
}

// The keys are slices of one string, built in one allocation: every State
// and every script call needs them.
func (s *Store) keysFor(subject string) keys {
	suffixes := [...]string{"v", "u", "s:", "x"}
	tagLen := base64.RawURLEncoding.EncodedLen(len(subject))
	baseLen := len(s.prefix) + tagLen + 3 // prefix{tag}:
	var scratch [96]byte
	tag := base64.RawURLEncoding.AppendEncode(scratch[:0], []byte(subject))
	var b strings.Builder
	b.Grow(len(suffixes)*baseLen + 5)
	var ends [len(suffixes)]int
	for i, suffix := range suffixes {
		b.WriteString(s.prefix)
		b.WriteByte('{')
		b.Write(tag)
		b.WriteString("}:")
		b.WriteString(suffix)
		ends[i] = b.Len()
	}
	all := b.String()
	key := func(i int) string { return all[ends[i]-baseLen-len(suffixes[i]) : ends[i]] }
	version := key(0)
	return keys{
		tag:           version[len(s.prefix)+1 : len(s.prefix)+1+tagLen],
		version:       version,
		index:         key(1),
		sessionPrefix: key(2),
		legacy:        key(3),
	}
}

func (k keys) session(id string) string { return k.sessionPrefix + id }

// proofs is the key of the DPoP proof ids of session id; see
// Store.StateAndProof.
func (k keys) proofs(id string) string {
	return strings.TrimSuffix(k.sessionPrefix, "s:") + "p:" + id
}

// marker is the key every durable write sets; see Store.write.
func (k keys) marker() string { return strings.TrimSuffix(k.version, "v") + "w" }

// checkPrefix refuses prefixes that would move the hash tag.
func checkPrefix(p string) error {
	if strings.ContainsAny(p, "{}") {
		return fmt.Errorf("redisstore: prefix %q must not contain '{' or '}'", p)
	}
	return nil
}
