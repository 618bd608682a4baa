package orgs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// MemberPatch changes a member: the account's name and phone, and the
// role and grids held in the org. A nil field is left as it is.
type MemberPatch struct {
	DisplayName *string  `json:"display_name"`
	Phone       *string  `json:"phone"`
	Role        *string  `json:"role"`
	Grids       []string `json:"grids"` // nil: unchanged
}

// member is a member of o as its managers see it.
type member struct {
	u *authn.User
	m *Membership
}

// manageable loads userID's membership of the org with slug for a change
// by the caller: the caller may grant the member's role (so a community
// admin manages its staff and admins, never an official or the platform
// admin), and never changes itself. account reports whether the change
// also touches the account (name, phone, password, disabled), which a
// community admin may only do to accounts named inside its community
// ("<community>."): an account attached elsewhere too is its owners'.
// Another org's member, or no one, is a 404.
func (s *Service) manageable(ctx context.Context, tx bun.Tx, slug, userID string, account bool) (*Org, member, error) {
	g := granterFrom(ctx)
	o, err := s.bySlug(ctx, tx, slug)
	if err != nil {
		return nil, member{}, err
	}
	m := new(Membership)
	err = tx.NewSelect().Model(m).Where("user_id = ? AND org_id = ?", userID, o.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, member{}, errs.New(errs.KindNotFound, "not_found", nil)
	}
	if err != nil {
		return nil, member{}, fmt.Errorf("load membership: %w", err)
	}
	u, err := authn.UserByID(ctx, tx, userID)
	if err != nil {
		return nil, member{}, err
	}
	if g.userID != "" && u.ID == g.userID {
		return nil, member{}, errs.New(errs.KindForbidden, "may_not_grant_self", nil)
	}
	if g.mayGrant != nil && !contains(g.mayGrant, m.Role) {
		return nil, member{}, errs.New(errs.KindForbidden, "may_not_grant_role", map[string]any{"role": m.Role})
	}
	if account && !g.attach && o.Kind == KindCommunity && !strings.HasPrefix(u.Username, o.Slug+".") {
		return nil, member{}, errs.New(errs.KindForbidden, "account_outside_community", map[string]any{"prefix": o.Slug + "."})
	}
	return o, member{u: u, m: m}, nil
}

// UpdateMember applies p to the member userID of the org with slug. The
// new role is bounded as a grant is (AddMember): what the caller may
// grant, and after a community's first admin, only its own admins
// appoint admins.
func (s *Service) UpdateMember(ctx context.Context, slug, userID string, p MemberPatch) (*MemberView, error) {
	g := granterFrom(ctx)
	var view *MemberView
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		account := p.DisplayName != nil || p.Phone != nil
		o, x, err := s.manageable(ctx, tx, slug, userID, account)
		if err != nil {
			return err
		}
		ctx = audit.InOrg(ctx, o.Slug, o.Path)
		role, grids := x.m.Role, x.m.Grids
		if p.Role != nil {
			role = *p.Role
		}
		if p.Grids != nil {
			grids = p.Grids
		}
		if role != authz.RoleGridWorker {
			grids = []string{}
		}
		var fe []errs.FieldError
		if p.Role != nil || p.Grids != nil {
			if fe, err = s.validateGrant(ctx, tx, o, x.u.Username, role, grids); err != nil {
				return err
			}
		}
		name, phone := x.u.DisplayName, x.u.Phone
		if p.DisplayName != nil {
			name = strings.TrimSpace(*p.DisplayName)
			if name == "" {
				fe = append(fe, errs.Field("display_name", "required", nil))
			} else if utf8.RuneCountInString(name) > 50 {
				fe = append(fe, errs.Field("display_name", "too_long", map[string]any{"max": 50}))
			}
		}
		if p.Phone != nil {
			if phone = strings.TrimSpace(*p.Phone); phone != "" && !staffPhoneRE.MatchString(phone) {
				fe = append(fe, errs.Field("phone", "invalid_mobile", nil))
			}
		}
		if len(fe) > 0 {
			return errs.Validation(fe...)
		}
		if role != x.m.Role {
			if g.mayGrant != nil && !contains(g.mayGrant, role) {
				return errs.New(errs.KindForbidden, "may_not_grant_role", map[string]any{"role": role})
			}
			if err := s.mayAppointAdmin(ctx, tx, g.role, o, role); err != nil {
				return err
			}
		}
		var changed []string
		now := time.Now().UTC()
		if name != x.u.DisplayName || phone != x.u.Phone {
			if _, err := tx.NewUpdate().Model((*authn.User)(nil)).Set("display_name = ?", name).Set("phone = ?", phone).
				Set("updated_at = ?", now).Where("id = ?", x.u.ID).Exec(ctx); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
			if name != x.u.DisplayName {
				changed = append(changed, "display_name")
			}
			if phone != x.u.Phone {
				changed = append(changed, "phone")
			}
		}
		if role != x.m.Role || !slices.Equal(grids, x.m.Grids) {
			if _, err := tx.NewUpdate().Model(x.m).Set("role = ?", role).Set("grids = ?", grids).Set("updated_at = ?", now).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("update membership: %w", err)
			}
			changed = append(changed, "role", "grids")
		}
		view = &MemberView{UserID: x.u.ID, Username: x.u.Username, DisplayName: name, Phone: phone, Role: role, Grids: grids, Disabled: x.u.Disabled}
		if len(changed) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.ActionUpdate, "membership", x.m.ID, map[string]any{"username": x.u.Username, "fields": changed, "role": role, "grids": grids})
	})
	if err != nil {
		return nil, err
	}
	return view, s.changed(ctx, userID)
}

// SetMemberDisabled disables (or enables again) the account of the member
// userID of the org with slug: a disabled account signs in nowhere and its
// sessions end. Audited.
func (s *Service) SetMemberDisabled(ctx context.Context, slug, userID string, disabled bool) error {
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, x, err := s.manageable(ctx, tx, slug, userID, true)
		if err != nil || x.u.Disabled == disabled {
			return err
		}
		if err := authn.SetDisabled(ctx, tx, x.u.ID, disabled); err != nil {
			return err
		}
		action := "enable"
		if disabled {
			action = "disable"
		}
		return audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionUpdate, "user", x.u.ID, map[string]any{"username": x.u.Username, "fields": []string{"disabled"}, "change": action})
	})
	if err != nil {
		return err
	}
	return s.changed(ctx, userID)
}

// ResetMemberPassword gives the member userID of the org with slug a new
// random password, returned to be shown once and handed over; the old
// one and every session end. Audited (never the password).
func (s *Service) ResetMemberPassword(ctx context.Context, slug, userID string) (string, error) {
	password := RandomPassword()
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, x, err := s.manageable(ctx, tx, slug, userID, true)
		if err != nil {
			return err
		}
		if err := authn.SetPassword(ctx, tx, x.u.ID, password, s.Argon2); err != nil {
			return err
		}
		return audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionUpdate, "user", x.u.ID, map[string]any{"username": x.u.Username, "fields": []string{"password"}, "source": "reset"})
	})
	if err != nil {
		return "", err
	}
	return password, s.changed(ctx, userID)
}

// changed tells authz (memberships, disabled accounts) and authn's cache.
func (s *Service) changed(ctx context.Context, userID string) error {
	if s.Users != nil {
		s.Users.ForgetUser(userID)
	}
	return s.Notify.Changed(ctx)
}

// RenameGrid renames the grid with slug in the community in ctx.
func (s *Service) RenameGrid(ctx context.Context, slug, name string) (*Grid, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, errs.Validation(errs.Field("name", "required", nil))
	case utf8.RuneCountInString(name) > 100:
		return nil, errs.Validation(errs.Field("name", "too_long", map[string]any{"max": 100}))
	}
	g := new(Grid)
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		err := tx.Select(g).Where("slug = ?", slug).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.KindNotFound, "not_found", nil)
		}
		if err != nil || g.Name == name {
			return err
		}
		g.Name, g.UpdatedAt = name, time.Now().UTC()
		if _, err := tx.Update(g).Set("name = ?", g.Name).Set("updated_at = ?", g.UpdatedAt).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("rename grid: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionUpdate, "grid", g.ID, map[string]any{"slug": g.Slug, "fields": []string{"name"}})
	})
	if err != nil {
		return nil, err
	}
	s.gridsChanged(g.TenantID)
	return g, nil
}
