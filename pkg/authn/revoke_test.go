package authn_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
)

// replica is a second process over the same database and Redis: its own
// keys (and token cache), its own copy of the revocations.
func (e *env) replica(t *testing.T, rdb redis.Cmdable) *authn.Service {
	t.Helper()
	keys, err := authn.LoadKeys(context.Background(), e.db, authn.TestingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := authn.NewService(e.db, keys, authn.NewThrottle(rdb), slog.New(slog.DiscardHandler))
	s.Argon2 = cheap
	return s
}

func usable(t *testing.T, s *authn.Service, token string) bool {
	t.Helper()
	_, err := s.Authenticate(context.Background(), token)
	if err != nil && errs.KindOf(err) != errs.KindUnauthenticated {
		t.Fatalf("Authenticate: %v", err)
	}
	return err == nil
}

// TestSignOutRevokesAccessTokens: an access token copied before sign-out
// stops working at once on the process that signed out, and on another
// within one poll of the revocations (Sync), although both remember the
// token as verified. Another session of the same user is untouched. A
// refresh token presented twice ends its session's access tokens too.
func TestSignOutRevokesAccessTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	other := e.replica(t, e.redis.Client)
	copied := e.login(t, "alice", alicePassword)
	kept := e.login(t, "alice", alicePassword)
	for _, s := range []*authn.Service{e.svc, other} {
		if !usable(t, s, copied.AccessToken) || !usable(t, s, kept.AccessToken) {
			t.Fatal("a fresh token is refused")
		}
	}
	if err := e.svc.Logout(ctx, copied.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if usable(t, e.svc, copied.AccessToken) {
		t.Fatal("the access token works after sign-out, on the process that signed out")
	}
	if err := other.Revoked.Sync(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if usable(t, other, copied.AccessToken) {
		t.Fatal("the access token works after sign-out, on another process")
	}
	if !usable(t, e.svc, kept.AccessToken) || !usable(t, other, kept.AccessToken) {
		t.Fatal("signing one session out ended another")
	}

	// A refresh token used twice: the family is revoked, and with it the
	// access token issued alongside the stolen refresh token.
	stolen := e.login(t, "bob", bobPassword)
	if _, err := e.svc.Refresh(ctx, stolen.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Refresh(ctx, stolen.RefreshToken); err == nil {
		t.Fatal("a reused refresh token was accepted")
	}
	if usable(t, other, stolen.AccessToken) {
		t.Fatal("the access token of a revoked family works")
	}
}

// TestSignOutWhileRedisIsDown: the process that signed out refuses the
// token at once; the revocation reaches Redis, and so the other
// processes, when Redis answers again. Meanwhile other processes fail
// open (they keep serving the tokens they know nothing against).
func TestSignOutWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	defer rdb.Close()
	a, b := e.replica(t, rdb), e.replica(t, rdb)
	tok, _, err := a.Login(ctx, "alice", alicePassword, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := a.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("sign-out with Redis down: %v", err)
	}
	if usable(t, a, tok.AccessToken) {
		t.Fatal("the signing-out process serves the token")
	}
	if err := b.Revoked.Sync(ctx, time.Now()); err == nil {
		t.Fatal("Sync with Redis down reported no error")
	}
	if !usable(t, b, tok.AccessToken) {
		t.Fatal("with Redis down, another process refuses a token it knows nothing against (fail closed)")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*authn.Service{a, b} {
		if err := s.Revoked.Sync(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if usable(t, b, tok.AccessToken) {
		t.Fatal("the revocation made during the outage did not reach the other process")
	}
}
