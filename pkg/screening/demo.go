package screening

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// DemoHistory is a demo community's screening up to its report of End: one
// campaign over the whole community and what its workers did on each day,
// sized so that the screening figures of End are the ones the community
// reported.
type DemoHistory struct {
	Seed       uint64
	Name       string // the campaign's
	Start, End string // its first and last days, local
	// Households reached by End: by phone, and at the door once their calls
	// had failed. None is reached both ways.
	ReachedByPhone, ReachedByVisit int
	// TriedUnreached households have failed attempts and nothing else.
	TriedUnreached int
	// Returnees are reached households back from a watched place within
	// the last 14 days, SickReturnees of them with symptoms; Sick others
	// have symptoms too. Each of these households raises one follow-up.
	Returnees, SickReturnees, Sick int
	// Travellers came back from places not watched, or from a watched one
	// more than 14 days before: recorded, no follow-up.
	Travellers int
	// Callers are the phone bank (staff and volunteers, any grid);
	// GridWorkers each grid's own, by slug, who also call their grid and
	// make its door visits.
	Callers     []string
	GridWorkers map[string][]string
}

// The demo communities' histories up to the report of 10 February 2020
// (DOMAIN.md, and the rosters of app's demoRosters).
//
// Yucai reached 1,859 households, 331 of them at the door, and put up
// 1,300 notices; it had 89 households in home isolation, whose findings
// are the returnees here (isolation itself is not seeded). The issue that
// asked for this history also says Yucai phoned 1,895 households, which
// cannot exceed the 1,859 it reached in all: it is taken for a
// transposition of 1,859, the "full-coverage phone screening" that called
// every household it reached (those reached at the door after their calls
// failed). It is no figure of the daily report, so nothing here
// reproduces it apart.
var DemoYucai = DemoHistory{
	Seed: 2020_02_10, Name: "全覆盖排查", Start: "2020-01-27", End: "2020-02-10",
	ReachedByPhone: 1859 - 331, ReachedByVisit: 331, TriedUnreached: 150,
	Returnees: 89, SickReturnees: 3, Sick: 2, Travellers: 40,
	Callers: []string{"周静", "黄丽", "何涛", "林欣怡"},
	GridWorkers: map[string][]string{
		"yucai-g1": {"陈建华", "王秀兰"}, "yucai-g2": {"李明", "赵艳"}, "yucai-g3": {"刘强", "孙桂英"},
		"yucai-g4": {"杨磊", "吴娟"}, "yucai-g5": {"郭勇", "马玉兰"},
	},
}

// Wangcheng reached 40 households at the door and 65 by phone, and put up
// 110 notices.
var DemoWangcheng = DemoHistory{
	Seed: 2020_02_11, Name: "全覆盖排查", Start: "2020-01-27", End: "2020-02-10",
	ReachedByPhone: 65, ReachedByVisit: 40, TriedUnreached: 160,
	Returnees: 6, SickReturnees: 1, Sick: 1, Travellers: 8,
	Callers: []string{"唐芳", "梁伟"},
	GridWorkers: map[string][]string{
		"wangcheng-g1": {"韦红"}, "wangcheng-g2": {"蒋平"}, "wangcheng-g3": {"覃海"},
		"wangcheng-g4": {"莫兰"}, "wangcheng-g5": {"罗刚"},
	},
}

// demoUser prefixes the demo workers' names where a user id belongs: they
// have no accounts, and an id that is plainly no user's says so.
const demoUser = "demo:"

// lastReturn is the day Wuhan closed its outbound routes (23 January
// 2020): the demo's returnees came back by then.
const lastReturn = "2020-01-23"

// The demo's working day: calls and visits from 08:30 for twelve hours,
// ending before the quiet hours (21:00).
const (
	dayOpens    = 8*time.Hour + 30*time.Minute
	workMinutes = 12 * 60
)

// SeedDemoHistory records spec's history in the community in ctx, in one
// transaction: the campaign with its tasks, every attempt with what it
// does to its task and the follow-up its findings raise, the publicity
// log and disinfection rounds. The same spec and roster give the same
// history, and it runs once: when the community has the campaign, it
// changes nothing and says false.
//
// The attempts follow recordAttempt's rules (its validation, the open
// campaign, the door-to-door rule, the watch list) but are written in a
// few statements, not several each: through recordAttempt one by one,
// Yucai's 4,000 took 3 s on SQLite and 10 s on PostgreSQL, at every first
// start and in every test that loads the demo. TestDemoHistoryIsRecordAttempt
// replays a history through RecordAttempt and finds the same tasks and
// follow-ups. Like the roster's demo, the history is one audit entry, not
// one per attempt: the system seeded it, nobody recorded it.
func (s *Service) SeedDemoHistory(ctx context.Context, spec DemoHistory) (bool, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (bool, error) {
		n, err := tx.SelectTable("screenings").
			Where("name = ? AND start_date = ? AND created_by LIKE ?", spec.Name, spec.Start, demoUser+"%").Count(ctx)
		if err != nil {
			return false, fmt.Errorf("demo history: %w", err)
		}
		if n > 0 {
			return false, nil
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return false, err
		}
		d, err := newDemo(spec, c, g)
		if err != nil {
			return false, err
		}
		sc, tasks, err := s.demoCampaign(ctx, tx, d)
		if err != nil {
			return false, err
		}
		if need := spec.ReachedByPhone + spec.ReachedByVisit + spec.TriedUnreached; len(tasks) < need {
			return false, fmt.Errorf("demo history: %d households, the history needs %d", len(tasks), need)
		}
		plan, err := d.attempts(tasks)
		if err != nil {
			return false, err
		}
		attempts, followUps, err := recordDemo(ctx, tx, sc, c, tasks, plan)
		if err != nil {
			return false, err
		}
		return true, audit.Record(ctx, tx, audit.ActionCreate, "screening", "demo", map[string]any{"screening_id": sc.ID,
			"households": len(tasks), "attempts": attempts, "follow_ups": followUps})
	})
}

// demo is one community's history being drawn.
type demo struct {
	spec    DemoHistory
	rng     *rand.Rand
	loc     *time.Location
	start   time.Time // 00:00 of the first day, local
	days    int
	calls   int // failed calls that put a household on the door list
	gridIDs []string
	workers map[string][]string // grid id → names
}

func newDemo(spec DemoHistory, c orgs.Community, g *scope.Grids) (*demo, error) {
	start, err := time.ParseInLocation(time.DateOnly, spec.Start, c.Loc)
	if err != nil {
		return nil, fmt.Errorf("demo history: start: %w", err)
	}
	end, err := time.ParseInLocation(time.DateOnly, spec.End, c.Loc)
	if err != nil || end.Before(start) {
		return nil, fmt.Errorf("demo history: end %q", spec.End)
	}
	if len(spec.Callers) == 0 {
		return nil, fmt.Errorf("demo history: no callers")
	}
	d := &demo{spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x2545f4914f6cdd1d)), loc: c.Loc, start: start,
		days: int(end.Sub(start).Hours()/24+0.5) + 1, calls: c.Settings.CallsBeforeVisit(), workers: map[string][]string{}}
	for slug, names := range spec.GridWorkers {
		if id, ok := g.ID(slug); ok {
			d.workers[id] = names
			d.gridIDs = append(d.gridIDs, id)
		}
	}
	slices.Sort(d.gridIDs) // map order is random; the draw must not be
	return d, nil
}

// demoTask is a task of the demo campaign with its household's address
// and how many live there.
type demoTask struct {
	Task
	Address   string
	Residents int
}

// demoCampaign creates the campaign as staff would have on its first
// morning, with its tasks (addTasks: every live household), and returns
// them in address order: household ids differ from one seeding to the
// next, addresses do not.
func (s *Service) demoCampaign(ctx context.Context, tx *store.TenantTx, d *demo) (*Screening, []demoTask, error) {
	created := d.start.Add(8 * time.Hour).UTC()
	sc := &Screening{TenantID: tx.Tenant(), ID: newID(), Name: d.spec.Name, Method: MethodAny, GridIDs: []string{},
		StartDate: d.spec.Start, EndDate: d.spec.End, Status: StatusOpen, CreatedBy: demoUser + d.spec.Callers[0],
		CreatedAt: created, UpdatedAt: created}
	if _, err := tx.Insert(sc).Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("demo screening: %w", err)
	}
	then := *s
	then.Now = func() time.Time { return created }
	if _, err := then.addTasks(ctx, tx, sc, nil); err != nil {
		return nil, nil, err
	}
	// The tasks and their households apart, not joined: on PostgreSQL the
	// new tasks have no statistics yet, and the planner joins them badly
	// (a second and a half for Yucai's).
	var rows []Task
	if err := tx.Select(&rows).Where("t.screening_id = ?", sc.ID).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("demo tasks: %w", err)
	}
	var homes []struct {
		ID      string `bun:"id"`
		Address string `bun:"address"`
	}
	if err := tx.SelectAs("households", "h").Column("h.id", "h.address").Where("h.deleted_at IS NULL").Scan(ctx, &homes); err != nil {
		return nil, nil, fmt.Errorf("demo households: %w", err)
	}
	address := make(map[string]string, len(homes))
	for _, h := range homes {
		address[h.ID] = h.Address
	}
	var counts []struct {
		HouseholdID string `bun:"household_id"`
		N           int    `bun:"n"`
	}
	err := tx.SelectAs("residents", "r").ColumnExpr("r.household_id, COUNT(*) AS n").
		Where("r.deleted_at IS NULL").GroupExpr("r.household_id").Scan(ctx, &counts)
	if err != nil {
		return nil, nil, fmt.Errorf("demo residents: %w", err)
	}
	people := make(map[string]int, len(counts))
	for _, c := range counts {
		people[c.HouseholdID] = c.N
	}
	out := make([]demoTask, len(rows))
	for i, r := range rows {
		out[i] = demoTask{Task: r, Address: address[r.HouseholdID], Residents: people[r.HouseholdID]}
	}
	// In Go, not in SQL: the databases' collations order Chinese apart.
	slices.SortFunc(out, func(a, b demoTask) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.HouseholdID, b.HouseholdID))
	})
	return sc, out, nil
}

// demoBatch is rows per INSERT or UPDATE: well under PostgreSQL's
// parameter limit and SQLite's statement length.
const demoBatch = 500

// recordDemo records plan (in time order) as recordAttempt would, attempt
// by attempt in memory, and writes the attempts, the tasks they moved on
// and the follow-ups they raised in a few statements.
func recordDemo(ctx context.Context, tx *store.TenantTx, sc *Screening, c orgs.Community, tasks []demoTask, plan []plannedAttempt) (int, int, error) {
	attempts := make([]Attempt, 0, len(plan))
	var followUps []FollowUp
	moved := map[int]bool{}
	for _, p := range plan {
		t := &tasks[p.task].Task
		today := c.Day(p.at)
		if !sc.open(today) {
			return 0, 0, fmt.Errorf("demo attempt on %s: the campaign is closed", today)
		}
		a := Attempt{TenantID: tx.Tenant(), ID: store.NewIDAt(p.at), Kind: KindScreening, ScreeningID: &sc.ID, TaskID: &t.ID,
			HouseholdID: t.HouseholdID, GridID: t.GridID, At: p.at, LocalDate: today, ByUser: demoUser + p.by, ByName: p.by}
		if err := prepareAttempt(p.in, today, &a); err != nil {
			return 0, 0, fmt.Errorf("demo attempt on %s: %w", today, err)
		}
		settle(t, &a, c)
		moved[p.task] = true
		if reasons := findings(&a, c); len(reasons) > 0 {
			followUps = append(followUps, FollowUp{TenantID: tx.Tenant(), ID: newID(), AttemptID: a.ID, ScreeningID: a.ScreeningID,
				HouseholdID: a.HouseholdID, GridID: a.GridID, Reasons: reasons, TravelFrom: a.TravelFrom, ReturnedOn: a.ReturnedOn,
				Status: StatusOpen, CreatedAt: a.At, UpdatedAt: a.At})
		}
		attempts = append(attempts, a)
	}
	for from := 0; from < len(attempts); from += demoBatch {
		part := attempts[from:min(from+demoBatch, len(attempts))]
		if _, err := tx.Insert(&part).Exec(ctx); err != nil {
			return 0, 0, fmt.Errorf("demo attempts: %w", err)
		}
	}
	var changed []Task
	for i := range tasks {
		if moved[i] {
			changed = append(changed, tasks[i].Task)
		}
	}
	for from := 0; from < len(changed); from += demoBatch {
		part := changed[from:min(from+demoBatch, len(changed))]
		_, err := tx.Update(&part).Column("status", "door", "attempts", "failed_calls", "last_attempt_at", "last_outcome",
			"call_order", "reached_by_phone", "reached_by_visit", "reached_on", "updated_at").Bulk().Exec(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("demo tasks: %w", err)
		}
	}
	if len(followUps) > 0 {
		if _, err := tx.Insert(&followUps).Exec(ctx); err != nil {
			return 0, 0, fmt.Errorf("demo follow-ups: %w", err)
		}
	}
	return len(attempts), len(followUps), nil
}

// settle is advance's UPDATE in Go: how attempt a moves task t on.
func settle(t *Task, a *Attempt, c orgs.Community) {
	failed := a.Method == MethodPhone && (a.Outcome == OutcomeNoAnswer || a.Outcome == OutcomeRefused)
	wrongNumber := a.Method == MethodPhone && a.Outcome == OutcomeWrongNumber
	reached := a.Outcome == OutcomeReached
	t.Attempts++
	t.Door = t.Door || t.FailedCalls+b2i(failed) >= c.Settings.CallsBeforeVisit() || wrongNumber
	t.FailedCalls += b2i(failed)
	at := a.At
	t.LastAttemptAt, t.LastOutcome, t.CallOrder, t.UpdatedAt = &at, a.Outcome, triedAt(a.At, t.ID), a.At
	if reached || a.Outcome == OutcomeMovedOut {
		t.Status = StatusDone
	}
	t.ReachedByPhone = t.ReachedByPhone || reached && a.Method == MethodPhone
	t.ReachedByVisit = t.ReachedByVisit || reached && a.Method == MethodVisit
	if reached && t.ReachedOn == nil {
		day := a.LocalDate
		t.ReachedOn = &day
	}
}

// findings is raiseFollowUp's reasons: what in attempt a staff must act on.
func findings(a *Attempt, c orgs.Community) []string {
	var reasons []string
	if a.Symptoms {
		reasons = append(reasons, ReasonSymptoms)
	}
	if a.CloseContact {
		reasons = append(reasons, ReasonCloseContact)
	}
	if watched(a.TravelFrom, c.Settings.WatchList) && recent(a.ReturnedOn, a.LocalDate) {
		reasons = append(reasons, ReasonTravel)
	}
	return reasons
}

// plannedAttempt is one attempt to record.
type plannedAttempt struct {
	task int // index in the tasks
	at   time.Time
	by   string
	in   AttemptInput
}

// attempts draws every household's attempts and returns them in time
// order (a task's attempts must be recorded in order: each one moves it
// on from the last).
func (d *demo) attempts(tasks []demoTask) ([]plannedAttempt, error) {
	spec := d.spec
	order := d.rng.Perm(len(tasks))
	var plan []plannedAttempt
	var reached []int // indexes in plan of the reached attempts
	add := func(task int, times []time.Time, ins []AttemptInput) {
		for i, in := range ins {
			by := d.worker(tasks[task].GridID, in.Method)
			plan = append(plan, plannedAttempt{task: task, at: times[i], by: by, in: in})
			if in.Outcome == OutcomeReached {
				if n := tasks[task].Residents; n > 0 {
					plan[len(plan)-1].in.Occupants = &n
				}
				reached = append(reached, len(plan)-1)
			}
		}
	}
	next := 0
	take := func() int { t := order[next]; next++; return t }

	// Reached by phone, some after a call or two that nobody answered.
	for range spec.ReachedByPhone {
		failed := 0
		switch r := d.rng.Float64(); {
		case r < 0.10:
			failed = 2
		case r < 0.35:
			failed = 1
		}
		failed = min(failed, d.calls-1)
		var ins []AttemptInput
		for range failed {
			ins = append(ins, d.failedCall())
		}
		ins = append(ins, AttemptInput{Method: MethodPhone, Outcome: OutcomeReached})
		add(take(), d.chain(len(ins), 0), ins)
	}
	// Reached at the door, which they reached by the rule: as many failed
	// calls as the community allows, or a wrong number.
	for range spec.ReachedByVisit {
		ins := d.toTheDoor()
		calls := len(ins)
		if d.rng.IntN(4) == 0 {
			ins = append(ins, AttemptInput{Method: MethodVisit, Outcome: OutcomeNoAnswer, Notes: "家中无人"})
		}
		ins = append(ins, AttemptInput{Method: MethodVisit, Outcome: OutcomeReached})
		add(take(), d.chain(len(ins), len(ins)-calls), ins)
	}
	// Tried and not reached: still on the call list, on the door list, not
	// found at the door, or gone.
	for range spec.TriedUnreached {
		var ins []AttemptInput
		switch r := d.rng.Float64(); {
		case r < 0.5 && d.calls > 1:
			for range 1 + d.rng.IntN(d.calls-1) {
				ins = append(ins, d.failedCall())
			}
		case r < 0.7:
			ins = d.toTheDoor()
		case r < 0.95:
			ins = append(d.toTheDoor(), AttemptInput{Method: MethodVisit, Outcome: OutcomeNoAnswer, Notes: "家中无人"})
		default:
			ins = append(d.toTheDoor(), AttemptInput{Method: MethodVisit, Outcome: OutcomeMovedOut, Notes: "房屋已空置"})
		}
		visits := 0
		for _, in := range ins {
			if in.Method == MethodVisit {
				visits++
			}
		}
		add(take(), d.chain(len(ins), visits), ins)
	}

	if err := d.tell(plan, reached); err != nil {
		return nil, err
	}
	slices.SortStableFunc(plan, func(a, b plannedAttempt) int { return a.at.Compare(b.at) })
	return plan, nil
}

// failedCall is a call that did not get through.
func (d *demo) failedCall() AttemptInput {
	if d.rng.IntN(12) == 0 {
		return AttemptInput{Method: MethodPhone, Outcome: OutcomeRefused, Notes: "接通后挂断"}
	}
	return AttemptInput{Method: MethodPhone, Outcome: OutcomeNoAnswer}
}

// toTheDoor is the calls that put a household on the door list.
func (d *demo) toTheDoor() []AttemptInput {
	var ins []AttemptInput
	if d.rng.IntN(5) == 0 {
		for range d.rng.IntN(d.calls) {
			ins = append(ins, d.failedCall())
		}
		return append(ins, AttemptInput{Method: MethodPhone, Outcome: OutcomeWrongNumber, Notes: "号码已停机"})
	}
	for range d.calls {
		ins = append(ins, d.failedCall())
	}
	return ins
}

// chain spaces n attempts over the campaign's working hours: calls an hour
// and a half to two days apart, the last visits (of n) up to three days
// after what came before. Households are first tried early in the
// campaign more often than late: the phone screening began with everyone.
func (d *demo) chain(n, visits int) []time.Time {
	total := d.days * workMinutes
	gaps := make([]int, n)
	span := 0
	for i := 1; i < n; i++ {
		hi := 2 * workMinutes
		if i >= n-visits {
			hi = 3 * workMinutes
		}
		gaps[i] = 90 + d.rng.IntN(hi-90)
		span += gaps[i]
	}
	if span >= total { // many calls before a visit (the setting goes to 10): squeeze
		squeezed := 0
		for i := 1; i < n; i++ {
			gaps[i] = max(1, gaps[i]*(total-n)/span)
			squeezed += gaps[i]
		}
		span = squeezed
	}
	m := int(float64(total-span) * math.Pow(d.rng.Float64(), 1.5))
	out := make([]time.Time, n)
	for i := range out {
		m += gaps[i]
		day, minute := m/workMinutes, m%workMinutes
		out[i] = d.start.AddDate(0, 0, day).Add(dayOpens + time.Duration(minute)*time.Minute +
			time.Duration(d.rng.IntN(60))*time.Second).UTC()
	}
	return out
}

// worker is who makes an attempt in grid: a visit is the grid's own
// workers'; a call theirs or the phone bank's.
func (d *demo) worker(gridID, method string) string {
	own := d.workers[gridID]
	if len(own) > 0 && (method == MethodVisit || d.rng.IntN(5) < 3) {
		return own[d.rng.IntN(len(own))]
	}
	return d.spec.Callers[d.rng.IntN(len(d.spec.Callers))]
}

var (
	watchedPlaces = []string{"武汉", "武汉", "武汉市武昌区", "武汉市洪山区", "湖北孝感", "湖北黄冈", "湖北荆州"}
	otherPlaces   = []string{"广州", "深圳", "南宁", "柳州", "长沙"}
	symptoms      = []string{"发热 37.6℃，已报社区卫生服务中心", "发热 38.1℃，咳嗽，已报社区卫生服务中心", "干咳、乏力，已报社区卫生服务中心"}
)

// tell puts what the reached households told onto their reached
// attempts: returnees from watched places (back by lastReturn and within
// the last 14 days, so each raises a follow-up), some with symptoms,
// others with symptoms, and travellers who raise none.
func (d *demo) tell(plan []plannedAttempt, reached []int) error {
	spec := d.spec
	pick := slices.Clone(reached)
	d.rng.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
	last, _ := time.ParseInLocation(time.DateOnly, lastReturn, d.loc)
	returnees, sick, travellers := 0, 0, 0
	for _, i := range pick {
		a := &plan[i]
		day := a.at.In(d.loc)
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, d.loc)
		switch {
		case returnees < spec.Returnees:
			// Back within the last 14 days (the day itself excluded), and
			// not after the city closed.
			from, to := day.AddDate(0, 0, -recentDays+1), day.AddDate(0, 0, -1)
			if to.After(last) {
				to = last
			}
			if to.Before(from) {
				continue // found too late to have come back recently
			}
			back := from.AddDate(0, 0, d.rng.IntN(int(to.Sub(from).Hours()/24+0.5)+1)).Format(time.DateOnly)
			a.in.TravelFrom, a.in.ReturnedOn = watchedPlaces[d.rng.IntN(len(watchedPlaces))], back
			a.in.Notes = "返桂人员，已告知居家观察要求"
			if returnees < spec.SickReturnees {
				a.in.Symptoms, a.in.Notes = true, symptoms[d.rng.IntN(len(symptoms))]
			}
			returnees++
		case sick < spec.Sick:
			a.in.Symptoms, a.in.Notes = true, symptoms[d.rng.IntN(len(symptoms))]
			sick++
		case travellers < spec.Travellers:
			if d.rng.IntN(4) == 0 { // back from a watched place, but long enough ago
				a.in.TravelFrom = watchedPlaces[d.rng.IntN(len(watchedPlaces))]
				a.in.ReturnedOn = day.AddDate(0, 0, -recentDays-1-d.rng.IntN(20)).Format(time.DateOnly)
			} else {
				a.in.TravelFrom = otherPlaces[d.rng.IntN(len(otherPlaces))]
				a.in.ReturnedOn = day.AddDate(0, 0, -1-d.rng.IntN(20)).Format(time.DateOnly)
			}
			travellers++
		default:
			return nil
		}
	}
	if returnees < spec.Returnees || sick < spec.Sick || travellers < spec.Travellers {
		return fmt.Errorf("demo history: too few households reached early for %d returnees", spec.Returnees)
	}
	return nil
}
