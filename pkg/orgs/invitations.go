package orgs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// InvitationTTL is how long an invitation may be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation offers a role in an org to someone who already has an
// account. It becomes a membership only when that user accepts: joining a
// second community is the user's decision (or a platform admin's), never
// another community's admin's alone.
type Invitation struct {
	bun.BaseModel `bun:"table:member_invitations"`
	ID            string     `bun:"id,pk"`
	OrgID         string     `bun:"org_id"`
	UserID        string     `bun:"user_id"`
	Role          string     `bun:"role"`
	Grids         []string   `bun:"grids"`
	InvitedBy     string     `bun:"invited_by"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	AcceptedAt    *time.Time `bun:"accepted_at"`
	DeclinedAt    *time.Time `bun:"declined_at"`
}

// Invitation states, as the API shows them.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationDeclined = "declined"
	InvitationExpired  = "expired"
)

func (inv *Invitation) status(now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return InvitationAccepted
	case inv.DeclinedAt != nil:
		return InvitationDeclined
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// InvitationInput invites an existing user into an org.
type InvitationInput struct {
	Username string   `json:"username"`
	Role     string   `json:"role"`
	Grids    []string `json:"grids"`
}

// Invite offers a role in the org with slug to the user named in.Username.
//
// It answers the same (nil) whether the username is unknown, belongs to
// someone who cannot be invited (the caller, a member already, a platform
// admin) or is a real invitation, and writes the same audit entry in every
// case; only the last stores a row, which only the invitee can see. So an
// admin learns nothing about who has an account. The errors it does return
// depend only on the request and the caller (a malformed username, a role
// the caller may not grant, an unknown grid of the caller's own community).
func (s *Service) Invite(ctx context.Context, slug string, in InvitationInput) error {
	caller, _ := authz.CallerFrom(ctx)
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	// Two invitations of one user at once can both find no open row and
	// both insert; the loser's unique violation is retried once, and then
	// replaces the winner's, as any later invitation would.
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return s.invite(ctx, tx, slug, in, caller)
		})
		if !store.IsUniqueViolation(err) {
			break
		}
	}
	return err
}

func (s *Service) invite(ctx context.Context, tx bun.Tx, slug string, in InvitationInput, caller authz.Caller) error {
	o, err := s.bySlug(ctx, tx, slug)
	if err != nil {
		return err
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	fe, err := s.validateGrant(ctx, tx, o, in.Username, in.Role, in.Grids)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	if !contains(grants[caller.Role], in.Role) {
		return errs.New(errs.KindForbidden, "may_not_grant_role", map[string]any{"role": in.Role})
	}
	// Depends on the org alone, not on the username: it tells nothing of
	// who has an account.
	if err := s.mayAppointAdmin(ctx, tx, caller.Role, o, in.Role); err != nil {
		return err
	}
	grids := in.Grids
	if grids == nil {
		grids = []string{}
	}
	now := time.Now().UTC()
	inv := &Invitation{ID: newID(), OrgID: o.ID, Role: in.Role, Grids: grids, InvitedBy: caller.UserID,
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	// The entry is written for every username, with a fresh id either
	// way, so the org's audit log (which the admin reads) does not tell a
	// real invitation from one that went nowhere.
	if err := audit.Record(ctx, tx, audit.ActionCreate, "invitation", inv.ID, map[string]any{"username": in.Username, "role": in.Role, "grids": grids}); err != nil {
		return err
	}
	u, err := authn.UserByUsername(ctx, tx, in.Username)
	if errors.Is(err, authn.ErrNoUser) {
		return nil
	}
	if err != nil {
		return err
	}
	ok, err := s.invitable(ctx, tx, u, o, caller.UserID)
	if err != nil || !ok {
		return err
	}
	inv.UserID = u.ID
	// A new invitation replaces an open one (a changed role, a fresh
	// week), under a new id: keeping the old id would date it.
	if _, err := tx.NewDelete().Model((*Invitation)(nil)).
		Where("org_id = ? AND user_id = ? AND accepted_at IS NULL AND declined_at IS NULL", o.ID, u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("replace invitation: %w", err)
	}
	if _, err := tx.NewInsert().Model(inv).Exec(ctx); err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	return nil
}

// invitable tells whether u may be invited into o by inviter: not
// themselves, not someone already there, not a platform admin, not a
// disabled account.
func (s *Service) invitable(ctx context.Context, tx bun.IDB, u *authn.User, o *Org, inviter string) (bool, error) {
	if u.ID == inviter || u.Disabled {
		return false, nil
	}
	member, err := isMember(ctx, tx, u.ID, o.ID)
	if err != nil || member {
		return false, err
	}
	pa, err := isPlatformAdmin(ctx, tx, u.ID)
	return !pa, err
}

// InvitationView is an invitation as its invitee sees it.
type InvitationView struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	OrgName   string    `json:"org_name"`
	OrgKind   string    `json:"org_kind"`
	Role      string    `json:"role"`
	Grids     []string  `json:"grids"`
	InvitedBy string    `json:"invited_by"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MyInvitations lists the open invitations of user u, newest first: those
// neither accepted, declined nor expired. cursor is the id of the last
// invitation of the previous page.
func (s *Service) MyInvitations(ctx context.Context, u *authn.User, limit int, cursor string) ([]InvitationView, string, error) {
	now := time.Now().UTC()
	q := s.DB.NewSelect().Model((*Invitation)(nil)).
		Where("user_id = ? AND accepted_at IS NULL AND declined_at IS NULL AND expires_at > ?", u.ID, now)
	if cursor != "" {
		q = q.Where("id < ?", cursor) // UUIDv7: ordered by time
	}
	var rows []Invitation
	if err := q.Order("id DESC").Limit(int64(limit)+1).Scan(ctx, &rows); err != nil {
		return nil, "", fmt.Errorf("list invitations: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[len(rows)-1].ID
	}
	out := make([]InvitationView, 0, len(rows))
	for i := range rows {
		v, err := s.invitationView(ctx, s.DB, &rows[i], now)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *v)
	}
	return out, next, nil
}

func (s *Service) invitationView(ctx context.Context, db bun.IDB, inv *Invitation, now time.Time) (*InvitationView, error) {
	o := new(Org)
	if err := db.NewSelect().Model(o).Column("slug", "name", "kind").Where("id = ?", inv.OrgID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("invitation org: %w", err)
	}
	by := ""
	if inviter, err := authn.UserByID(ctx, db, inv.InvitedBy); err == nil {
		by = inviter.Username
	} else if !errors.Is(err, authn.ErrNoUser) {
		return nil, err
	}
	grids := inv.Grids
	if grids == nil {
		grids = []string{}
	}
	return &InvitationView{ID: inv.ID, Org: o.Slug, OrgName: o.Name, OrgKind: o.Kind, Role: inv.Role, Grids: grids,
		InvitedBy: by, Status: inv.status(now), CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}, nil
}

// AcceptInvitation makes user u a member as the invitation with id offers.
// Everything that made the invitation acceptable is checked again now: u
// is no platform admin and not yet a member, the inviter may still grant
// the role there, the grids still exist.
func (s *Service) AcceptInvitation(ctx context.Context, u *authn.User, id string) (*InvitationView, error) {
	var view *InvitationView
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inv, o, now, err := s.openInvitation(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if err := refuseIfPlatformAdmin(ctx, tx, u.ID); err != nil {
			return err
		}
		if inv.InvitedBy == u.ID {
			return errs.New(errs.KindForbidden, "may_not_grant_self", nil)
		}
		member, err := isMember(ctx, tx, u.ID, o.ID)
		if err != nil {
			return err
		}
		if member {
			return errs.New(errs.KindConflict, "already_member", map[string]any{"username": u.Username})
		}
		// Demoting or removing the inviter withdraws what they offered.
		d := s.Authz.Check(inv.InvitedBy, o.Slug, "invitations", "write")
		if !d.Allowed || !contains(grants[d.Role], inv.Role) {
			return errs.New(errs.KindConflict, "invitation_withdrawn", nil).WithCode("invitation_withdrawn")
		}
		// A platform admin's offer of a first admin lapses once the
		// community has one.
		if err := s.mayAppointAdmin(ctx, tx, d.Role, o, inv.Role); err != nil {
			return errs.New(errs.KindConflict, "invitation_withdrawn", nil).WithCode("invitation_withdrawn")
		}
		if inv.Role == authz.RoleGridWorker {
			missing, err := s.missingGrids(ctx, tx, o, inv.Grids)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				return errs.New(errs.KindConflict, "invitation_outdated", nil).WithCode("invitation_outdated")
			}
		}
		if _, err := s.insertMembership(ctx, tx, u, o, inv.Role, inv.Grids, inv); err != nil {
			return err
		}
		inv.AcceptedAt = &now
		view, err = s.closeInvitation(ctx, tx, inv, o, "accepted_at", now)
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

// DeclineInvitation closes the invitation with id without a membership.
func (s *Service) DeclineInvitation(ctx context.Context, u *authn.User, id string) (*InvitationView, error) {
	var view *InvitationView
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inv, o, now, err := s.openInvitation(ctx, tx, u, id)
		if err != nil {
			return err
		}
		inv.DeclinedAt = &now
		view, err = s.closeInvitation(ctx, tx, inv, o, "declined_at", now)
		return err
	})
	return view, err
}

// openInvitation loads u's invitation with id and its org, and refuses one
// that is no longer open. Another user's invitation is a 404, like one
// that does not exist.
func (s *Service) openInvitation(ctx context.Context, tx bun.Tx, u *authn.User, id string) (*Invitation, *Org, time.Time, error) {
	now := time.Now().UTC()
	inv := new(Invitation)
	err := tx.NewSelect().Model(inv).Where("id = ? AND user_id = ?", id, u.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, now, errs.NotFound()
	}
	if err != nil {
		return nil, nil, now, fmt.Errorf("load invitation: %w", err)
	}
	switch inv.status(now) {
	case InvitationExpired:
		return nil, nil, now, errs.New(errs.KindConflict, "invitation_expired", nil).WithCode("invitation_expired")
	case InvitationAccepted, InvitationDeclined:
		return nil, nil, now, errs.New(errs.KindConflict, "invitation_closed", nil).WithCode("invitation_closed")
	}
	o := new(Org)
	if err := tx.NewSelect().Model(o).Where("id = ?", inv.OrgID).Scan(ctx); err != nil {
		return nil, nil, now, fmt.Errorf("invitation org: %w", err)
	}
	return inv, o, now, nil
}

// closeInvitation stamps column (accepted_at or declined_at) and records
// the invitee's answer in the org's audit log. The update only closes an
// open invitation, so of two answers at once the second is refused here
// (and rolls back whatever it did before).
func (s *Service) closeInvitation(ctx context.Context, tx bun.Tx, inv *Invitation, o *Org, column string, now time.Time) (*InvitationView, error) {
	res, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("? = ?", bun.Ident(column), now).
		Where("id = ? AND accepted_at IS NULL AND declined_at IS NULL", inv.ID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("close invitation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, errs.New(errs.KindConflict, "invitation_closed", nil).WithCode("invitation_closed")
	}
	status := inv.status(now)
	if err := audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionUpdate, "invitation", inv.ID, map[string]any{"status": status, "role": inv.Role}); err != nil {
		return nil, err
	}
	return s.invitationView(ctx, tx, inv, now)
}
