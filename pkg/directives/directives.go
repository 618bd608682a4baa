package directives

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Create posts a directive from the caller's office (a sub-district or a
// district) to the communities chosen, or to every community below it
// when none is: the office's row, one copy per community and the audit
// entry in one transaction across those communities. A community that is
// not below the office is a 422 on its place in the list.
func (s *Service) Create(ctx context.Context, in Input) (*View, error) {
	c, org := caller(ctx)
	if org == nil || org.IsCommunity() {
		// Directives come down from an office; a community sends none.
		return nil, errs.NotFound()
	}
	now := s.now()
	var fe []errs.FieldError
	text(&fe, "title", &in.Title, MaxTitle)
	text(&fe, "body", &in.Body, MaxBody)
	in.DueDate = strings.TrimSpace(in.DueDate)
	if in.DueDate == "" {
		fe = append(fe, errs.Field("due_date", "required", nil))
	} else if due, err := time.Parse(time.DateOnly, in.DueDate); err != nil || due.Format(time.DateOnly) != in.DueDate {
		fe = append(fe, errs.Field("due_date", "invalid_date", nil))
	} else if today := now.In(location(org.Timezone)).Format(time.DateOnly); in.DueDate < today {
		fe = append(fe, errs.Field("due_date", "date_in_past", map[string]any{"today": today}))
	}
	all, err := below(ctx, s.DB, org.Path)
	if err != nil {
		return nil, err
	}
	chosen := all
	if len(in.Communities) > 0 {
		chosen = nil
		for i, slug := range in.Communities {
			at := slices.IndexFunc(all, func(c Community) bool { return c.Slug == strings.TrimSpace(slug) })
			if at < 0 {
				fe = append(fe, errs.Field(fmt.Sprintf("communities[%d]", i), "community_not_below", nil))
				continue
			}
			if !slices.Contains(chosen, all[at]) {
				chosen = append(chosen, all[at])
			}
		}
	} else if len(all) == 0 {
		fe = append(fe, errs.Field("communities", "no_communities_below", nil))
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	uid, name := actor(c)
	issuer, err := orgName(ctx, s.DB, org.ID)
	if err != nil {
		return nil, err
	}
	d := &Directive{ID: newID(), OrgID: org.ID, Title: in.Title, Body: in.Body, DueDate: in.DueDate, AllBelow: len(in.Communities) == 0,
		CreatedBy: uid, CreatedByName: name, CreatedAt: now}
	targets := make([]Target, len(chosen))
	slugs := make([]string, len(chosen))
	for i, cm := range chosen {
		targets[i] = Target{TenantID: cm.ID, DirectiveID: d.ID, IssuerSlug: org.Slug, IssuerName: issuer, Title: d.Title, Body: d.Body,
			DueDate: d.DueDate, CreatedAt: now}
		slugs[i] = cm.Slug
	}
	err = s.DB.AcrossTenants(ctx, "directives: post a directive to the communities chosen", ids(chosen), func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return fmt.Errorf("insert directive: %w", err)
		}
		if _, err := tx.NewInsert().Model(&targets).Exec(ctx); err != nil {
			return fmt.Errorf("insert directive targets: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionCreate, "directive", d.ID,
			map[string]any{"title": d.Title, "due_date": d.DueDate, "communities": slugs, "all_below": d.AllBelow})
	})
	if err != nil {
		return nil, err
	}
	v := issuedView(d, org.Slug, issuer)
	acks := make([]CommunityAck, len(chosen))
	for i, cm := range chosen {
		acks[i] = CommunityAck{Community: cm.Slug, Name: cm.Name}
	}
	v.Communities, v.Total, v.AcknowledgedCount = acks, ptr(len(acks)), ptr(0)
	return &v, nil
}

// List lists directives newest first: in a community, the copies sent to
// it (Filter.Status narrows them to the unacknowledged or acknowledged);
// in an office, those it issued, each with how many of its communities
// have acknowledged.
func (s *Service) List(ctx context.Context, f Filter) ([]View, string, error) {
	if f.Status != "" && f.Status != StatusUnacknowledged && f.Status != StatusAcknowledged {
		return nil, "", errs.Validation(errs.Field("status", "one_of",
			map[string]any{"allowed": StatusUnacknowledged + ", " + StatusAcknowledged}))
	}
	_, org := caller(ctx)
	if org == nil {
		return nil, "", errs.NotFound()
	}
	if org.IsCommunity() {
		return s.listReceived(ctx, f)
	}
	return s.listIssued(ctx, org, f)
}

func (s *Service) listReceived(ctx context.Context, f Filter) ([]View, string, error) {
	type out struct {
		items []View
		next  string
	}
	o, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (out, error) {
		rows := store.PageRows[Target](f.Limit)
		q := tx.Select(&rows)
		switch f.Status {
		case StatusUnacknowledged:
			q = q.Where("dt.acked_at IS NULL")
		case StatusAcknowledged:
			q = q.Where("dt.acked_at IS NOT NULL")
		}
		if err := store.KeysetDesc(q, "dt.directive_id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return out{}, fmt.Errorf("list directives: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(t *Target) string { return t.DirectiveID })
		items := make([]View, len(page.Items))
		for i := range page.Items {
			items[i] = targetView(&page.Items[i])
		}
		return out{items, page.Next}, nil
	})
	return o.items, o.next, err
}

// ackCount is a directive's communities and how many acknowledged.
type ackCount struct {
	DirectiveID string `bun:"directive_id"`
	Total       int    `bun:"total"`
	Acked       int    `bun:"acked"`
}

func (s *Service) listIssued(ctx context.Context, org *authz.Org, f Filter) ([]View, string, error) {
	communities, err := below(ctx, s.DB, org.Path)
	if err != nil {
		return nil, "", err
	}
	issuer, err := orgName(ctx, s.DB, org.ID)
	if err != nil {
		return nil, "", err
	}
	rows := store.PageRows[Directive](f.Limit)
	if err := store.KeysetDesc(s.DB.NewSelect().Model(&rows).Where("d.org_id = ?", org.ID),
		"d.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list directives: %w", err)
	}
	page := store.NextPage(rows, f.Limit, func(d *Directive) string { return d.ID })
	counts := map[string]ackCount{}
	if len(page.Items) > 0 && len(communities) > 0 {
		dids := make([]string, len(page.Items))
		for i := range page.Items {
			dids[i] = page.Items[i].ID
		}
		var got []ackCount
		err := s.DB.AcrossTenants(ctx, "directives: acknowledgements of an office's directives", ids(communities), func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().TableExpr("directive_targets AS dt").
				ColumnExpr("dt.directive_id, count(*) AS total, count(dt.acked_at) AS acked").
				Where("dt.tenant_id IN (?) AND dt.directive_id IN (?)", bun.List(ids(communities)), bun.List(dids)).
				GroupExpr("dt.directive_id").Scan(ctx, &got)
		})
		if err != nil {
			return nil, "", fmt.Errorf("count acknowledgements: %w", err)
		}
		for _, c := range got {
			counts[c.DirectiveID] = c
		}
	}
	items := make([]View, len(page.Items))
	for i := range page.Items {
		v := issuedView(&page.Items[i], org.Slug, issuer)
		c := counts[page.Items[i].ID]
		v.Total, v.AcknowledgedCount = ptr(c.Total), ptr(c.Acked)
		items[i] = v
	}
	return items, page.Next, nil
}

// Get is one directive: in a community, its copy (a directive not sent to
// it is a 404, as one that never was); in an office, one it issued (any
// other is a 404) with every community's acknowledgement, who and when.
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	_, org := caller(ctx)
	if org == nil {
		return nil, errs.NotFound()
	}
	if org.IsCommunity() {
		return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*View, error) {
			return received(ctx, tx, id)
		})
	}
	return s.issued(ctx, org, id)
}

func received(ctx context.Context, tx *store.TenantTx, id string) (*View, error) {
	var t Target
	if err := tx.Select(&t).Where("dt.directive_id = ?", id).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errs.NotFound()
		}
		return nil, fmt.Errorf("load directive: %w", err)
	}
	v := targetView(&t)
	return &v, nil
}

func (s *Service) issued(ctx context.Context, org *authz.Org, id string) (*View, error) {
	var d Directive
	// The office's own directive only: another office's (a neighbouring
	// sub-district's, or the district's above) is not found here.
	if err := s.DB.NewSelect().Model(&d).Where("d.id = ? AND d.org_id = ?", id, org.ID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errs.NotFound()
		}
		return nil, fmt.Errorf("load directive: %w", err)
	}
	communities, err := below(ctx, s.DB, org.Path)
	if err != nil {
		return nil, err
	}
	issuer, err := orgName(ctx, s.DB, org.ID)
	if err != nil {
		return nil, err
	}
	var targets []Target
	if len(communities) > 0 {
		err = s.DB.AcrossTenants(ctx, "directives: acknowledgements of an office's directives", ids(communities), func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().Model(&targets).Column("tenant_id", "directive_id", "acked_at", "acked_by_name").
				Where("dt.tenant_id IN (?) AND dt.directive_id = ?", bun.List(ids(communities)), d.ID).Scan(ctx)
		})
		if err != nil {
			return nil, fmt.Errorf("load acknowledgements: %w", err)
		}
	}
	byID := make(map[string]Community, len(communities))
	for _, c := range communities {
		byID[c.ID] = c
	}
	v := issuedView(&d, org.Slug, issuer)
	acked := 0
	for _, t := range targets {
		c := byID[t.TenantID]
		a := CommunityAck{Community: c.Slug, Name: c.Name, Acknowledged: t.AckedAt != nil, AcknowledgedAt: t.AckedAt}
		if t.AckedByName != nil {
			a.AcknowledgedBy = *t.AckedByName
		}
		if a.Acknowledged {
			acked++
		}
		v.Communities = append(v.Communities, a)
	}
	// Those still waiting first, then by name: what the office acts on.
	slices.SortFunc(v.Communities, func(a, b CommunityAck) int {
		if a.Acknowledged != b.Acknowledged {
			if !a.Acknowledged {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Community, b.Community)
	})
	v.Total, v.AcknowledgedCount = ptr(len(targets)), ptr(acked)
	return &v, nil
}

// Ack acknowledges a directive sent to the caller's community. The first
// acknowledgement is kept: acknowledging again answers the directive as
// it is, with the first acknowledger and time, and changes nothing.
func (s *Service) Ack(ctx context.Context, id string) (*View, error) {
	c, org := caller(ctx)
	if org == nil || !org.IsCommunity() {
		return nil, errs.NotFound()
	}
	uid, name := actor(c)
	now := s.now()
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*View, error) {
		res, err := tx.Update((*Target)(nil)).Set("acked_at = ?, acked_by = ?, acked_by_name = ?", now, uid, name).
			Where("dt.directive_id = ? AND dt.acked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("acknowledge directive: %w", err)
		}
		v, err := received(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := audit.Record(ctx, tx, audit.ActionUpdate, "directive", id, map[string]any{"acknowledged": true}); err != nil {
				return nil, err
			}
		}
		return v, nil
	})
}

func issuedView(d *Directive, slug, name string) View {
	return View{ID: d.ID, From: slug, FromName: name, Title: d.Title, Body: d.Body, DueDate: d.DueDate, CreatedAt: d.CreatedAt,
		CreatedBy: d.CreatedByName, AllBelow: ptr(d.AllBelow)}
}

func ptr[T any](v T) *T { return &v }

// text trims a required free-text field and checks its length.
func text(fe *[]errs.FieldError, field string, v *string, max int) {
	*v = strings.TrimSpace(*v)
	switch n := len([]rune(*v)); {
	case n == 0:
		*fe = append(*fe, errs.Field(field, "required", nil))
	case n > max:
		*fe = append(*fe, errs.Field(field, "too_long", map[string]any{"max": max}))
	}
}
