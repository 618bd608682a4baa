package logs

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// DemoLogs are a demo community's publicity and disinfection logs up to its
// report of End, sized so that the notices posted by End are the ones the
// community reported.
type DemoLogs struct {
	Seed       uint64
	Start, End string // the first and last days, local
	// Notices, posters and letters put up by End; WeChat posts come on top
	// and do not count.
	Notices         int
	PublicityPerDay int
	// Places disinfected about every other day.
	Places []string
	// Callers are the office's staff and volunteers (any grid);
	// GridWorkers each grid's own, by slug, who log their grid's work.
	Callers     []string
	GridWorkers map[string][]string
}

// The demo communities' logs up to the report of 10 February 2020
// (DOMAIN.md): Yucai put up 1,300 notices, Wangcheng 110. The workers are
// screening's demo workers (screening.DemoYucai, DemoWangcheng).
var DemoYucai = DemoLogs{
	Seed: 2020_02_10, Start: "2020-01-27", End: "2020-02-10",
	Notices: 1300, PublicityPerDay: 3,
	Places:  []string{"垃圾收集点", "楼道及电梯", "市场", "快递存放点"},
	Callers: []string{"周静", "黄丽", "何涛", "林欣怡"},
	GridWorkers: map[string][]string{
		"yucai-g1": {"陈建华", "王秀兰"}, "yucai-g2": {"李明", "赵艳"}, "yucai-g3": {"刘强", "孙桂英"},
		"yucai-g4": {"杨磊", "吴娟"}, "yucai-g5": {"郭勇", "马玉兰"},
	},
}

var DemoWangcheng = DemoLogs{
	Seed: 2020_02_11, Start: "2020-01-27", End: "2020-02-10",
	Notices: 110, PublicityPerDay: 1,
	Places:  []string{"景区入口", "公共厕所", "垃圾收集点"},
	Callers: []string{"唐芳", "梁伟"},
	GridWorkers: map[string][]string{
		"wangcheng-g1": {"韦红"}, "wangcheng-g2": {"蒋平"}, "wangcheng-g3": {"覃海"},
		"wangcheng-g4": {"莫兰"}, "wangcheng-g5": {"罗刚"},
	},
}

// demoUser prefixes the demo workers' names where a user id belongs: they
// have no accounts, and an id that is plainly no user's says so.
const demoUser = "demo:"

// SeedDemoLogs records spec's logs in the community in ctx, in one
// transaction, straight into their tables (no form to validate), and one
// audit entry: the system seeded them, nobody recorded them. The same spec
// gives the same logs, and it runs once: when the community has a demo
// entry in its publicity log, it changes nothing and says false.
func (s *Service) SeedDemoLogs(ctx context.Context, spec DemoLogs) (bool, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (bool, error) {
		n, err := tx.SelectTable("publicity").Where("by_user LIKE ?", demoUser+"%").Count(ctx)
		if err != nil {
			return false, fmt.Errorf("demo logs: %w", err)
		}
		if n > 0 {
			return false, nil
		}
		loc, err := zone(ctx, tx)
		if err != nil {
			return false, err
		}
		d, err := newDemo(spec, loc, g)
		if err != nil {
			return false, err
		}
		publicity, rounds, err := d.logs(ctx, tx)
		if err != nil {
			return false, err
		}
		return true, audit.Record(ctx, tx, audit.ActionCreate, "logs", "demo", map[string]any{"publicity": publicity, "disinfections": rounds})
	})
}

// demo is one community's logs being drawn.
type demo struct {
	spec    DemoLogs
	rng     *rand.Rand
	start   time.Time // 00:00 of the first day, local
	days    int
	gridIDs []string
	workers map[string][]string // grid id → names
}

func newDemo(spec DemoLogs, loc *time.Location, g *scope.Grids) (*demo, error) {
	start, err := time.ParseInLocation(time.DateOnly, spec.Start, loc)
	if err != nil {
		return nil, fmt.Errorf("demo logs: start: %w", err)
	}
	end, err := time.ParseInLocation(time.DateOnly, spec.End, loc)
	if err != nil || end.Before(start) {
		return nil, fmt.Errorf("demo logs: end %q", spec.End)
	}
	if len(spec.Callers) == 0 {
		return nil, fmt.Errorf("demo logs: no callers")
	}
	d := &demo{spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x2545f4914f6cdd1d)), start: start,
		days: int(end.Sub(start).Hours()/24+0.5) + 1, workers: map[string][]string{}}
	for slug, names := range spec.GridWorkers {
		if id, ok := g.ID(slug); ok {
			d.workers[id] = names
			d.gridIDs = append(d.gridIDs, id)
		}
	}
	slices.Sort(d.gridIDs) // map order is random; the draw must not be
	return d, nil
}

var publicityNotes = map[string][]string{
	PublicityNotice: {"防控通告", "出入登记通知", "暂停聚集性活动通知"},
	PublicityPoster: {"防疫知识海报", "正确佩戴口罩宣传画"},
	PublicityLetter: {"致居民朋友的一封信", "致返桂人员的一封信"},
	PublicityWeChat: {"社区微信群推送防控提示", "转发疫情通报"},
}

// logs writes the publicity log and the disinfection rounds. The notices,
// posters and letters put up by End sum to spec.Notices.
func (d *demo) logs(ctx context.Context, tx *store.TenantTx) (publicity, rounds int, err error) {
	spec := d.spec
	var entries []Publicity
	var weights []float64
	for day := range d.days {
		date := d.start.AddDate(0, 0, day)
		for k := range spec.PublicityPerDay + d.rng.IntN(2) {
			kind := []string{PublicityNotice, PublicityNotice, PublicityPoster, PublicityLetter}[d.rng.IntN(4)]
			entries = append(entries, d.publicity(date, k, kind, 0))
			// Most went up in the first days.
			weights = append(weights, float64(d.days-day+2)*(0.5+d.rng.Float64()))
		}
		if d.rng.IntN(3) > 0 {
			entries = append(entries, d.publicity(date, spec.PublicityPerDay+1, PublicityWeChat, 1+d.rng.IntN(3)))
		}
	}
	counts := apportion(spec.Notices, weights)
	if counts == nil {
		return 0, 0, fmt.Errorf("demo logs: %d notices cannot fill %d entries", spec.Notices, len(weights))
	}
	k := 0
	for i := range entries {
		entries[i].TenantID = tx.Tenant()
		if entries[i].Kind != PublicityWeChat {
			entries[i].Count = counts[k]
			k++
		}
	}
	if _, err := tx.Insert(&entries).Exec(ctx); err != nil {
		return 0, 0, fmt.Errorf("demo publicity: %w", err)
	}

	var log []Disinfection
	for _, place := range spec.Places {
		for day := d.rng.IntN(2); day < d.days; day += 2 + d.rng.IntN(2) {
			at := d.start.AddDate(0, 0, day).Add(9*time.Hour + time.Duration(d.rng.IntN(8*60))*time.Minute)
			by := spec.Callers[d.rng.IntN(len(spec.Callers))]
			var grid *string
			if len(d.gridIDs) > 0 && d.rng.IntN(2) == 0 {
				id := d.gridIDs[d.rng.IntN(len(d.gridIDs))]
				grid = &id
				if own := d.workers[id]; len(own) > 0 {
					by = own[d.rng.IntN(len(own))]
				}
			}
			log = append(log, Disinfection{TenantID: tx.Tenant(), ID: "", Place: place, At: at.UTC(),
				LocalDate: at.Format(time.DateOnly), GridID: grid, Notes: "84 消毒液喷洒", ByUser: demoUser + by, ByName: by,
				CreatedAt: at.Add(30 * time.Minute).UTC()})
		}
	}
	// In time order, so that the ids (time-ordered) list them as recorded.
	slices.SortStableFunc(log, func(a, b Disinfection) int { return a.At.Compare(b.At) })
	for i := range log {
		log[i].ID = newID()
	}
	if len(log) > 0 {
		if _, err := tx.Insert(&log).Exec(ctx); err != nil {
			return 0, 0, fmt.Errorf("demo disinfections: %w", err)
		}
	}
	return len(entries), len(log), nil
}

// publicity is one entry of day's log, the k-th of the day, in a grid or
// the whole community.
func (d *demo) publicity(date time.Time, k int, kind string, count int) Publicity {
	notes := publicityNotes[kind]
	by := d.spec.Callers[d.rng.IntN(len(d.spec.Callers))]
	var grid *string
	if len(d.gridIDs) > 0 && d.rng.IntN(3) > 0 {
		id := d.gridIDs[d.rng.IntN(len(d.gridIDs))]
		grid = &id
		if own := d.workers[id]; len(own) > 0 {
			by = own[d.rng.IntN(len(own))]
		}
	}
	at := date.Add(17*time.Hour + time.Duration(k*10+d.rng.IntN(10))*time.Minute).UTC()
	return Publicity{TenantID: "", ID: newID(), Date: date.Format(time.DateOnly), Kind: kind, Count: count, GridID: grid,
		Notes: notes[d.rng.IntN(len(notes))], ByUser: demoUser + by, ByName: by, CreatedAt: at}
}

// apportion splits total into len(w) whole parts in proportion to w, each
// at least 1, summing to total exactly (largest remainders); nil when
// total is too small.
func apportion(total int, w []float64) []int {
	if len(w) == 0 || total < len(w) {
		return nil
	}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	rest := total - len(w)
	out := make([]int, len(w))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(w))
	given := 0
	for i, x := range w {
		share := float64(rest) * x / sum
		out[i] = 1 + int(share)
		given += int(share)
		rems[i] = rem{i, share - math.Floor(share)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for k := 0; given < rest; k++ {
		out[rems[k].i]++
		given++
	}
	return out
}
