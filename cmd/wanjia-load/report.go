package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Recorder keeps every answer of the drill, by window (baseline or a
// fault) and kind of request: exact latencies (a 2-minute drill makes a
// few thousand, so sorting them is cheaper than estimating), and counts
// by status (0: no answer at all).
type Recorder struct {
	mu   sync.Mutex
	byWK map[[2]string]*kindStats
}

type kindStats struct {
	lat    []time.Duration
	status map[int]int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{byWK: map[[2]string]*kindStats{}} }

// Add records one answer.
func (r *Recorder) Add(window, kind string, status int, latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{window, kind}
	s := r.byWK[k]
	if s == nil {
		s = &kindStats{status: map[int]int{}}
		r.byWK[k] = s
	}
	s.lat = append(s.lat, latency)
	s.status[status]++
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of d,
// which it sorts; 0 for no values.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	rank := int(math.Ceil(p / 100 * float64(len(d))))
	rank = min(max(rank, 1), len(d))
	return d[rank-1]
}

// Row is one line of the latency table.
type Row struct {
	Window, Kind  string
	N             int
	P50, P95, P99 time.Duration
	Status        map[int]int
}

// Rows are the table's lines: each window's kinds, then each kind over
// all windows (window "all"), sorted.
func (r *Recorder) Rows() []Row {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := map[string]*kindStats{}
	var rows []Row
	for k, s := range r.byWK {
		rows = append(rows, row(k[0], k[1], s))
		a := all[k[1]]
		if a == nil {
			a = &kindStats{status: map[int]int{}}
			all[k[1]] = a
		}
		a.lat = append(a.lat, s.lat...)
		for c, n := range s.status {
			a.status[c] += n
		}
	}
	for kind, s := range all {
		rows = append(rows, row("all", kind, s))
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Window != rows[j].Window {
			return windowOrder(rows[i].Window) < windowOrder(rows[j].Window)
		}
		return rows[i].Kind < rows[j].Kind
	})
	return rows
}

func windowOrder(w string) string {
	switch w {
	case "all":
		return "0"
	case "baseline":
		return "1"
	case "setup":
		return "2"
	}
	return "3" + w
}

func row(window, kind string, s *kindStats) Row {
	d := append([]time.Duration(nil), s.lat...)
	st := map[int]int{}
	for c, n := range s.status {
		st[c] = n
	}
	return Row{Window: window, Kind: kind, N: len(d), P50: Percentile(d, 50), P95: Percentile(d, 95), P99: Percentile(d, 99), Status: st}
}

// Print writes the latency table.
func PrintRows(w io.Writer, rows []Row) {
	fmt.Fprintf(w, "%-14s %-16s %7s %9s %9s %9s  %s\n", "window", "kind", "n", "p50", "p95", "p99", "by status")
	for _, r := range rows {
		fmt.Fprintf(w, "%-14s %-16s %7d %9s %9s %9s  %s\n", r.Window, r.Kind, r.N, ms(r.P50), ms(r.P95), ms(r.P99), statusLine(r.Status))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func statusLine(st map[int]int) string {
	codes := make([]int, 0, len(st))
	for c := range st {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "no-answer"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", name, st[c]))
	}
	return strings.Join(parts, " ")
}

// Tally compares what the clients were told was stored (acked: how many
// times each key should be there, normally 1) with what the database or
// the provider holds (got). A key acked and absent is lost; a key held
// more often than acked is doubled (each extra copy counts). Keys held
// but never acked (a request whose answer was lost, or stored after the
// client gave up) are unacked: not a fault of the stack, reported apart.
func Tally(acked, got map[string]int) (lost, doubled, unacked int) {
	for k, want := range acked {
		have := got[k]
		if have < want {
			lost += want - have
		}
		if have > want {
			doubled += have - want
		}
	}
	for k, have := range got {
		if _, ok := acked[k]; !ok {
			unacked++
			if have > 1 {
				doubled += have - 1
			}
		}
	}
	return lost, doubled, unacked
}
