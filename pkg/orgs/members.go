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

// MemberInput adds a member: a new user (with a password and a display
// name). Only a platform admin (and tenants apply) may name an existing
// user instead; a community admin invites them (InvitationInput), and names
// the accounts it creates "<community>.<name>".
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
// officials; community admins staff their own community. A platform
// admin's community_admin is the community's first one only (see
// mayAppointAdmin).
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

// granter is who grants a role, which bounds what the grant may do.
type granter struct {
	userID string // "" for the system (tenants apply), which is nobody
	// mayGrant lists the roles it may grant; nil means any (the system).
	mayGrant []string
	// attach: it may make an existing account a member without that
	// account's consent. Only the platform admin and the system may; a
	// community admin must invite (see Invite), because attaching showed
	// another community's user's phone and told which usernames exist.
	attach bool
	// role is the granter's own role ("" for the system).
	role string
}

func granterFrom(ctx context.Context) granter {
	caller, _ := authz.CallerFrom(ctx)
	// A caller whose role grants nothing (or no caller at all) grants
	// nothing: nil is the system's "any" (systemGranter), never a caller's,
	// so the rule holds even where a route's permission would not.
	may := grants[caller.Role]
	if may == nil {
		may = []string{}
	}
	return granter{userID: caller.UserID, mayGrant: may, attach: caller.Role == authz.RolePlatformAdmin, role: caller.Role}
}

// mayAppointAdmin refuses a platform admin's community_admin in a community
// that has one already. The platform admin reads no resident data, and an
// admin of its making could (full phones, the roster): it appoints the
// first admin, and every later grant is the community's own admins'. An
// admin whose account is disabled does not count, so a community whose
// admins are all disabled can be given a new first admin. The org's row is
// locked first (a no-op update: PostgreSQL's row lock, SQLite's single
// writer), so two appointments at once cannot both find none.
func (s *Service) mayAppointAdmin(ctx context.Context, tx bun.IDB, granterRole string, o *Org, role string) error {
	if granterRole != authz.RolePlatformAdmin || o.Kind != KindCommunity || role != authz.RoleCommunityAdmin {
		return nil
	}
	if _, err := tx.NewUpdate().Model((*Org)(nil)).Set("updated_at = updated_at").Where("id = ?", o.ID).Exec(ctx); err != nil {
		return fmt.Errorf("lock org: %w", err)
	}
	has, err := tx.NewSelect().TableExpr("memberships AS m").Join("JOIN users AS u ON u.id = m.user_id").
		Where("m.org_id = ? AND m.role = ? AND u.disabled = ?", o.ID, authz.RoleCommunityAdmin, false).Exists(ctx)
	if err != nil {
		return fmt.Errorf("community admins: %w", err)
	}
	if has {
		return errs.New(errs.KindForbidden, "community_has_admin", nil).WithCode("community_has_admin")
	}
	return nil
}

// systemGranter is tenants apply: the declaration decides.
var systemGranter = granter{attach: true}

// AddMember grants a role in the org with slug, creating the user when the
// username is new. The caller's role bounds which roles it may grant.
func (s *Service) AddMember(ctx context.Context, slug string, in MemberInput) (*MemberView, error) {
	g := granterFrom(ctx)
	var view *MemberView
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		view, err = s.addMember(ctx, tx, slug, in, g)
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

// validateGrant checks what a membership and an invitation have in common:
// the username's form, a role the org can hold, and grids for (and only
// for) a grid worker. None of it depends on whether the username exists.
func (s *Service) validateGrant(ctx context.Context, tx bun.Tx, o *Org, username, role string, grids []string) ([]errs.FieldError, error) {
	var fe []errs.FieldError
	if !usernameRE.MatchString(username) {
		fe = append(fe, errs.Field("username", "invalid_username", nil))
	}
	if !contains(rolesIn[o.Kind], role) {
		fe = append(fe, errs.Field("role", "invalid_choice", map[string]any{"choices": strings.Join(rolesIn[o.Kind], ", ")}))
	}
	if role != authz.RoleGridWorker {
		if len(grids) > 0 {
			fe = append(fe, errs.Field("grids", "grids_only_for_grid_workers", nil))
		}
		return fe, nil
	}
	if len(grids) == 0 {
		return append(fe, errs.Field("grids", "required", nil)), nil
	}
	missing, err := s.missingGrids(ctx, tx, o, grids)
	if err != nil {
		return nil, err
	}
	for _, g := range missing {
		fe = append(fe, errs.Field("grids", "unknown_grid", map[string]any{"grid": g}))
	}
	return fe, nil
}

// missingGrids returns the slugs in grids that are not grids of the
// community o. Grids are tenant-owned, so the check runs scoped to o.
func (s *Service) missingGrids(ctx context.Context, tx bun.Tx, o *Org, grids []string) ([]string, error) {
	if o.Kind != KindCommunity {
		return grids, nil
	}
	ttx, err := s.DB.EnterTenant(ctx, tx, o.ID)
	if err != nil {
		return nil, err
	}
	var have []string
	if err := ttx.Select((*Grid)(nil)).Column("slug").Where("slug IN (?)", bun.List(grids)).Scan(ctx, &have); err != nil {
		return nil, fmt.Errorf("check grids: %w", err)
	}
	var missing []string
	for _, g := range grids {
		if !contains(have, g) {
			missing = append(missing, g)
		}
	}
	return missing, nil
}

func (s *Service) addMember(ctx context.Context, tx bun.Tx, slug string, in MemberInput, g granter) (*MemberView, error) {
	o, err := s.bySlug(ctx, tx, slug)
	if err != nil {
		return nil, err
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	in.Phone = strings.TrimSpace(in.Phone)
	fe, err := s.validateGrant(ctx, tx, o, in.Username, in.Role, in.Grids)
	if err != nil {
		return nil, err
	}
	if in.Phone != "" && !staffPhoneRE.MatchString(in.Phone) {
		fe = append(fe, errs.Field("phone", "invalid_mobile", nil))
	}
	if utf8.RuneCountInString(in.DisplayName) > 50 {
		fe = append(fe, errs.Field("display_name", "too_long", map[string]any{"max": 50}))
	}
	// Usernames are one namespace for the whole platform, so creating an
	// account tells whether its name was free. A community admin therefore
	// names new accounts inside its community's own namespace,
	// "<community>.<name>": any other name is refused alike, taken or not,
	// and a name inside it can only have been given by this community (its
	// admins, or the platform admin or a declaration appointing them). So
	// this request tells a community admin nothing of other communities'
	// accounts; someone with an account elsewhere joins by invitation.
	if prefix := o.Slug + "."; !g.attach && o.Kind == KindCommunity && usernameRE.MatchString(in.Username) && !strings.HasPrefix(in.Username, prefix) {
		fe = append(fe, errs.Field("username", "username_outside_community", map[string]any{"prefix": prefix}))
	}
	u, err := authn.UserByUsername(ctx, tx, in.Username)
	switch {
	case errors.Is(err, authn.ErrNoUser):
		u = nil
	case err != nil:
		return nil, err
	}
	// Nobody grants a role to themselves, whatever the role and the org.
	if u != nil && g.userID != "" && u.ID == g.userID {
		return nil, errs.New(errs.KindForbidden, "may_not_grant_self", nil)
	}
	member := false
	if u != nil {
		if member, err = isMember(ctx, tx, u.ID, o.ID); err != nil {
			return nil, err
		}
	}
	// A new account needs its fields. A granter who may not attach
	// existing accounts is held to them whether or not the username is
	// taken, so that a username of another org answers exactly as one that
	// does not exist: this request cannot be used to find out which do.
	if !member && (u == nil || !g.attach) {
		if f, bad := authn.PasswordFieldError("password", in.Username, in.Password); bad {
			fe = append(fe, f)
		}
		if in.DisplayName == "" {
			fe = append(fe, errs.Field("display_name", "required", nil))
		}
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	if g.mayGrant != nil && !contains(g.mayGrant, in.Role) {
		return nil, errs.New(errs.KindForbidden, "may_not_grant_role", map[string]any{"role": in.Role})
	}
	if err := s.mayAppointAdmin(ctx, tx, g.role, o, in.Role); err != nil {
		return nil, err
	}
	if member {
		return nil, errs.New(errs.KindConflict, "already_member", map[string]any{"username": u.Username})
	}
	attached := u != nil
	if attached {
		if !g.attach {
			// The same answer for every taken username: nothing about
			// the account (its org, name or phone) is shown.
			return nil, errs.New(errs.KindConflict, "username_unavailable", nil).WithCode("username_unavailable")
		}
		if err := refuseIfPlatformAdmin(ctx, tx, u.ID); err != nil {
			return nil, err
		}
	} else {
		u = &authn.User{Username: in.Username, DisplayName: in.DisplayName, Phone: in.Phone}
		if err := authn.CreateUser(ctx, tx, u, in.Password, s.Argon2); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "user", u.ID, map[string]any{"username": u.Username}); err != nil {
			return nil, err
		}
	}
	m, err := s.insertMembership(ctx, tx, u, o, in.Role, in.Grids, nil)
	if err != nil {
		return nil, err
	}
	v := &MemberView{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Phone: u.Phone, Role: m.Role, Grids: m.Grids, Disabled: u.Disabled}
	if attached {
		// The phone of an account that existed before was given by
		// someone else, maybe for another org; the member list shows it
		// to those entitled to it.
		v.Phone = MaskPhone(u.Phone)
	}
	return v, nil
}

// insertMembership writes the grant and its audit entry (ctx's actor, in
// org o). via names the invitation it came from, if any.
func (s *Service) insertMembership(ctx context.Context, tx bun.Tx, u *authn.User, o *Org, role string, grids []string, via *Invitation) (*Membership, error) {
	if grids == nil {
		grids = []string{}
	}
	now := time.Now().UTC()
	m := &Membership{ID: newID(), UserID: u.ID, OrgID: &o.ID, Role: role, Grids: grids, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return nil, fmt.Errorf("add membership: %w", err)
	}
	details := map[string]any{"username": u.Username, "role": role, "grids": grids}
	if via != nil {
		details["invitation"] = via.ID
		details["invited_by"] = via.InvitedBy
	}
	if err := audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionCreate, "membership", m.ID, details); err != nil {
		return nil, err
	}
	return m, nil
}

func isMember(ctx context.Context, db bun.IDB, userID, orgID string) (bool, error) {
	return db.NewSelect().Model((*Membership)(nil)).Where("user_id = ? AND org_id = ?", userID, orgID).Exists(ctx)
}

func isPlatformAdmin(ctx context.Context, db bun.IDB, userID string) (bool, error) {
	return db.NewSelect().Model((*Membership)(nil)).
		Where("user_id = ? AND org_id IS NULL AND role = ?", userID, authz.RolePlatformAdmin).Exists(ctx)
}

// refuseIfPlatformAdmin keeps platform admins out of orgs: a platform
// admin runs the deployment and reads no resident data, and a membership
// would give it exactly that. A person who also works in an org does so
// with a second, ordinary account.
func refuseIfPlatformAdmin(ctx context.Context, db bun.IDB, userID string) error {
	pa, err := isPlatformAdmin(ctx, db, userID)
	if err != nil {
		return err
	}
	if pa {
		return errs.New(errs.KindForbidden, "may_not_grant_platform_admin", nil)
	}
	return nil
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
