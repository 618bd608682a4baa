package screening

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// ScreeningInput creates a campaign. No grids: the whole community.
type ScreeningInput struct {
	Name      string   `json:"name"`
	Method    string   `json:"method"`
	Grids     []string `json:"grids"`
	StartDate string   `json:"start_date"`
	EndDate   string   `json:"end_date"`
}

// defaultDays is a campaign's length when no end date is given: the
// 14 days a returnee is followed.
const defaultDays = 14

// Progress is how far a campaign (or one grid of it) has come. The
// definitions are the daily report's: a household is reached by phone (by
// visit) when it has a reached attempt by phone (by visit); calls and
// visits today count attempts, whatever their outcome.
type Progress struct {
	Households int `json:"households"`
	Reached    int `json:"reached"`
	ByPhone    int `json:"by_phone"`
	ByVisit    int `json:"by_visit"`
	Unreached  int `json:"unreached"`
	// NotTried are the unreached that nobody has called or visited yet:
	// apart from those tried and not reached (Unreached - NotTried).
	NotTried    int `json:"not_tried"`
	MovedOut    int `json:"moved_out"`
	Door        int `json:"door"` // unreached, on the door-to-door list
	CallsToday  int `json:"calls_today"`
	VisitsToday int `json:"visits_today"`
}

// TriedNotReached are the unreached who were called or visited at least
// once (未联系上), as against those not tried yet (未联系).
func (p Progress) TriedNotReached() int { return p.Unreached - p.NotTried }

// GridProgress is one grid's part.
type GridProgress struct {
	Grid string `json:"grid"`
	Progress
}

// WorkerProgress is what one worker did today in the campaign.
type WorkerProgress struct {
	Worker       string `json:"worker"`
	CallsToday   int    `json:"calls_today"`
	VisitsToday  int    `json:"visits_today"`
	ReachedToday int    `json:"reached_today"`
}

// ScreeningView is a campaign as the API shows it.
type ScreeningView struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Method    string           `json:"method"`
	Grids     []string         `json:"grids"`
	StartDate string           `json:"start_date"`
	EndDate   string           `json:"end_date"`
	Status    string           `json:"status"`
	CreatedAt time.Time        `json:"created_at"`
	ClosedAt  *time.Time       `json:"closed_at,omitempty"`
	Progress  Progress         `json:"progress"`
	ByGrid    []GridProgress   `json:"by_grid"`
	ByWorker  []WorkerProgress `json:"by_worker"`
}

func screeningView(sc *Screening, g *scope.Grids) ScreeningView {
	v := ScreeningView{ID: sc.ID, Name: sc.Name, Method: sc.Method, Grids: make([]string, 0, len(sc.GridIDs)),
		StartDate: sc.StartDate, EndDate: sc.EndDate, Status: sc.Status, CreatedAt: sc.CreatedAt, ClosedAt: sc.ClosedAt,
		ByGrid: []GridProgress{}, ByWorker: []WorkerProgress{}}
	for _, id := range sc.GridIDs {
		v.Grids = append(v.Grids, g.Slug(id))
	}
	return v
}

// CreateScreening starts a campaign and makes a task of every household in
// its scope, in one transaction: a campaign is never half made. A form
// sent twice (the same Idempotency-Key) starts one.
func (s *Service) CreateScreening(ctx context.Context, in ScreeningInput) (*ScreeningView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ScreeningView, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		sc := &Screening{TenantID: tx.Tenant(), ID: newID(), Status: StatusOpen, CreatedAt: now, UpdatedAt: now}
		sc.CreatedBy, _ = actor(ctx)
		if err := prepareScreening(in, g, c.Day(now), sc); err != nil {
			return nil, err
		}
		if _, err := tx.Insert(sc).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create screening: %w", err)
		}
		n, err := s.addTasks(ctx, tx, sc, nil)
		if err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "screening", sc.ID, map[string]any{"households": n}); err != nil {
			return nil, err
		}
		v := screeningView(sc, g)
		v.Progress = Progress{Households: n, Unreached: n, NotTried: n}
		if sc.Method == MethodVisit {
			v.Progress.Door = n
		}
		return &v, nil
	})
}

func prepareScreening(in ScreeningInput, g *scope.Grids, today string, sc *Screening) error {
	var fe []errs.FieldError
	sc.Name = strings.TrimSpace(in.Name)
	if sc.Name == "" {
		fe = append(fe, errs.Field("name", "required", nil))
	}
	text(&fe, "name", sc.Name, 100)
	sc.Method = in.Method
	oneOf(&fe, "method", in.Method, MethodPhone, MethodVisit, MethodAny)
	sc.GridIDs = []string{}
	seen := map[string]bool{}
	for _, slug := range in.Grids {
		id, ok := g.Resolve(slug)
		if !ok {
			fe = append(fe, errs.Field("grids", "unknown_grid", map[string]any{"grid": slug}))
			continue
		}
		if !seen[id] {
			seen[id] = true
			sc.GridIDs = append(sc.GridIDs, id)
		}
	}
	start, okStart := parseDate(&fe, "start_date", in.StartDate)
	end, okEnd := parseDate(&fe, "end_date", in.EndDate)
	if start == "" && okStart {
		start = today
	}
	if end == "" && okEnd && start != "" {
		t, _ := time.Parse(time.DateOnly, start)
		end = t.AddDate(0, 0, defaultDays-1).Format(time.DateOnly)
	}
	if okStart && okEnd && end < start {
		fe = append(fe, errs.Field("end_date", "end_before_start", nil))
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	sc.StartDate, sc.EndDate = start, end
	return nil
}

// taskBatch keeps one INSERT's parameters well under PostgreSQL's 65,535.
const taskBatch = 2000

// addTasks makes a task for every live household in the campaign's scope
// (only those in ids, when given) that has none yet, and says how many it
// made.
func (s *Service) addTasks(ctx context.Context, tx *store.TenantTx, sc *Screening, ids []string) (int, error) {
	var homes []struct {
		ID     string `bun:"id"`
		GridID string `bun:"grid_id"`
	}
	q := tx.SelectAs("households", "h").Column("h.id", "h.grid_id").
		Where("h.deleted_at IS NULL").
		Where("NOT EXISTS (SELECT 1 FROM screening_tasks AS t WHERE t.tenant_id = h.tenant_id AND t.screening_id = ? AND t.household_id = h.id)", sc.ID)
	if len(sc.GridIDs) > 0 {
		q = q.Where("h.grid_id IN (?)", bun.List(sc.GridIDs))
	}
	if ids != nil {
		q = q.Where("h.id IN (?)", bun.List(ids))
	}
	if err := q.OrderExpr("h.id").Scan(ctx, &homes); err != nil {
		return 0, fmt.Errorf("households in scope: %w", err)
	}
	now := s.now()
	for from := 0; from < len(homes); from += taskBatch {
		part := homes[from:min(from+taskBatch, len(homes))]
		tasks := make([]Task, len(part))
		for i, h := range part {
			id := newID()
			tasks[i] = Task{TenantID: tx.Tenant(), ID: id, ScreeningID: sc.ID, HouseholdID: h.ID, GridID: h.GridID,
				Status: StatusOpen, Door: sc.Method == MethodVisit, CallOrder: neverTried(id), CreatedAt: now, UpdatedAt: now}
		}
		if _, err := tx.Insert(&tasks).Exec(ctx); err != nil {
			return 0, fmt.Errorf("create tasks: %w", err)
		}
	}
	return len(homes), nil
}

// The call list's order (see the call_order column): never tried first,
// then tried longest ago. Times are fixed-width so that text order is time
// order.
func neverTried(id string) string { return "0" + id }

func triedAt(t time.Time, id string) string {
	return "1" + t.UTC().Format("20060102150405.000000") + id
}

// screening loads one campaign, or 404.
func (s *Service) screening(ctx context.Context, tx *store.TenantTx, id string) (*Screening, error) {
	sc := new(Screening)
	err := tx.Select(sc).Where("s.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load screening: %w", err)
	}
	return sc, nil
}

// open reports whether attempts may still be recorded on the campaign:
// not closed, and not past its end date in the community's zone.
func (sc *Screening) open(today string) bool {
	return sc.Status == StatusOpen && today <= sc.EndDate
}

// GetScreening returns a campaign with its progress, per grid and per
// worker (today). A grid worker sees the progress of its own grids.
func (s *Service) GetScreening(ctx context.Context, id string) (*ScreeningView, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ScreeningView, error) {
		sc, err := s.screening(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		v := screeningView(sc, g)
		today := s.now().In(zone(ctx)).Format(time.DateOnly)
		if err := s.progress(ctx, tx, g, sc.ID, today, &v); err != nil {
			return nil, err
		}
		if sc.Status == StatusOpen && !sc.open(today) {
			v.Status = StatusClosed // past its end date: closed, whether or not anyone said so
		}
		return &v, nil
	})
}

// progress fills v's figures with two grouped queries: the tasks by grid,
// and today's attempts by grid, method and worker.
func (s *Service) progress(ctx context.Context, tx *store.TenantTx, g *scope.Grids, screeningID, today string, v *ScreeningView) error {
	var grids []struct {
		GridID     string `bun:"grid_id"`
		Households int    `bun:"households"`
		Reached    int    `bun:"reached"`
		ByPhone    int    `bun:"by_phone"`
		ByVisit    int    `bun:"by_visit"`
		MovedOut   int    `bun:"moved_out"`
		Door       int    `bun:"door"`
		NotTried   int    `bun:"not_tried"`
	}
	q := tx.SelectAs("screening_tasks", "t").
		Join("JOIN households AS h ON h.tenant_id = t.tenant_id AND h.id = t.household_id AND h.deleted_at IS NULL").
		ColumnExpr("t.grid_id, COUNT(*) AS households").
		ColumnExpr("SUM(CASE WHEN t.reached_on IS NOT NULL THEN 1 ELSE 0 END) AS reached").
		ColumnExpr("SUM(CASE WHEN t.reached_by_phone THEN 1 ELSE 0 END) AS by_phone").
		ColumnExpr("SUM(CASE WHEN t.reached_by_visit THEN 1 ELSE 0 END) AS by_visit").
		ColumnExpr("SUM(CASE WHEN t.reached_on IS NULL AND t.last_outcome = ? THEN 1 ELSE 0 END) AS moved_out", OutcomeMovedOut).
		ColumnExpr("SUM(CASE WHEN t.reached_on IS NULL AND t.door AND t.status = ? THEN 1 ELSE 0 END) AS door", StatusOpen).
		ColumnExpr("SUM(CASE WHEN t.reached_on IS NULL AND t.attempts = 0 THEN 1 ELSE 0 END) AS not_tried").
		Where("t.screening_id = ?", screeningID).GroupExpr("t.grid_id").OrderExpr("t.grid_id")
	if err := g.Limit(q, "t.grid_id").Scan(ctx, &grids); err != nil {
		return fmt.Errorf("screening progress: %w", err)
	}
	byGrid := map[string]*GridProgress{}
	for _, r := range grids {
		gp := GridProgress{Grid: g.Slug(r.GridID), Progress: Progress{Households: r.Households, Reached: r.Reached,
			ByPhone: r.ByPhone, ByVisit: r.ByVisit, Unreached: r.Households - r.Reached, NotTried: r.NotTried, MovedOut: r.MovedOut, Door: r.Door}}
		v.ByGrid = append(v.ByGrid, gp)
	}
	for i := range v.ByGrid {
		byGrid[v.ByGrid[i].Grid] = &v.ByGrid[i]
	}

	var day []struct {
		GridID  string `bun:"grid_id"`
		Method  string `bun:"method"`
		ByUser  string `bun:"by_user"`
		ByName  string `bun:"by_name"`
		Count   int    `bun:"n"`
		Reached int    `bun:"reached"`
	}
	onDay, dayArgs := attemptsFrom(today, today)
	q = tx.SelectAs("attempts", "a").
		ColumnExpr("a.grid_id, a.method, a.by_user, a.by_name, COUNT(*) AS n").
		ColumnExpr("SUM(CASE WHEN a.outcome = ? THEN 1 ELSE 0 END) AS reached", OutcomeReached).
		Where("a.screening_id = ?", screeningID).Where(onDay, dayArgs...).
		GroupExpr("a.grid_id, a.method, a.by_user, a.by_name").OrderExpr("a.by_name, a.by_user")
	if err := g.Limit(q, "a.grid_id").Scan(ctx, &day); err != nil {
		return fmt.Errorf("screening progress today: %w", err)
	}
	// Per worker by user id: two colleagues may share a display name.
	workers := map[string]*WorkerProgress{}
	var order []string
	for _, r := range day {
		w := workers[r.ByUser]
		if w == nil {
			w = &WorkerProgress{Worker: r.ByName}
			workers[r.ByUser] = w
			order = append(order, r.ByUser)
		}
		gp := byGrid[g.Slug(r.GridID)]
		if r.Method == MethodPhone {
			w.CallsToday += r.Count
			if gp != nil {
				gp.CallsToday += r.Count
			}
		} else {
			w.VisitsToday += r.Count
			if gp != nil {
				gp.VisitsToday += r.Count
			}
		}
		w.ReachedToday += r.Reached
	}
	for _, id := range order {
		v.ByWorker = append(v.ByWorker, *workers[id])
	}
	for _, gp := range v.ByGrid {
		p := &v.Progress
		p.Households += gp.Households
		p.Reached += gp.Reached
		p.ByPhone += gp.ByPhone
		p.ByVisit += gp.ByVisit
		p.Unreached += gp.Unreached
		p.NotTried += gp.NotTried
		p.MovedOut += gp.MovedOut
		p.Door += gp.Door
		p.CallsToday += gp.CallsToday
		p.VisitsToday += gp.VisitsToday
	}
	return nil
}

// ListScreenings lists campaigns, newest first, with their progress left
// out (a list of campaigns is read often; the console fetches progress
// per campaign). Filter status: open or closed.
func (s *Service) ListScreenings(ctx context.Context, f Filter) ([]ScreeningView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[ScreeningView], error) {
		var none store.Page[ScreeningView]
		rows := store.PageRows[Screening](f.Limit)
		q := tx.Select(&rows)
		today := s.now().In(zone(ctx)).Format(time.DateOnly)
		switch f.Status {
		case "":
		case StatusOpen:
			q = q.Where("s.status = ? AND s.end_date >= ?", StatusOpen, today)
		case StatusClosed:
			q = q.Where("(s.status = ? OR s.end_date < ?)", StatusClosed, today)
		default:
			return none, errs.Validation(errs.Field("status", "one_of", map[string]any{"allowed": "open, closed"}))
		}
		if err := store.KeysetDesc(q, "s.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list screenings: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(sc *Screening) string { return sc.ID })
		out := make([]ScreeningView, 0, len(page.Items))
		for i := range page.Items {
			v := screeningView(&page.Items[i], g)
			if !page.Items[i].open(today) {
				v.Status = StatusClosed
			}
			out = append(out, v)
		}
		return store.Page[ScreeningView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// CloseScreening ends a campaign before (or at) its end date; attempts on
// it are refused from then on.
func (s *Service) CloseScreening(ctx context.Context, id string) (*ScreeningView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ScreeningView, error) {
		sc, err := s.screening(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if sc.Status == StatusClosed {
			return nil, errs.New(errs.KindConflict, "screening_closed", nil)
		}
		now := s.now()
		sc.Status, sc.ClosedAt, sc.UpdatedAt = StatusClosed, &now, now
		if _, err := tx.Update(sc).Column("status", "closed_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("close screening: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "screening", sc.ID, map[string]any{"fields": []string{"status"}}); err != nil {
			return nil, err
		}
		v := screeningView(sc, g)
		return &v, s.progress(ctx, tx, g, sc.ID, s.now().In(zone(ctx)).Format(time.DateOnly), &v)
	})
}
