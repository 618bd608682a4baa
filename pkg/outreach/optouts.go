package outreach

import (
	"context"
	"fmt"
	"strings"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Sources of an opt-out.
const (
	SourceReply = "reply"
	SourceStaff = "staff"
)

// OptOutInput names a phone.
type OptOutInput struct {
	Phone string `json:"phone"`
}

// OptOutView is an opt-out as the API shows it.
type OptOutView struct {
	ID        string `json:"id"`
	Phone     string `json:"phone"`
	Source    string `json:"source"`
	CreatedAt string `json:"created_at"`
}

func phoneInput(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs.Validation(errs.Field("phone", "required", nil))
	}
	n, err := pii.NormalizePhone(v)
	if err != nil {
		return "", errs.Validation(errs.Field("phone", "phone_format", nil))
	}
	return n, nil
}

// AddOptOut puts a phone on the community's opt-out list (staff taking a
// resident's word by phone or at the door). Adding one already there
// answers the existing entry.
func (s *Service) AddOptOut(ctx context.Context, in OptOutInput) (*OptOutView, error) {
	phone, err := phoneInput(in.Phone)
	if err != nil {
		return nil, err
	}
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*OptOutView, error) {
		o, err := s.optOut(ctx, tx, phone, SourceStaff, actor(ctx))
		if err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "outreach_opt_out", o.ID, nil); err != nil {
			return nil, err
		}
		return &OptOutView{ID: o.ID, Phone: scope.ViewOf(ctx).Phone(o.Phone), Source: o.Source, CreatedAt: o.CreatedAt.Format("2006-01-02T15:04:05Z07:00")}, nil
	})
}

func (s *Service) optOut(ctx context.Context, tx *store.TenantTx, phone, source, by string) (*OptOut, error) {
	o := &OptOut{TenantID: tx.Tenant(), ID: newID(), Phone: phone, Source: source, CreatedBy: by, CreatedAt: s.now()}
	if _, err := tx.Insert(o).On("CONFLICT (tenant_id, phone) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("add opt-out: %w", err)
	}
	if err := tx.Select(o).Where("o.phone = ?", phone).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load opt-out: %w", err)
	}
	return o, nil
}

// RemoveOptOut takes a phone off the list. A phone not on it is a 404.
func (s *Service) RemoveOptOut(ctx context.Context, in OptOutInput) error {
	phone, err := phoneInput(in.Phone)
	if err != nil {
		return err
	}
	return scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) error {
		var ids []string
		if err := tx.Delete((*OptOut)(nil)).Where("o.phone = ?", phone).Returning("id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("remove opt-out: %w", err)
		}
		if len(ids) == 0 {
			return notFound()
		}
		return audit.Record(ctx, tx, audit.ActionDelete, "outreach_opt_out", ids[0], nil)
	})
}

// ListOptOuts lists the community's opt-outs, newest first.
func (s *Service) ListOptOuts(ctx context.Context, f Filter) ([]OptOutView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (store.Page[OptOutView], error) {
		rows := store.PageRows[OptOut](f.Limit)
		if err := store.KeysetDesc(tx.Select(&rows), "o.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[OptOutView]{}, fmt.Errorf("list opt-outs: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(o *OptOut) string { return o.ID })
		view := scope.ViewOf(ctx)
		out := make([]OptOutView, 0, len(page.Items))
		for _, o := range page.Items {
			out = append(out, OptOutView{ID: o.ID, Phone: view.Phone(o.Phone), Source: o.Source, CreatedAt: o.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
		}
		return store.Page[OptOutView]{Items: out, Next: page.Next}, nil
	})
	if err == nil {
		ids, phones := make([]string, len(p.Items)), make([]string, len(p.Items))
		for i, o := range p.Items {
			ids[i], phones[i] = o.ID, o.Phone
		}
		err = scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "outreach_opt_outs", IDs: ids, Phones: phones})
	}
	return p.Items, p.Next, err
}

// optedOut is the community's opt-out list as a set, for a campaign being
// made (a community's list is short).
func (s *Service) optedOut(ctx context.Context, tx *store.TenantTx) (map[string]bool, error) {
	var phones []string
	if err := tx.SelectAs("outreach_opt_outs", "o").Column("o.phone").Scan(ctx, &phones); err != nil {
		return nil, fmt.Errorf("opt-outs: %w", err)
	}
	out := make(map[string]bool, len(phones))
	for _, p := range phones {
		out[p] = true
	}
	return out, nil
}

// The words a reply opts out or back in with, as residents write them.
var (
	stopWords  = map[string]bool{"退订": true, "TD": true, "T": true, "STOP": true, "UNSUBSCRIBE": true, "退订短信": true}
	startWords = map[string]bool{"START": true, "订阅": true, "恢复": true}
)

// classify reads a reply: "opt_out", "opt_in" or "reply".
func classify(text string) string {
	w := strings.ToUpper(strings.TrimSpace(strings.Trim(strings.TrimSpace(text), "。.!！")))
	if stopWords[w] {
		return "opt_out"
	}
	if startWords[w] {
		return "opt_in"
	}
	return "reply"
}
