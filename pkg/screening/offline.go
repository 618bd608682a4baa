package screening

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// OfflineLimit bounds the households one download carries: a grid has a
// few hundred; a whole community's list is more than a phone should hold.
const OfflineLimit = 2000

// offlineLast is how many of a household's attempts a download carries,
// as many as the call card shows.
const offlineLast = 3

// OfflineMember is a resident as the card shows them: no phone, no ID.
type OfflineMember struct {
	Name      string   `json:"name"`
	BirthYear *int     `json:"birth_year,omitempty"`
	Tags      []string `json:"tags"`
}

// OfflineTask is an open task with what a worker reads at the door.
type OfflineTask struct {
	TaskView
	Members []OfflineMember `json:"members"`
	Last    []AttemptView   `json:"last"`
}

// OfflineList is what a worker downloads to work a campaign without a
// network: every open task of the caller's grids (both lists), each with
// its household's members and last attempts, phones as the caller's role
// sees them.
type OfflineList struct {
	Screening ScreeningView `json:"screening"`
	Tasks     []OfflineTask `json:"tasks"`
	Cut       bool          `json:"cut"` // more than OfflineLimit: the rest were left out
}

// OfflineTasks reads a campaign's open tasks for offline use in one read
// transaction, limited to the caller's grids, and records the read as a
// list of the households it returned (filter "offline").
func (s *Service) OfflineTasks(ctx context.Context, screeningID string) (*OfflineList, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*OfflineList, error) {
		sc, err := s.screening(ctx, tx, screeningID)
		if err != nil {
			return nil, err
		}
		out := &OfflineList{Screening: screeningView(sc, g), Tasks: []OfflineTask{}}
		var rows []taskRow
		if err := tasks(tx, g, &rows, screeningID).Where("t.status = ?", StatusOpen).
			OrderExpr("t.call_order").Limit(OfflineLimit + 1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("offline tasks: %w", err)
		}
		if len(rows) > OfflineLimit {
			rows, out.Cut = rows[:OfflineLimit], true
		}
		if len(rows) == 0 {
			return out, nil
		}
		v := scope.ViewOf(ctx)
		households := make([]string, 0, len(rows))
		taskIDs := make([]string, 0, len(rows))
		at := make(map[string][]int, len(rows)) // household → its tasks' places
		byTask := make(map[string]int, len(rows))
		for i := range rows {
			out.Tasks = append(out.Tasks, OfflineTask{TaskView: taskView(&rows[i], g, v), Members: []OfflineMember{}, Last: []AttemptView{}})
			households = append(households, rows[i].HouseholdID)
			at[rows[i].HouseholdID] = append(at[rows[i].HouseholdID], i)
			taskIDs = append(taskIDs, rows[i].ID)
			byTask[rows[i].ID] = i
		}
		var people []struct {
			HouseholdID string     `bun:"household_id"`
			Name        string     `bun:"name"`
			BirthYear   *int       `bun:"birth_year"`
			Tags        store.Tags `bun:"tags"`
		}
		if err := tx.SelectAs("residents", "r").Column("r.household_id", "r.name", "r.birth_year", "r.tags").
			Where("r.household_id IN (?) AND r.deleted_at IS NULL", bun.List(households)).
			OrderExpr("r.household_id, r.birth_year, r.id").Scan(ctx, &people); err != nil {
			return nil, fmt.Errorf("offline members: %w", err)
		}
		for _, p := range people {
			tags := []string(p.Tags)
			if tags == nil {
				tags = []string{}
			}
			for _, i := range at[p.HouseholdID] {
				out.Tasks[i].Members = append(out.Tasks[i].Members, OfflineMember{Name: p.Name, BirthYear: p.BirthYear, Tags: tags})
			}
		}
		var history []Attempt
		if err := tx.Select(&history).Where("a.task_id IN (?)", bun.List(taskIDs)).OrderExpr("a.at DESC, a.id DESC").Scan(ctx); err != nil {
			return nil, fmt.Errorf("offline attempts: %w", err)
		}
		for i := range history {
			if history[i].TaskID == nil {
				continue
			}
			t := &out.Tasks[byTask[*history[i].TaskID]]
			if len(t.Last) < offlineLast {
				t.Last = append(t.Last, attemptView(&history[i], g))
			}
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "households", IDs: households,
			Filters: map[string]any{"screening_id": screeningID, "offline": true}}); err != nil {
			return nil, err
		}
		return out, nil
	})
}
