//go:build race

package sheet

// raceEnabled lets the slowest tests trim themselves under -race, which
// makes excelize's XML parsing about ten times slower.
const raceEnabled = true
