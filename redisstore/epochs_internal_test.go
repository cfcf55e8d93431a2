package redisstore

import (
	"fmt"
	"testing"
)

// A fill is cancelled by an invalidation of its subject and by a flush,
// and survives an invalidation of a subject in another shard.
func TestEpochs(t *testing.T) {
	e := newEpochs()
	other := ""
	for i := 0; other == ""; i++ {
		if s := fmt.Sprintf("bob-%d", i); e.shardOf(s) != e.shardOf("alice") {
			other = s
		}
	}

	ticket := e.ticket("alice")
	e.invalidate(other)
	if !e.valid(ticket) {
		t.Fatal("an invalidation of a subject in another shard cancelled the fill")
	}
	e.invalidate("alice")
	if e.valid(ticket) {
		t.Fatal("an invalidation of the fill's subject did not cancel it")
	}

	ticket = e.ticket("alice")
	e.flush()
	if e.valid(ticket) {
		t.Fatal("a flush did not cancel the fill")
	}
	if !e.valid(e.ticket("alice")) {
		t.Fatal("a fresh ticket is not valid")
	}
}

// The shards spread subjects: 100,000 subjects leave no shard with less
// than a quarter or more than four times its share.
func TestEpochShardsSpread(t *testing.T) {
	e := newEpochs()
	var count [epochShards]int
	const n = 100_000
	for i := range n {
		count[e.shardOf(fmt.Sprintf("user-%d", i))]++
	}
	for i, c := range count {
		if c < n/epochShards/4 || c > 4*n/epochShards {
			t.Fatalf("shard %d holds %d of %d subjects", i, c, n)
		}
	}
}
