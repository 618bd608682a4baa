package authn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// User is an account. authn owns who someone is; what they may do in which
// org (memberships) belongs to pkg/orgs.
type User struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id,pk" json:"id"`
	Username      string    `bun:"username" json:"username"`
	DisplayName   string    `bun:"display_name" json:"display_name"`
	Phone         string    `bun:"phone" json:"phone,omitempty"`
	PasswordHash  string    `bun:"password_hash" json:"-"`
	Disabled      bool      `bun:"disabled" json:"disabled"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at" json:"-"`
}

// ErrNoUser means no such user.
var ErrNoUser = errors.New("no such user")

// UserByUsername loads a user by username.
func UserByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("username = ?", username).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoUser
		}
		return nil, fmt.Errorf("load user %q: %w", username, err)
	}
	return u, nil
}

// UserByID loads a user by id.
func UserByID(ctx context.Context, db bun.IDB, id string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoUser
		}
		return nil, fmt.Errorf("load user %s: %w", id, err)
	}
	return u, nil
}

// CreateUser inserts a user with a hashed password. The caller runs it in
// its transaction, beside the membership and the audit entry. The password
// must pass the policy (a 422 on "password" otherwise): every way a user
// comes to be, the admin from the environment included, goes through here.
func CreateUser(ctx context.Context, db bun.IDB, u *User, password string, p Argon2Params) error {
	if err := ValidatePassword(u.Username, password); err != nil {
		return err
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return err
	}
	if u.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		u.ID = id.String()
	}
	now := time.Now().UTC()
	u.PasswordHash, u.CreatedAt, u.UpdatedAt = hash, now, now
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// SetPassword replaces a user's password and ends their sessions. The new
// password must pass the policy, like a new user's.
func SetPassword(ctx context.Context, db bun.IDB, userID, password string, p Argon2Params) error {
	u, err := UserByID(ctx, db, userID)
	if err != nil {
		return err
	}
	if err := ValidatePassword(u.Username, password); err != nil {
		return err
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := db.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	_, err = db.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now).Where("user_id = ? AND revoked_at IS NULL", userID).Exec(ctx)
	return err
}

// SetDisabled disables or enables a user; disabling also ends every
// session it has (its refresh tokens), as a new password does.
func SetDisabled(ctx context.Context, db bun.IDB, userID string, disabled bool) error {
	now := time.Now().UTC()
	if _, err := db.NewUpdate().Model((*User)(nil)).Set("disabled = ?", disabled).Set("updated_at = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	if !disabled {
		return nil
	}
	_, err := db.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now).Where("user_id = ? AND revoked_at IS NULL", userID).Exec(ctx)
	return err
}
