//go:build race

package main

// raceEnabled lets the slowest single-threaded tests skip under -race.
const raceEnabled = true
