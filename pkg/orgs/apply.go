package orgs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/store"
)

// The Apply* methods make the database match a declaration (tenants/)
// and report whether anything changed, so applying the same declaration
// twice changes nothing. They run in the caller's transaction, so a bad
// declaration is rejected whole.

// ApplyOrg creates the org or brings its name, time zone and settings in
// line. Its kind and parent never change.
func (s *Service) ApplyOrg(ctx context.Context, tx bun.Tx, in OrgInput) (bool, error) {
	in.normalize()
	o := new(Org)
	err := tx.NewSelect().Model(o).Where("slug = ?", in.Slug).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		_, err := s.insertOrg(ctx, tx, in)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	if o.Kind != in.Kind {
		return false, fmt.Errorf("org %s is a %s, not a %s", in.Slug, o.Kind, in.Kind)
	}
	want := o.Settings
	if in.Settings != nil {
		want = *in.Settings
	}
	if o.Name == in.Name && o.Timezone == in.Timezone && o.Settings.Equal(want) {
		return false, nil
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	o.Name, o.Timezone, o.Settings, o.UpdatedAt = in.Name, in.Timezone, want, time.Now().UTC()
	if _, err := tx.NewUpdate().Model(o).Column("name", "timezone", "settings", "updated_at").WherePK().Exec(ctx); err != nil {
		return false, fmt.Errorf("update org %s: %w", in.Slug, err)
	}
	return true, audit.Record(ctx, tx, audit.ActionUpdate, "org", o.ID, map[string]any{"slug": o.Slug})
}

// ApplyGrid creates the grid in the community or renames it.
func (s *Service) ApplyGrid(ctx context.Context, tx bun.Tx, community string, in GridInput) (bool, error) {
	o, err := s.bySlug(ctx, tx, community)
	if err != nil {
		return false, err
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	ttx, err := s.DB.EnterTenant(ctx, tx, o.ID)
	if err != nil {
		return false, err
	}
	g := new(Grid)
	err = ttx.Select(g).Where("slug = ?", in.Slug).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		_, err := createGrid(ctx, ttx, in)
		s.gridsChanged(o.ID)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	if g.Name == in.Name {
		return false, nil
	}
	if _, err := ttx.Update(g).Set("name = ?", in.Name).Set("updated_at = ?", time.Now().UTC()).WherePK().Exec(ctx); err != nil {
		return false, fmt.Errorf("rename grid %s: %w", in.Slug, err)
	}
	s.gridsChanged(o.ID)
	return true, audit.Record(ctx, tx, audit.ActionUpdate, "grid", g.ID, map[string]any{"slug": g.Slug})
}

// ApplyMember makes the user a member of the org with the declared role
// and grids. A new user gets password, or a generated one that is returned
// so it can be shown once. An existing user's password is never touched.
func (s *Service) ApplyMember(ctx context.Context, tx bun.Tx, org string, in MemberInput) (changed bool, generated string, err error) {
	o, err := s.bySlug(ctx, tx, org)
	if err != nil {
		return false, "", err
	}
	u, err := authn.UserByUsername(ctx, tx, in.Username)
	if errors.Is(err, authn.ErrNoUser) {
		if in.Password == "" {
			in.Password = RandomPassword()
			generated = in.Password
		}
		_, err := s.addMember(ctx, tx, org, in, systemGranter)
		return err == nil, generated, err
	}
	if err != nil {
		return false, "", err
	}
	ctx = audit.InOrg(ctx, o.Slug, o.Path)
	m := new(Membership)
	err = tx.NewSelect().Model(m).Where("user_id = ? AND org_id = ?", u.ID, o.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		_, err := s.addMember(ctx, tx, org, in, systemGranter)
		return err == nil, "", err
	}
	if err != nil {
		return false, "", err
	}
	// A declaration cannot put a platform admin in an org either.
	if err := refuseIfPlatformAdmin(ctx, tx, u.ID); err != nil {
		return false, "", err
	}
	grids := in.Grids
	if grids == nil {
		grids = []string{}
	}
	if m.Role == in.Role && slices.Equal(m.Grids, grids) && (in.DisplayName == "" || u.DisplayName == in.DisplayName) {
		return false, "", nil
	}
	if _, err := tx.NewUpdate().Model(m).Set("role = ?", in.Role).Set("grids = ?", grids).Set("updated_at = ?", time.Now().UTC()).WherePK().Exec(ctx); err != nil {
		return false, "", fmt.Errorf("update membership: %w", err)
	}
	if in.DisplayName != "" && u.DisplayName != in.DisplayName {
		if _, err := tx.NewUpdate().Model(u).Set("display_name = ?", in.DisplayName).WherePK().Exec(ctx); err != nil {
			return false, "", err
		}
	}
	return true, "", audit.Record(ctx, tx, audit.ActionUpdate, "membership", m.ID, map[string]any{"username": u.Username, "role": in.Role, "grids": grids})
}

// EnsurePlatformAdmin creates the platform admin "admin" on first start.
// With no password given it generates one and returns it to be shown once.
//
// When admin exists and password is set, password replaces admin's current
// one if it differs (reset reports it, and it is audited).
func (s *Service) EnsurePlatformAdmin(ctx context.Context, password string) (created, reset bool, generated string, err error) {
	created, reset, generated, err = s.ensurePlatformAdmin(ctx, password)
	if store.IsUniqueViolation(err) {
		// Another process starting at the same moment (two API replicas
		// on a fresh database) created it between our look and our
		// insert: look again, and find it.
		created, reset, generated, err = s.ensurePlatformAdmin(ctx, password)
	}
	return created, reset, generated, err
}

func (s *Service) ensurePlatformAdmin(ctx context.Context, password string) (created, reset bool, generated string, err error) {
	err = s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := authn.UserByUsername(ctx, tx, "admin")
		if err == nil {
			// The environment names the password: a later start with a new
			// one applies it, rather than keeping an old one silently.
			if password == "" {
				return nil
			}
			changed, err := s.resetPassword(ctx, tx, u, password)
			reset = changed
			return err
		}
		if !errors.Is(err, authn.ErrNoUser) {
			return err
		}
		if password == "" {
			password = RandomPassword()
			generated = password
		}
		u = &authn.User{Username: "admin", DisplayName: "平台管理员 Platform admin"}
		if err := authn.CreateUser(ctx, tx, u, password, s.Argon2); err != nil {
			return err
		}
		now := time.Now().UTC()
		m := &Membership{ID: newID(), UserID: u.ID, Role: authz.RolePlatformAdmin, Grids: []string{}, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return fmt.Errorf("platform admin membership: %w", err)
		}
		created = true
		return audit.Record(ctx, tx, audit.ActionCreate, "user", u.ID, map[string]any{"username": "admin", "role": authz.RolePlatformAdmin})
	})
	if err == nil && created {
		err = s.Notify.Changed(ctx)
	}
	return created, reset, generated, err
}

// ResetPassword sets username's password to password unless it already is
// that, and reports whether it changed: how a password named by the
// environment (the demo users' WANJIA_DEMO_PASSWORD) takes effect on a
// later start.
func (s *Service) ResetPassword(ctx context.Context, username, password string) (bool, error) {
	changed := false
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := authn.UserByUsername(ctx, tx, username)
		if err != nil {
			return err
		}
		changed, err = s.resetPassword(ctx, tx, u, password)
		return err
	})
	return changed, err
}

func (s *Service) resetPassword(ctx context.Context, tx bun.Tx, u *authn.User, password string) (bool, error) {
	if same, err := authn.CheckPassword(u.PasswordHash, password); err != nil || same {
		return false, err
	}
	if err := authn.SetPassword(ctx, tx, u.ID, password, s.Argon2); err != nil {
		return false, err
	}
	return true, audit.Record(ctx, tx, audit.ActionUpdate, "user", u.ID, map[string]any{"username": u.Username, "fields": []string{"password"}, "source": "environment"})
}

// RandomPassword returns 16 characters from an alphabet without look-alikes.
func RandomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}
