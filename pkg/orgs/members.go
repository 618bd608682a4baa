package orgs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
)

// MemberView is a member of an org as the API shows it.
type MemberView struct {
	UserID      string   `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Phone       string   `json:"phone"`
	Role        string   `json:"role"`
	Grids       []string `json:"grids"`
	Disabled    bool     `json:"disabled"`
}

// MemberInput adds a member: a new user (with a password) or an existing
// one (by username, no password needed).
type MemberInput struct {
	Username    string   `json:"username" yaml:"username"`
	DisplayName string   `json:"display_name" yaml:"display_name"`
	Phone       string   `json:"phone" yaml:"phone"`
	Password    string   `json:"password" yaml:"password"`
	Role        string   `json:"role" yaml:"role"`
	Grids       []string `json:"grids" yaml:"grids"`
}

var usernameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,63}$`)
var staffPhoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// rolesIn lists the roles an org of each kind can hold.
var rolesIn = map[string][]string{
	KindDistrict:    {authz.RoleSubdistrictOfficial},
	KindSubdistrict: {authz.RoleSubdistrictOfficial},
	KindCommunity:   {authz.RoleCommunityAdmin, authz.RoleCommunityStaff, authz.RoleGridWorker},
}

// Who may grant which role: platform admins create first admins and
// officials; community admins staff their own community.
var grants = map[string][]string{
	authz.RolePlatformAdmin:  {authz.RoleSubdistrictOfficial, authz.RoleCommunityAdmin},
	authz.RoleCommunityAdmin: {authz.RoleCommunityAdmin, authz.RoleCommunityStaff, authz.RoleGridWorker},
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ListMembers lists the org's members. Phone numbers are shown in full to
// community admins and platform admins, masked to everyone else.
func (s *Service) ListMembers(ctx context.Context, slug string) ([]MemberView, error) {
	o, err := s.bySlug(ctx, s.DB, slug)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		UserID      string   `bun:"user_id"`
		Username    string   `bun:"username"`
		DisplayName string   `bun:"display_name"`
		Phone       string   `bun:"phone"`
		Disabled    bool     `bun:"disabled"`
		Role        string   `bun:"role"`
		Grids       []string `bun:"grids"`
	}
	err = s.DB.NewSelect().TableExpr("memberships AS m").Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("u.id AS user_id, u.username, u.display_name, u.phone, u.disabled, m.role, m.grids").
		Where("m.org_id = ?", o.ID).Order("u.username").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	caller, _ := authz.CallerFrom(ctx)
	full := caller.Role == authz.RoleCommunityAdmin || caller.Role == authz.RolePlatformAdmin
	out := make([]MemberView, 0, len(rows))
	for _, r := range rows {
		phone := r.Phone
		if !full {
			phone = MaskPhone(phone)
		}
		if r.Grids == nil {
			r.Grids = []string{}
		}
		out = append(out, MemberView{UserID: r.UserID, Username: r.Username, DisplayName: r.DisplayName, Phone: phone, Role: r.Role, Grids: r.Grids, Disabled: r.Disabled})
	}
	return out, nil
}

// MaskPhone keeps the first three and last four digits: 138****1234.
func MaskPhone(p string) string {
	if len(p) < 8 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// AddMember grants a role in the org with slug, creating the user when the
// username is new. The caller's role bounds which roles it may grant.
func (s *Service) AddMember(ctx context.Context, slug string, in MemberInput) (*MemberView, error) {
	caller, _ := authz.CallerFrom(ctx)
	var view *MemberView
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		view, err = s.addMember(ctx, tx, slug, in, grants[caller.Role])
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.Notify.Changed(ctx); err != nil {
		return nil, err
	}
	return view, nil
}

func (s *Service) addMember(ctx context.Context, tx bun.IDB, slug string, in MemberInput, mayGrant []string) (*MemberView, error) {
	o, err := s.bySlug(ctx, tx, slug)
	if err != nil {
		return nil, err
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	in.Phone = strings.TrimSpace(in.Phone)
	var fe []errs.FieldError
	if !usernameRE.MatchString(in.Username) {
		fe = append(fe, errs.Field("username", "invalid_username", nil))
	}
	if !contains(rolesIn[o.Kind], in.Role) {
		fe = append(fe, errs.Field("role", "invalid_choice", map[string]any{"choices": strings.Join(rolesIn[o.Kind], ", ")}))
	}
	if in.Phone != "" && !staffPhoneRE.MatchString(in.Phone) {
		fe = append(fe, errs.Field("phone", "invalid_mobile", nil))
	}
	if utf8.RuneCountInString(in.DisplayName) > 50 {
		fe = append(fe, errs.Field("display_name", "too_long", map[string]any{"max": 50}))
	}
	if in.Role == authz.RoleGridWorker {
		if len(in.Grids) == 0 {
			fe = append(fe, errs.Field("grids", "required", nil))
		}
		for _, g := range in.Grids {
			n, err := tx.NewSelect().Model((*Grid)(nil)).Where("tenant_id = ? AND slug = ?", o.ID, g).Count(ctx)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				fe = append(fe, errs.Field("grids", "unknown_grid", map[string]any{"grid": g}))
			}
		}
	} else if len(in.Grids) > 0 {
		fe = append(fe, errs.Field("grids", "grids_only_for_grid_workers", nil))
	}
	u, err := authn.UserByUsername(ctx, tx, in.Username)
	switch {
	case errors.Is(err, authn.ErrNoUser):
		if len(in.Password) < 8 {
			fe = append(fe, errs.Field("password", "password_too_short", map[string]any{"min": 8}))
		}
		if in.DisplayName == "" {
			fe = append(fe, errs.Field("display_name", "required", nil))
		}
	case err != nil:
		return nil, err
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	if mayGrant != nil && !contains(mayGrant, in.Role) {
		return nil, errs.New(errs.KindForbidden, "may_not_grant_role", map[string]any{"role": in.Role})
	}
	if u == nil {
		u = &authn.User{Username: in.Username, DisplayName: in.DisplayName, Phone: in.Phone}
		if err := authn.CreateUser(ctx, tx, u, in.Password, s.Argon2); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "user", u.ID, map[string]any{"username": u.Username}); err != nil {
			return nil, err
		}
	}
	exists, err := tx.NewSelect().Model((*Membership)(nil)).Where("user_id = ? AND org_id = ?", u.ID, o.ID).Exists(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, errs.New(errs.KindConflict, "already_member", map[string]any{"username": u.Username})
	}
	grids := in.Grids
	if grids == nil {
		grids = []string{}
	}
	now := time.Now().UTC()
	m := &Membership{ID: newID(), UserID: u.ID, OrgID: &o.ID, Role: in.Role, Grids: grids, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return nil, fmt.Errorf("add membership: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.ActionCreate, "membership", m.ID, map[string]any{"username": u.Username, "role": in.Role, "grids": grids}); err != nil {
		return nil, err
	}
	return &MemberView{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Phone: u.Phone, Role: m.Role, Grids: grids, Disabled: u.Disabled}, nil
}

// MeView is the signed-in user and their memberships.
type MeView struct {
	ID          string         `json:"id"`
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Memberships []MeMembership `json:"memberships"`
}

// MeMembership is one membership of the signed-in user.
type MeMembership struct {
	Org   string   `json:"org"`
	Kind  string   `json:"kind,omitempty"`
	Role  string   `json:"role"`
	Grids []string `json:"grids"`
}

// Me describes the signed-in user.
func (s *Service) Me(ctx context.Context, u *authn.User) *MeView {
	v := &MeView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Memberships: []MeMembership{}}
	for _, m := range s.Authz.MembershipsOf(u.ID) {
		mm := MeMembership{Role: m.Role, Grids: m.Grids}
		if mm.Grids == nil {
			mm.Grids = []string{}
		}
		if o, ok := s.Authz.OrgByID(m.OrgID); ok {
			mm.Org, mm.Kind = o.Slug, o.Kind
		}
		v.Memberships = append(v.Memberships, mm)
	}
	return v
}
