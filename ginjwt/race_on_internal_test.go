//go:build race

package ginjwt

// raceEnabled: the race detector is on, and sync.Pool drops some of what
// it is given, so allocation counts are not meaningful.
const raceEnabled = true
