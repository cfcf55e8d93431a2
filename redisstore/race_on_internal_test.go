//go:build race

package redisstore

// raceEnabled: the race detector is on; allocation counts differ.
const raceEnabled = true
