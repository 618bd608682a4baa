package authn_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

const (
	alicePassword = "correct horse battery"
	bobPassword   = "tr0ub4dor&3"
)

// env is one test's world: a fresh database and Redis, the service over
// them, and two users.
type env struct {
	db    *store.DB
	redis *queue.Redis
	keys  *authn.Keys
	svc   *authn.Service
	alice *authn.User
	bob   *authn.User
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	rdb := queuetest.New(t)
	keys, err := authn.LoadKeys(ctx, db, authn.TestingKeyOptions())
	if err != nil {
		t.Fatalf("LoadKeys: %v", err)
	}
	svc := authn.NewService(db, keys, authn.NewThrottle(rdb.Client), slog.New(slog.DiscardHandler))
	svc.Argon2 = cheap
	e := &env{db: db, redis: rdb, keys: keys, svc: svc}
	e.alice = e.createUser(t, "alice", "Alice 爱丽丝", alicePassword)
	e.bob = e.createUser(t, "bob", "Bob", bobPassword)
	return e
}

func (e *env) createUser(t testing.TB, username, display, password string) *authn.User {
	t.Helper()
	u := &authn.User{Username: username, DisplayName: display}
	if err := authn.CreateUser(context.Background(), e.db, u, password, cheap); err != nil {
		t.Fatalf("CreateUser %s: %v", username, err)
	}
	return u
}

func (e *env) disable(t testing.TB, u *authn.User) {
	t.Helper()
	if _, err := e.db.NewUpdate().Model((*authn.User)(nil)).Set("disabled = ?", true).Where("id = ?", u.ID).Exec(context.Background()); err != nil {
		t.Fatalf("disable %s: %v", u.Username, err)
	}
	e.svc.ForgetUser(u.ID) // as the code that disables a user does
}

func (e *env) login(t testing.TB, username, password string) *authn.Tokens {
	t.Helper()
	tok, _, err := e.svc.Login(context.Background(), username, password, "192.0.2.10")
	if err != nil {
		t.Fatalf("Login %s: %v", username, err)
	}
	return tok
}

// wantKind fails unless err is an application error of kind k.
func wantKind(t testing.TB, err error, k errs.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", k)
	}
	if got := errs.KindOf(err); got != k {
		t.Fatalf("error %v is %v, want %v", err, got, k)
	}
}

func appError(t testing.TB, err error) *errs.Error {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	return e
}
