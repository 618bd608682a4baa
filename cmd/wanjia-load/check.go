package main

import (
	"context"
	"fmt"
	"sort"
)

// check compares what the clients were told with what the database and
// the provider hold, by window: every attempt and check-in stored once,
// every message at the provider once, every import with its counts.
func (d *Drill) check(ctx context.Context) {
	q := func(query string) map[string]int {
		out := map[string]int{}
		rows, err := d.st.DBAdmin.QueryContext(ctx, query)
		if err != nil {
			d.fail("check: %v", err)
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				d.fail("check: %v", err)
				return out
			}
			out[k] += n
		}
		return out
	}
	stored := map[string]map[string]int{
		"attempt":      q(`SELECT substr(notes, 6), count(*) FROM attempts WHERE notes LIKE 'load:%' GROUP BY 1`),
		"checkin-link": q(`SELECT case_id, count(*) FROM isolation_checkins WHERE source = 'self' GROUP BY 1`),
		"checkin-sms": q(`SELECT r.provider_id, count(k.id) FROM outreach_replies r LEFT JOIN isolation_checkins k
			ON k.tenant_id = r.tenant_id AND k.reply_id = r.id WHERE r.provider_id LIKE 'load-%' GROUP BY 1`),
	}
	fmt.Fprintf(d.cfg.Out, "\n%-14s %-14s %8s %6s %8s %8s\n", "window", "what", "acked", "lost", "doubled", "unacked")
	type line struct {
		w, kind                       string
		acked, lost, doubled, unacked int
	}
	var lines []line
	for _, kind := range []string{"attempt", "checkin-link", "checkin-sms"} {
		byWindow, groupWindow, unanswered := d.ledger.Acked(kind)
		// What the database holds, by the window its key was sent in.
		gotBy := map[string]map[string]int{}
		for k, n := range stored[kind] {
			w, ok := groupWindow[k]
			if !ok {
				w = "setup" // not the drill's mix (none expected)
			}
			if gotBy[w] == nil {
				gotBy[w] = map[string]int{}
			}
			gotBy[w][k] = n
		}
		for _, w := range append([]string{"setup"}, d.windows()...) {
			if byWindow[w] == nil && gotBy[w] == nil {
				continue
			}
			lost, doubled, unacked := Tally(byWindow[w], gotBy[w])
			n := 0
			for _, c := range byWindow[w] {
				n += c
			}
			lines = append(lines, line{w, kind, n, lost, doubled, unacked})
		}
		if unanswered > 0 {
			d.notes = append(d.notes, fmt.Sprintf("%s: %d requests never got a 2xx (after a minute and a half of retries)", kind, unanswered))
		}
	}
	// Messages: the outbox says what should have gone; the provider says
	// what came.
	counts := d.fp.Counts()
	rows, err := d.st.DBAdmin.QueryContext(ctx, `SELECT id, campaign_id, status FROM outreach_messages WHERE status NOT IN ('skipped_opt_out', 'cancelled')`)
	status, lostBy := map[string]int{}, map[string]int{}
	if err != nil {
		d.fail("check messages: %v", err)
	} else {
		want, got := map[string]map[string]int{}, map[string]map[string]int{}
		for rows.Next() {
			var id, camp, st string
			if err := rows.Scan(&id, &camp, &st); err != nil {
				d.fail("check messages: %v", err)
				break
			}
			status[st]++
			d.campMu.Lock()
			w, ok := d.campaigns[camp]
			d.campMu.Unlock()
			if !ok {
				w = "system"
			}
			if want[w] == nil {
				want[w], got[w] = map[string]int{}, map[string]int{}
			}
			want[w][id] = 1
			if n := counts[id]; n > 0 {
				got[w][id] = n
			} else {
				lostBy[st]++
			}
			delete(counts, id)
		}
		_ = rows.Close()
		for _, w := range append([]string{"setup", "system"}, d.windows()...) {
			if want[w] == nil {
				continue
			}
			lost, doubled, _ := Tally(want[w], got[w])
			lines = append(lines, line{w, "message", len(want[w]), lost, doubled, 0})
		}
		if len(counts) > 0 {
			d.fail("%d messages reached the provider that the outbox does not hold", len(counts))
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return windowOrder(lines[i].w) < windowOrder(lines[j].w) })
	for _, l := range lines {
		fmt.Fprintf(d.cfg.Out, "%-14s %-14s %8d %6d %8d %8d\n", l.w, l.kind, l.acked, l.lost, l.doubled, l.unacked)
		if l.lost > 0 || l.doubled > 0 {
			d.fail("%s in window %s: %d lost, %d doubled", l.kind, l.w, l.lost, l.doubled)
		}
	}
	fmt.Fprintf(d.cfg.Out, "outbox by status: %v\n", status)
	if len(lostBy) > 0 {
		// "unknown": the reconciler found the message left sending by a
		// dead worker, could not ask the provider, and did not guess.
		fmt.Fprintf(d.cfg.Out, "messages that never reached the provider, by their status in the outbox: %v\n", lostBy)
	}
	for _, im := range d.imports {
		switch {
		case im.err != nil:
			d.fail("import %s (%s): %v", im.org, im.window, im.err)
		case im.got.Status != "done" || im.got.Created != im.want || len(im.got.Errors) > 0:
			d.fail("import %s (%s): status %s, %d created of %d rows (%d errors)", im.org, im.window, im.got.Status, im.got.Created, im.want, len(im.got.Errors))
		}
	}
	fmt.Fprintf(d.cfg.Out, "imports: %d checked\n\n", len(d.imports))
	PrintRows(d.cfg.Out, d.rec.Rows())
	fmt.Fprintln(d.cfg.Out)
	for _, n := range d.notes {
		fmt.Fprintln(d.cfg.Out, n)
	}
}
