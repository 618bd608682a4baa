package reports

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
)

// A source is one domain's figures: for one community in the report's
// transaction, and for many at once in a rollup's AcrossTenants (one set
// of grouped queries whatever their number). The report never reads a
// domain's tables itself.
type source struct {
	name   string
	in     func(ctx context.Context, tx *store.TenantTx, day string) (Figures, error)
	across func(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error)
	// days, where the domain has it, computes a range of days at about the
	// cost of one (screening groups its reached households once); without
	// it a series runs across once per day.
	days func(ctx context.Context, db bun.IDB, tenants []string, from, to string) (map[string]map[string]Figures, error)
}

// sources are every domain with figures in the report. A domain's figure
// struct may hold more than the report's keys: the extras pre-fill the
// typed-in part (prefill) or are dropped (pick).
var sources = []source{
	{"screening", fromIn(screening.FiguresIn), fromAcross(screening.FiguresAcross), fromDays(screening.FiguresAcrossDays)},
	{"logs", fromIn(logs.FiguresIn), fromAcross(logs.FiguresAcross), nil},
	{"isolation", fromIn(isolation.FiguresIn), fromAcross(isolation.FiguresAcross), nil},
	{"outreach", fromIn(outreach.FiguresIn), fromAcross(outreach.FiguresAcross), nil},
}

// flat is a domain's figure struct as numbers by their JSON names (the
// report's keys, by the domains' own tags).
func flat[F any](f F) (Figures, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	out := Figures{}
	return out, json.Unmarshal(b, &out)
}

func fromIn[F any](fn func(context.Context, *store.TenantTx, string) (F, error)) func(context.Context, *store.TenantTx, string) (Figures, error) {
	return func(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
		f, err := fn(ctx, tx, day)
		if err != nil {
			return nil, err
		}
		return flat(f)
	}
}

func fromAcross[F any](fn func(context.Context, bun.IDB, []string, string) (map[string]F, error)) func(context.Context, bun.IDB, []string, string) (map[string]Figures, error) {
	return func(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
		m, err := fn(ctx, db, tenants, day)
		if err != nil {
			return nil, err
		}
		out := make(map[string]Figures, len(m))
		for t, f := range m {
			if out[t], err = flat(f); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func fromDays[F any](fn func(context.Context, bun.IDB, []string, string, string) (map[string]map[string]F, error)) func(context.Context, bun.IDB, []string, string, string) (map[string]map[string]Figures, error) {
	return func(ctx context.Context, db bun.IDB, tenants []string, from, to string) (map[string]map[string]Figures, error) {
		m, err := fn(ctx, db, tenants, from, to)
		if err != nil {
			return nil, err
		}
		out := make(map[string]map[string]Figures, len(m))
		for day, byTenant := range m {
			out[day] = make(map[string]Figures, len(byTenant))
			for t, f := range byTenant {
				if out[day][t], err = flat(f); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
}

// live is a community's figures of day as its records stand now, every
// domain's in the caller's transaction: the report's keys, and the
// pre-filled typed-in part.
func live(ctx context.Context, tx *store.TenantTx, day string) (figures, prefilled Figures, err error) {
	all := Figures{}
	for _, s := range sources {
		f, err := s.in(ctx, tx, day)
		if err != nil {
			return nil, nil, fmt.Errorf("%s figures: %w", s.name, err)
		}
		all.Add(f)
	}
	return pick(all), prefill(all), nil
}

// pick keeps the report's keys, each present (0 when no domain gives it).
func pick(all Figures) Figures {
	out := make(Figures, len(Keys))
	for _, k := range Keys {
		out[k] = all[k]
	}
	return out
}

// prefill is the typed-in part before anyone typed: the notices posted
// from the publicity log, the disinfection rounds from the disinfection
// log, nobody on duty.
func prefill(all Figures) Figures {
	return Figures{"notices_posted": all["notices_posted_today"], "disinfection_rounds": all["disinfection_rounds_today"],
		"staff_on_duty": 0, "volunteers_on_duty": 0}
}

// manualOver is the typed-in part: given fields over base, every
// ManualKey present.
func manualOver(base, given Figures) Figures {
	out := make(Figures, len(ManualKeys))
	for _, k := range ManualKeys {
		out[k] = base[k]
		if v, ok := given[k]; ok {
			out[k] = v
		}
	}
	return out
}
