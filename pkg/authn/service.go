// Package authn is who someone is: users and their passwords (argon2id),
// login with throttling, short-lived signed access tokens with rotating
// keys, and refresh tokens that rotate on every use.
package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn/pwpolicy"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/observe"
	"github.com/wanjia/wanjia/pkg/store"
)

// refreshToken is one refresh token, stored as a hash. A family is one
// login: each refresh replaces the token with a new one of the same family.
type refreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`
	ID            string     `bun:"id,pk"`
	FamilyID      string     `bun:"family_id"`
	UserID        string     `bun:"user_id"`
	TokenHash     string     `bun:"token_hash"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	RotatedAt     *time.Time `bun:"rotated_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// Tokens is what login and refresh answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// Service signs people in and out.
type Service struct {
	DB         *store.DB
	Keys       *Keys
	Throttle   *Throttle
	Argon2     Argon2Params
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	// Revoked lists the signed-out sessions whose access tokens are
	// refused before they expire; its Run must run in a process that
	// serves requests, to learn other processes' sign-outs.
	Revoked *Revocations

	// checkPassword is CheckPassword; tests count the calls through it.
	checkPassword func(hash, pw string) (bool, error)

	dummyOnce sync.Once
	dummyHash string

	users userCache

	// throttled counts the attempts refused by the throttle; only the
	// first of a window per address and username is in the audit log.
	throttled atomic.Int64
}

// ThrottledLogins is how many sign-in attempts the throttle refused since
// the process started (wanjia_login_throttled_total).
func (s *Service) ThrottledLogins() int64 { return s.throttled.Load() }

// ForgetUser drops a user from the authentication cache after a change to
// it (disabled, renamed), so this process sees the change at once.
func (s *Service) ForgetUser(id string) { s.users.forget(id) }

// Token lifetimes. Keys refuses access tokens that claim to live longer
// than DefaultAccessTTL, and keeps a replaced signing key for
// DefaultRefreshTTL after its rotation period.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 14 * 24 * time.Hour
)

// NewService wires a Service with the default lifetimes: access tokens for
// 15 minutes, refresh tokens for 14 days.
func NewService(db *store.DB, keys *Keys, th *Throttle, logger *slog.Logger) *Service {
	s := &Service{DB: db, Keys: keys, Throttle: th, Argon2: DefaultArgon2,
		AccessTTL: DefaultAccessTTL, RefreshTTL: DefaultRefreshTTL, Logger: logger, Now: time.Now,
		checkPassword: CheckPassword}
	if th != nil {
		s.Revoked = NewRevocations(th.Redis, keys.MaxTTL(), logger)
	}
	return s
}

// maxAuditName bounds the attempted username recorded for a failed login,
// which can be anything a client sends.
const maxAuditName = 64

// Login checks a username and password and starts a session. ip is the
// client's address, as far as trusted proxies let us know it; it keys the
// throttle and goes into the audit log.
func (s *Service) Login(ctx context.Context, username, password, ip string) (*Tokens, *User, error) {
	username = strings.ToLower(strings.TrimSpace(username)) // usernames are stored lower-case
	if username == "" || password == "" {
		return nil, nil, errs.Validation(
			requiredIfEmpty("username", username), requiredIfEmpty("password", password))
	}
	// No password this long can have been set under the policy; refusing it
	// here keeps a megabyte "password" from costing a hash.
	if len(password) > pwpolicy.MaxBytes {
		return nil, nil, errs.Validation(errs.Field("password", "password_too_long", map[string]any{"max": pwpolicy.MaxLen}))
	}
	actor := audit.Actor{Username: truncateRunes(username, maxAuditName), OrgPath: "/", IP: ip, Request: observe.RequestID(ctx)}

	// Counted before the password is checked: parallel guesses cannot all
	// pass a check that runs before any of them is recorded.
	wait, err := s.Throttle.Admit(ctx, username, ip)
	if err != nil {
		return nil, nil, err
	}
	if wait > 0 {
		// A refused attempt costs nothing but this: a flood of them (random
		// names from one address) wrote a row each. The first of a window,
		// for its address and its username, is audited; all are counted.
		s.throttled.Add(1)
		if s.Throttle.FirstRefusal(ctx, username, ip) {
			if err := s.auditFailed(ctx, actor, map[string]any{"throttled": true, "window_minutes": int(s.Throttle.Window / time.Minute)}); err != nil {
				return nil, nil, err
			}
		}
		e := errs.New(errs.KindRateLimited, "login_locked", map[string]any{"minutes": int((wait + time.Minute - 1) / time.Minute)})
		e.Data = map[string]any{"retry_after": int((wait + time.Second - 1) / time.Second)}
		return nil, nil, e
	}
	u, err := UserByUsername(ctx, s.DB, username)
	if err != nil && !errors.Is(err, ErrNoUser) {
		return nil, nil, err
	}
	check := s.checkPassword
	if check == nil {
		check = CheckPassword
	}
	ok := false
	if u != nil {
		ok, err = check(u.PasswordHash, password)
		if err != nil {
			return nil, nil, fmt.Errorf("user %s: %w", u.ID, err)
		}
	} else {
		// Hash anyway so that an unknown username takes as long as a
		// wrong password and usernames cannot be discovered by timing.
		_, _ = check(s.dummy(), password)
	}
	if !ok || u.Disabled {
		// The attempt stays counted. The entry is the same whether the
		// user exists or not, so the log does not tell either.
		if err := s.auditFailed(ctx, actor, nil); err != nil {
			return nil, nil, err
		}
		return nil, nil, errs.New(errs.KindUnauthenticated, "login_failed", nil)
	}
	if err := s.Throttle.Succeeded(ctx, username, ip); err != nil {
		return nil, nil, err
	}
	actor.UserID, actor.Username = u.ID, u.Username
	var t *Tokens
	err = s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		family := uuid.NewString()
		var err error
		if t, err = s.issue(ctx, tx, u, family); err != nil {
			return err
		}
		// In the session's transaction: no session without its entry.
		return audit.Record(audit.WithActor(ctx, actor), tx, audit.ActionLogin, "session", family, nil)
	})
	if err != nil {
		return nil, nil, err
	}
	return t, u, nil
}

func (s *Service) auditFailed(ctx context.Context, actor audit.Actor, details map[string]any) error {
	return audit.Record(audit.WithActor(ctx, actor), s.DB, audit.ActionLoginFailed, "session", "", details)
}

// truncateRunes cuts s to at most n characters without splitting one.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func requiredIfEmpty(field, v string) errs.FieldError {
	if v == "" {
		return errs.Field(field, "required", nil)
	}
	return errs.FieldError{}
}

// dummy is computed once; logins of unknown users run concurrently.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = HashPassword("wanjia-dummy-password", s.Argon2)
	})
	return s.dummyHash
}

// issue signs an access token and stores a new refresh token in family.
func (s *Service) issue(ctx context.Context, db bun.IDB, u *User, family string) (*Tokens, error) {
	now := s.Now()
	access, err := s.Keys.SignSession(u.ID, u.Username, family, now, s.AccessTTL)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw)
	row := &refreshToken{ID: uuid.NewString(), FamilyID: family, UserID: u.ID, TokenHash: hashToken(refresh),
		ExpiresAt: now.Add(s.RefreshTTL).UTC(), CreatedAt: now.UTC()}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.AccessTTL.Seconds())}, nil
}

// hashToken is SHA-256: refresh tokens are 256 random bits, so a fast hash
// is enough to make a stolen table useless.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// Refresh exchanges a refresh token for a new pair. The old token stops
// working; presenting it again means it was stolen (or replayed), so the
// whole family is revoked and the legitimate holder must log in again.
func (s *Service) Refresh(ctx context.Context, token string) (*Tokens, error) {
	if token == "" {
		return nil, errs.Validation(errs.Field("refresh_token", "required", nil))
	}
	var out *Tokens
	var reused *refreshToken
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(refreshToken)
		err := tx.NewSelect().Model(row).Where("token_hash = ?", hashToken(token)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.KindUnauthenticated, "token_invalid", nil)
		}
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		if row.RevokedAt != nil || now.After(row.ExpiresAt) {
			return errs.New(errs.KindUnauthenticated, "token_invalid", nil)
		}
		if row.RotatedAt != nil {
			reused = row
			return errs.New(errs.KindUnauthenticated, "token_invalid", nil)
		}
		// The guard on rotated_at makes two concurrent refreshes with one
		// token yield one winner.
		res, err := tx.NewUpdate().Model((*refreshToken)(nil)).Set("rotated_at = ?", now).
			Where("id = ? AND rotated_at IS NULL", row.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			reused = row
			return errs.New(errs.KindUnauthenticated, "token_invalid", nil)
		}
		u, err := UserByID(ctx, tx, row.UserID)
		if err != nil || u.Disabled {
			return errs.New(errs.KindUnauthenticated, "token_invalid", nil)
		}
		out, err = s.issue(ctx, tx, u, row.FamilyID)
		return err
	})
	if reused != nil {
		if rerr := s.revokeFamily(ctx, reused.FamilyID); rerr != nil {
			return nil, rerr
		}
		s.Logger.Warn("refresh token reused; session family revoked", "user_id", reused.UserID, "family", reused.FamilyID)
	}
	return out, err
}

// Logout revokes the session the refresh token belongs to. An unknown or
// already revoked token is not an error: the caller is signed out either way.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return errs.Validation(errs.Field("refresh_token", "required", nil))
	}
	row := new(refreshToken)
	err := s.DB.NewSelect().Model(row).Where("token_hash = ?", hashToken(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.revokeFamily(ctx, row.FamilyID)
}

// revokeFamily ends a session: its refresh tokens in the database, and its
// access tokens (which name it) through the denylist.
func (s *Service) revokeFamily(ctx context.Context, family string) error {
	now := s.Now()
	_, err := s.DB.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now.UTC()).
		Where("family_id = ? AND revoked_at IS NULL", family).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.Revoked.Revoke(ctx, family, now)
	return nil
}

// Authenticate checks an access token and returns its user, who must still
// exist and not be disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (*User, error) {
	now := s.Now()
	c, err := s.Keys.Verify(ctx, token, now)
	if err != nil || s.Revoked.Revoked(c.SessionID, now) {
		return nil, errs.New(errs.KindUnauthenticated, "token_invalid", nil)
	}
	u, ok := s.users.get(c.Subject, now)
	if !ok {
		u, err = UserByID(ctx, s.DB, c.Subject)
		if err == nil {
			s.users.put(u, now)
		}
	}
	if errors.Is(err, ErrNoUser) || (err == nil && u.Disabled) {
		return nil, errs.New(errs.KindUnauthenticated, "token_invalid", nil)
	}
	return u, err
}
