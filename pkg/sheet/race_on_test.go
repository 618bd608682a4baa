//go:build race

package sheet

import "testing"

// raceEnabled lets the slowest tests trim themselves under -race, which
// makes excelize's XML parsing about ten times slower.
const raceEnabled = true

// skipUnderRace skips a test that reads or writes a big sheet in one
// goroutine: it has no race to find, costs tens of seconds under the
// detector, and the pass without it (make test) runs it as is.
func skipUnderRace(t *testing.T) {
	t.Helper()
	t.Skip("one goroutine over a big sheet: make test runs it without the race detector")
}
