package authn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
)

// passwordProblem fails unless err is a 422 on "password" with key.
func passwordProblem(t *testing.T, err error, key string) {
	t.Helper()
	wantKind(t, err, errs.KindValidation)
	e := appError(t, err)
	if len(e.Fields) != 1 || e.Fields[0].Field != "password" || e.Fields[0].Key != key {
		t.Fatalf("fields = %+v, want password: %s", e.Fields, key)
	}
}

// Every user is created through CreateUser, so the policy holds for the
// admin from the environment, the demo users and new members alike.
func TestCreateUserPasswordPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct{ user, pw, key string }{
		{"carol", "a", "password_too_short"},
		{"carol", "12345678", "password_too_short"},
		{"carol", "qwertyuiop", "password_too_common"},
		{"carol", "woaini1314", "password_too_common"},
		{"carol.zhang", "Carol.Zhang", "password_is_username"},
		{"carol", strings.Repeat("x", 500<<10), "password_too_long"},
	}
	for _, tt := range tests {
		err := authn.CreateUser(ctx, e.db, &authn.User{Username: tt.user, DisplayName: "C"}, tt.pw, cheap)
		passwordProblem(t, err, tt.key)
	}
	// Refused before hashing: with parameters HashPassword would reject,
	// the answer is still the policy's.
	err := authn.CreateUser(ctx, e.db, &authn.User{Username: "carol", DisplayName: "C"}, strings.Repeat("x", 500<<10), authn.Argon2Params{})
	passwordProblem(t, err, "password_too_long")
	if _, err := authn.UserByUsername(ctx, e.db, "carol"); err != authn.ErrNoUser {
		t.Fatalf("a refused user was stored: %v", err)
	}
	for _, pw := range []string{"demo-pass-123", "admin-pass-123"} {
		if err := authn.CreateUser(ctx, e.db, &authn.User{Username: "u" + pw[:4], DisplayName: "U"}, pw, cheap); err != nil {
			t.Fatalf("%s: %v", pw, err)
		}
	}
}

func TestSetPasswordPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.login(t, "alice", alicePassword)
	passwordProblem(t, authn.SetPassword(ctx, e.db, e.alice.ID, "ALICE", cheap), "password_too_short")
	passwordProblem(t, authn.SetPassword(ctx, e.db, e.alice.ID, "password123", cheap), "password_too_common")
	passwordProblem(t, authn.SetPassword(ctx, e.db, e.alice.ID, strings.Repeat("长", 129), cheap), "password_too_long")
	// Nothing changed: the old password works, the session lives.
	if _, err := e.svc.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("a refused change ended the session: %v", err)
	}
	e.login(t, "alice", alicePassword)
	if err := authn.SetPassword(ctx, e.db, e.alice.ID, "a much better passphrase", cheap); err != nil {
		t.Fatal(err)
	}
	e.login(t, "alice", "a much better passphrase")
}

// A huge password at login is refused without hashing it.
func TestLoginHugePasswordNotHashed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checks := authn.CountPasswordChecks(e.svc)
	_, _, err := e.svc.Login(context.Background(), "alice", strings.Repeat("x", 500<<10), "192.0.2.1")
	passwordProblem(t, err, "password_too_long")
	if n := checks.Load(); n != 0 {
		t.Fatalf("%d password checks for a 500 KB password", n)
	}
}
