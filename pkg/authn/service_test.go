package authn_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok, u, err := e.svc.Login(ctx, "alice", alicePassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != e.alice.ID || u.Username != "alice" || u.DisplayName != "Alice 爱丽丝" {
		t.Fatalf("user = %+v", u)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 15*60 {
		t.Fatalf("tokens = %+v", tok)
	}
	got, err := e.svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || got.ID != e.alice.ID {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}

	tests := []struct {
		name, user, pw string
		kind           errs.Kind
	}{
		{"wrong password", "alice", "wrong", errs.KindUnauthenticated},
		{"another user's password", "alice", bobPassword, errs.KindUnauthenticated},
		{"unknown user", "nobody", alicePassword, errs.KindUnauthenticated},
		{"no username", "", alicePassword, errs.KindValidation},
		{"no password", "alice", "", errs.KindValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, u, err := e.svc.Login(ctx, tt.user, tt.pw, "192.0.2.2")
			if tok != nil || u != nil {
				t.Fatalf("Login gave %+v, %+v", tok, u)
			}
			wantKind(t, err, tt.kind)
		})
	}
	// Unknown user and wrong password look the same to the client.
	_, _, e1 := e.svc.Login(ctx, "alice", "wrong", "192.0.2.3")
	_, _, e2 := e.svc.Login(ctx, "nobody", "wrong", "192.0.2.3")
	if errs.CodeOf(e1) != errs.CodeOf(e2) || appError(t, e1).Key != appError(t, e2).Key {
		t.Fatalf("wrong password %v and unknown user %v differ", e1, e2)
	}
}

// A disabled user cannot log in, refresh or use an access token.
func TestDisabledUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.login(t, "alice", alicePassword)
	e.disable(t, e.alice)

	_, _, err := e.svc.Login(ctx, "alice", alicePassword, "192.0.2.1")
	wantKind(t, err, errs.KindUnauthenticated)
	_, err = e.svc.Refresh(ctx, tok.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)
	_, err = e.svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, errs.KindUnauthenticated)
	// Bob is unaffected.
	e.login(t, "bob", bobPassword)
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	t1 := e.login(t, "alice", alicePassword)
	other := e.login(t, "alice", alicePassword) // a second session (another device)

	t2, err := e.svc.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if t2.RefreshToken == "" || t2.RefreshToken == t1.RefreshToken || t2.ExpiresIn != 15*60 {
		t.Fatalf("refresh gave %+v", t2)
	}
	if u, err := e.svc.Authenticate(ctx, t2.AccessToken); err != nil || u.ID != e.alice.ID {
		t.Fatalf("new access token: %+v, %v", u, err)
	}
	t3, err := e.svc.Refresh(ctx, t2.RefreshToken)
	if err != nil {
		t.Fatalf("second Refresh: %v", err)
	}

	// The rotated token no longer works, and presenting it again looks
	// like theft: the whole family is revoked, newest token included.
	for _, old := range []string{t1.RefreshToken, t2.RefreshToken} {
		_, err = e.svc.Refresh(ctx, old)
		wantKind(t, err, errs.KindUnauthenticated)
	}
	_, err = e.svc.Refresh(ctx, t3.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)

	// The other session is another family and lives on.
	if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("another session was revoked too: %v", err)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	t1 := e.login(t, "alice", alicePassword)
	t2, err := e.svc.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// The thief replays t1: refused, and t2 (held by the owner) dies too.
	_, err = e.svc.Refresh(ctx, t1.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)
	_, err = e.svc.Refresh(ctx, t2.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)
}

func TestRefreshRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		token string
		kind  errs.Kind
	}{
		{"empty", "", errs.KindValidation},
		{"unknown", "bm90LWEtcmVhbC1yZWZyZXNoLXRva2Vu", errs.KindUnauthenticated},
		{"an access token", e.login(t, "alice", alicePassword).AccessToken, errs.KindUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := e.svc.Refresh(ctx, tt.token)
			if tok != nil {
				t.Fatalf("Refresh gave %+v", tok)
			}
			wantKind(t, err, tt.kind)
		})
	}
}

func TestRefreshExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now()
	e.svc.Now = func() time.Time { return start }
	tok := e.login(t, "alice", alicePassword)

	e.svc.Now = func() time.Time { return start.Add(e.svc.RefreshTTL - time.Minute) }
	t2, err := e.svc.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh just before expiry: %v", err)
	}
	// t2 was issued at start+TTL-1m, so it expires at start+2TTL-1m.
	e.svc.Now = func() time.Time { return start.Add(2*e.svc.RefreshTTL - time.Minute + time.Second) }
	_, err = e.svc.Refresh(ctx, t2.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	t1 := e.login(t, "alice", alicePassword)
	t2, err := e.svc.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	other := e.login(t, "alice", alicePassword)
	if err := e.svc.Logout(ctx, t2.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Refresh(ctx, t2.RefreshToken)
	wantKind(t, err, errs.KindUnauthenticated)
	// Logging out twice, or with a token that never existed, is fine.
	for _, tok := range []string{t2.RefreshToken, t1.RefreshToken, "never-issued"} {
		if err := e.svc.Logout(ctx, tok); err != nil {
			t.Fatalf("Logout(%q): %v", tok, err)
		}
	}
	wantKind(t, e.svc.Logout(ctx, ""), errs.KindValidation)
	// Only that session ended.
	if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("another session was logged out too: %v", err)
	}
}

// Several refreshes racing with one token: one may win, none may crash,
// and no two get a pair from the same token.
func TestRefreshConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.login(t, "alice", alicePassword)
	const n = 6
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = e.svc.Refresh(ctx, tok.RefreshToken)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case errs.KindOf(err) != errs.KindUnauthenticated:
			t.Errorf("concurrent refresh failed with %v (%v), want success or 401", err, errs.KindOf(err))
		}
	}
	if wins > 1 {
		t.Fatalf("%d refreshes succeeded with one token", wins)
	}
}

// Logins of unknown users hash a dummy password; many at once must not race.
func TestLoginConcurrentUnknownUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, _, err := e.svc.Login(ctx, "ghost", "whatever", fmt.Sprintf("192.0.2.%d", i+1))
			if errs.KindOf(err) != errs.KindUnauthenticated {
				t.Errorf("Login of an unknown user: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestUserFromContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, ok := authn.UserFrom(context.Background()); ok {
		t.Fatal("UserFrom found a user in an empty context")
	}
	ctx := authn.WithUser(context.Background(), e.alice)
	u, ok := authn.UserFrom(ctx)
	if !ok || u.ID != e.alice.ID {
		t.Fatalf("UserFrom = %+v, %v", u, ok)
	}
}

// TestAuthenticationCacheIsShort: a user changed behind this process's
// back (on another replica) is seen within seconds, not at the token's end.
func TestAuthenticationCacheIsShort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := &clock{now: time.Now()}
	e.svc.Now = c.Now
	tok := e.login(t, "alice", alicePassword)
	if _, err := e.svc.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.NewUpdate().Model((*authn.User)(nil)).Set("disabled = ?", true).Where("id = ?", e.alice.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c.Add(10 * time.Second)
	_, err := e.svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, errs.KindUnauthenticated)
}
