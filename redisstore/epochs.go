package redisstore

import (
	"hash/maphash"
	"sync/atomic"
)

// epochShards is how many invalidation epochs the near-cache keeps: an
// invalidation of one subject cancels the fills in flight for the subjects
// of its shard only, one in 1,024 of the others.
const epochShards = 1024

// epochs decide whether a read from Redis may fill the near-cache: only if
// nothing that could have changed its answer happened while it ran. A
// flush advances the global epoch; an invalidation of a subject (a message,
// or a mutation of this process) advances the epoch of the subject's
// shard. A fill compares both with the ticket taken before its read.
//
// One epoch for the whole cache would be exact too, but then every
// rotation anywhere cancels every fill in flight: under steady refresh
// traffic most fills would be thrown away and the sessions they were for
// would keep missing. Per-subject epochs would need a map entry per subject
// in flight; shards bound the memory and cancel a fill for an unrelated
// subject with probability 1/epochShards.
type epochs struct {
	seed   maphash.Seed
	global atomic.Uint64
	shards [epochShards]atomic.Uint64
}

// fillTicket is the state of the epochs when a read started.
type fillTicket struct {
	shard          int
	global, shardE uint64
}

func newEpochs() *epochs { return &epochs{seed: maphash.MakeSeed()} }

func (e *epochs) shardOf(subject string) int {
	return int(maphash.String(e.seed, subject) % epochShards)
}

// ticket returns the epochs a read for subject starts at.
func (e *epochs) ticket(subject string) fillTicket {
	i := e.shardOf(subject)
	return fillTicket{shard: i, global: e.global.Load(), shardE: e.shards[i].Load()}
}

// valid reports whether nothing was invalidated for t's shard, and nothing
// flushed, since t was taken.
func (e *epochs) valid(t fillTicket) bool {
	return e.global.Load() == t.global && e.shards[t.shard].Load() == t.shardE
}

// invalidate advances the epoch of subject's shard.
func (e *epochs) invalidate(subject string) { e.shards[e.shardOf(subject)].Add(1) }

// flush advances the global epoch.
func (e *epochs) flush() { e.global.Add(1) }
