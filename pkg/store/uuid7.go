package store

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// UUIDv7 ids sort by the instant they were made, and the big tables are
// partitioned by ranges of them (partitions.go): a query that bounds the
// id by time lets PostgreSQL scan only the months' partitions in the bound.

// NewIDAt is a UUIDv7 made at t, as text: the clock of a row's own
// instant (a check-in's at, which its local day is computed from), so that
// the id and the day agree even when t is not the wall clock (a demo's
// history, a service under a test's clock). Like google/uuid's NewV7 (the
// same layout: 48 bits of milliseconds, 12 of the millisecond's fraction,
// 62 random), ids made within one millisecond of t's increase, also when
// ids of other instants are made in between (rows of several clocks at
// once: the demo's history, services under tests' clocks).
func NewIDAt(t time.Time) string {
	nano := t.UnixNano()
	ms := nano / int64(time.Millisecond)
	v := ms<<12 | (nano-ms*int64(time.Millisecond))>>8 // the fraction in 12 bits, as NewV7
	slot := uint64(ms) * 0x9E3779B97F4A7C15 >> (64 - idClockBits)
	idClock.Lock()
	if last := idClock.last[slot]; v>>12 == last>>12 && v <= last {
		v = last + 1
	}
	idClock.last[slot] = v
	idClock.Unlock()
	var u uuid.UUID
	_, _ = rand.Read(u[8:])
	ms, seq := v>>12, v&0xfff
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70 | byte(seq>>8)
	u[7] = byte(seq)
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

// idClock is the last (milliseconds<<12 | fraction) NewIDAt used, per
// millisecond, in a table indexed by a hash of the millisecond: the
// milliseconds in use at once are few, and two of them sharing a slot
// only loses the order between ids of one of them.
var idClock struct {
	sync.Mutex
	last [1 << idClockBits]int64
}

const idClockBits = 10

// UUID7Floor is the smallest UUIDv7 (as text) of the millisecond t is in:
// SQL's wanjia_uuid7_floor, which the partitions' bounds are made of.
func UUID7Floor(t time.Time) string {
	ms := uint64(t.UnixMilli())
	var b uuid.UUID
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	return b.String()
}

// DayIDs is the range [lo, hi) of the ids of the rows of a local day
// (YYYY-MM-DD) whose ids are made at their instant (NewIDAt) and whose day
// is that instant's in their community's zone. The range is the UTC day
// widened by a whole day on either side: every zone's day (UTC-12 to
// UTC+14) is inside, with hours to spare for a clock a little off. A
// query bounding a day's lookup by it gets the same rows and lets
// PostgreSQL prune the partitions outside (one month's, two near a
// month's end).
func DayIDs(day string) (lo, hi string, err error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", "", fmt.Errorf("store: DayIDs(%q): %w", day, err)
	}
	return UUID7Floor(d.AddDate(0, 0, -1)), UUID7Floor(d.AddDate(0, 0, 2)), nil
}
