//go:build !race

package ginjwt

const raceEnabled = false
