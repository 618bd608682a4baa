package isolation

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
)

// DemoCases is a demo community's home isolation up to its report of Day:
// every returnee follow-up of its screening history (open, with a return
// from a watched place) becomes its household's cases, one per live
// resident. Active households are still isolated on Day; the others were
// released on their end dates, all by Day. Each case checked in every day
// from its opening, never with a fever or a symptom, and none is a close
// contact or has a diagnosis.
type DemoCases struct {
	Seed   uint64
	Day    string // "": no cases
	Active int
	By     string // the staff member who opened and released them (no account)
}

// DemoYucai: 89 households isolated, 80 released by 10 February 2020, 9
// still isolated then (DOMAIN.md). Wangcheng's follow-ups stay open.
var DemoYucai = DemoCases{Seed: 2020_02_10, Day: "2020-02-10", Active: 9, By: "周静"}

// demoUser marks what the demo wrote, as screening's demo does.
const demoUser = "demo:"

// SeedDemoCases records spec's cases in the community in ctx, in one
// transaction, and says whether it did: when the community has demo cases
// already it changes nothing. The follow-ups are claimed through
// screening.ToCase, as staff's "转为隔离" claims them; the cases and their
// check-ins are written a few statements at a time.
//
// The periods: the returnees found first count their 14 days from their
// return (all back by 23 January, so they ended by 6 February and were
// released on their end dates); the last spec.Active households found
// count theirs from the day they were found (the office could not vouch
// for their days before it knew of them), so they are still isolated on
// Day.
func (s *Service) SeedDemoCases(ctx context.Context, spec DemoCases) (bool, error) {
	if spec.Day == "" {
		return false, nil
	}
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (bool, error) {
		if s.Links == nil {
			return false, fmt.Errorf("demo cases: no box to seal residents' links")
		}
		seeded, err := tx.Select((*Case)(nil)).Where("c.created_by LIKE ?", demoUser+"%").Exists(ctx)
		if err != nil || seeded {
			return false, err
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return false, err
		}
		// Screening's follow-ups, read through its model: the claim itself
		// is screening's (ToCase).
		var found []screening.FollowUp
		if err := tx.Select(&found).Where("f.status = ? AND f.returned_on IS NOT NULL", screening.StatusOpen).Scan(ctx); err != nil {
			return false, fmt.Errorf("demo cases: follow-ups: %w", err)
		}
		found = slices.DeleteFunc(found, func(f screening.FollowUp) bool { return !slices.Contains(f.Reasons, screening.ReasonTravel) })
		slices.SortFunc(found, func(a, b screening.FollowUp) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		if len(found) < spec.Active {
			return false, fmt.Errorf("demo cases: %d returnee follow-ups, %d to stay active", len(found), spec.Active)
		}
		homes := make([]string, len(found))
		for i, f := range found {
			homes[i] = f.HouseholdID
		}
		var people []residentRow
		for part := range slices.Chunk(homes, 500) {
			var rows []residentRow
			if err := tx.SelectAs("residents", "r").ColumnExpr("r.id, r.household_id, r.grid_id, r.name").
				Where("r.household_id IN (?) AND r.deleted_at IS NULL", bun.List(part)).OrderExpr("r.id").Scan(ctx, &rows); err != nil {
				return false, fmt.Errorf("demo cases: residents: %w", err)
			}
			people = append(people, rows...)
		}
		byHome := map[string][]residentRow{}
		for _, r := range people {
			byHome[r.HouseholdID] = append(byHome[r.HouseholdID], r)
		}
		rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
		by := demoUser + spec.By
		days := c.Settings.IsolationDays
		var cases []Case
		var checkins []Checkin
		for i, f := range found {
			opened := f.CreatedAt.Add(time.Duration(30+rng.IntN(90)) * time.Minute)
			start := *f.ReturnedOn
			active := i >= len(found)-spec.Active
			if active {
				start = c.Day(f.CreatedAt)
			}
			t, err := time.Parse(time.DateOnly, start)
			if err != nil {
				return false, fmt.Errorf("demo cases: start %q: %w", start, err)
			}
			end := t.AddDate(0, 0, days).Format(time.DateOnly)
			if !active && end > spec.Day {
				return false, fmt.Errorf("demo cases: a household to release by %s ends on %s", spec.Day, end)
			}
			err = screening.ToCase(ctx, tx, g, f.ID, opened, func(householdID, _ string) (string, error) {
				rs := byHome[householdID]
				if len(rs) == 0 {
					return "", fmt.Errorf("demo cases: household %s has no residents", householdID)
				}
				for _, r := range rs {
					cs := Case{TenantID: tx.Tenant(), ID: newID(), ResidentID: r.ID, HouseholdID: householdID, Kind: KindHomeIsolation,
						StartDate: start, Days: days, EndDate: end, Reason: "返乡人员居家医学观察", Status: StatusActive,
						FollowUpID: &f.ID, CreatedBy: by, CreatedAt: opened, UpdatedAt: opened}
					last := spec.Day
					if active {
						token, hash := newToken()
						cs.LinkHash, cs.LinkSealed = &hash, s.Links.Seal([]byte(token), []byte(cs.ID))
					} else {
						closed, _ := time.ParseInLocation("2006-01-02 15:04", end+" 10:00", c.Loc)
						closed = closed.Add(time.Duration(rng.IntN(240)) * time.Minute).UTC()
						cs.Status, cs.ClosedOn, cs.ClosedBy, cs.ClosedAt, cs.UpdatedAt = StatusReleased, &end, &by, &closed, closed
						last = end
					}
					checkins = append(checkins, demoCheckins(rng, tx.Tenant(), &cs, c, c.Day(opened), last, spec.By)...)
					cases = append(cases, cs)
				}
				return cases[len(cases)-1].ID, nil
			})
			if err != nil {
				return false, err
			}
		}
		for part := range slices.Chunk(cases, 500) {
			if _, err := tx.Insert(&part).Exec(ctx); err != nil {
				return false, fmt.Errorf("demo cases: %w", err)
			}
		}
		for part := range slices.Chunk(checkins, 500) {
			if _, err := tx.Insert(&part).Exec(ctx); err != nil {
				return false, fmt.Errorf("demo check-ins: %w", err)
			}
		}
		return true, audit.Record(ctx, tx, audit.ActionCreate, "isolation_case", "demo",
			map[string]any{"households": len(found), "cases": len(cases), "checkins": len(checkins)})
	})
}

// demoCheckins is a case's daily check-ins from the day it was opened to
// last (its release, or the report's day): one a day in the morning, by
// the link, a reply or a worker's call, 36.0–36.9 °C and no symptom.
func demoCheckins(rng *rand.Rand, tenant string, cs *Case, c orgs.Community, first, last, by string) []Checkin {
	var out []Checkin
	d, _ := time.ParseInLocation(time.DateOnly, first, c.Loc)
	for day := first; day <= last; day = d.Format(time.DateOnly) {
		at := d.Add(7*time.Hour + time.Duration(rng.IntN(240))*time.Minute).UTC()
		k := Checkin{TenantID: tenant, CaseID: cs.ID, Temperature: 360 + rng.IntN(10), Symptoms: []string{},
			Counts: true, At: at, LocalDate: day, ByUser: "resident", ByName: "本人"}
		switch rng.IntN(3) {
		case 0:
			k.Source = SourceSelf
		case 1:
			k.Source = SourceSMS
		default:
			k.Source, k.ByUser, k.ByName = SourceStaff, demoUser+by, by
		}
		if day == first && at.Before(cs.CreatedAt) {
			k.At = cs.CreatedAt.Add(10 * time.Minute) // checked in on opening
		}
		k.ID = store.NewIDAt(k.At) // as a live check-in's (checkinsOn)
		out = append(out, k)
		d = d.AddDate(0, 0, 1)
	}
	return out
}
