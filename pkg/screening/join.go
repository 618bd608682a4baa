package screening

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store"
)

// HouseholdsChanged keeps open campaigns whole when the roster changes: a
// household added to (or moved into) a grid in an open campaign's scope
// joins it, and an open task follows its household to another grid. The
// roster calls it in its own transaction (a household form, an import
// batch), so a household is never on the roster without its tasks.
func (s *Service) HouseholdsChanged(ctx context.Context, tx *store.TenantTx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	c, err := orgs.CommunityOf(ctx, tx)
	if err != nil {
		return err
	}
	var open []Screening
	if err := tx.Select(&open).Where("s.status = ? AND s.end_date >= ?", StatusOpen, c.Day(s.now())).Scan(ctx); err != nil {
		return fmt.Errorf("open screenings: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	for i := range open {
		if _, err := s.addTasks(ctx, tx, &open[i], ids); err != nil {
			return err
		}
	}
	// A task not yet done moves with its household.
	ids2 := make([]string, 0, len(open))
	for _, sc := range open {
		ids2 = append(ids2, sc.ID)
	}
	_, err = tx.Update((*Task)(nil)).
		Set("grid_id = (SELECT h.grid_id FROM households AS h WHERE h.tenant_id = t.tenant_id AND h.id = t.household_id)").
		Set("updated_at = ?", s.now()).
		Where("t.status = ? AND t.screening_id IN (?) AND t.household_id IN (?)", StatusOpen, bun.List(ids2), bun.List(ids)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("move tasks with their households: %w", err)
	}
	return nil
}
