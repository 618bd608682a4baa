package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// testClock is a settable clock for rotation.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func rows(t *testing.T, db bun.IDB) []signingKey {
	t.Helper()
	var out []signingKey
	if err := db.NewSelect().Model(&out).Order("generation ASC").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

func activeIDs(k *Keys) (current string, ids map[string]bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids = map[string]bool{}
	for id := range k.secrets {
		ids[id] = true
	}
	return k.current, ids
}

// The key material in the database is sealed: the row holds neither the
// key nor its base64, and only the right secret key opens it.
func TestKeysEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	k, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	rs := rows(t, db)
	if len(rs) != 1 {
		t.Fatalf("%d keys", len(rs))
	}
	k.mu.RLock()
	secret := k.secrets[rs[0].ID]
	k.mu.RUnlock()
	if !strings.HasPrefix(rs[0].Secret, sealedPrefix) {
		t.Fatalf("stored secret %q is not sealed", rs[0].Secret)
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.StdEncoding, base64.RawURLEncoding} {
		if strings.Contains(rs[0].Secret, enc.EncodeToString(secret)[:20]) {
			t.Fatalf("stored secret contains the key in base64")
		}
	}
	if strings.Contains(rs[0].Secret, string(secret)) {
		t.Fatal("stored secret contains the key")
	}
}

// Earlier versions stored keys in plain text. Loading encrypts them in
// place, and tokens they signed still verify.
func TestKeysPlainTextEncryptedOnLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	plain := make([]byte, 32)
	if _, err := rand.Read(plain); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := &signingKey{ID: "0190aaaa-0000-7000-8000-000000000001", Secret: base64.RawStdEncoding.EncodeToString(plain),
		Generation: 1, CreatedAt: now.Add(-time.Hour).UTC()}
	if _, err := db.NewInsert().Model(old).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	tk := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Username: "alice", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "user-1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}})
	tk.Header["kid"] = old.ID
	tok, err := tk.SignedString(plain)
	if err != nil {
		t.Fatal(err)
	}

	k, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	rs := rows(t, db)
	if len(rs) != 1 || rs[0].ID != old.ID {
		t.Fatalf("keys after load = %+v, want the old one only", rs)
	}
	if !strings.HasPrefix(rs[0].Secret, sealedPrefix) || strings.Contains(rs[0].Secret, old.Secret) {
		t.Fatalf("plain key not encrypted on load: %q", rs[0].Secret)
	}
	if _, err := k.Verify(ctx, tok, now); err != nil {
		t.Fatalf("token of the migrated key: %v", err)
	}
	// A second replica reads the encrypted row.
	again, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Verify(ctx, tok, now); err != nil {
		t.Fatalf("token of the migrated key on a new instance: %v", err)
	}
}

// Another secret key stops the start with a message that says so, and
// writes nothing: no garbage keys, no tokens nobody else can verify.
func TestKeysWrongSecretKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	if _, err := LoadKeys(ctx, db, testingKeyOptions()); err != nil {
		t.Fatal(err)
	}
	before := rows(t, db)
	other := KeyOptions{Secret: []byte("another-secret-key-0123456789abcdef!")}
	// Even when a rotation is due, nothing is written.
	other.Now = func() time.Time { return time.Now().Add(365 * 24 * time.Hour) }
	_, err := LoadKeys(ctx, db, other)
	if !errors.Is(err, ErrWrongSecretKey) {
		t.Fatalf("LoadKeys with another secret key: %v, want ErrWrongSecretKey", err)
	}
	if !strings.Contains(err.Error(), "WANJIA_SECRET_KEY") {
		t.Fatalf("message %q does not name the setting", err)
	}
	after := rows(t, db)
	if len(after) != len(before) || after[0].Secret != before[0].Secret || after[0].RetiredAt != nil {
		t.Fatalf("keys changed: %+v -> %+v", before, after)
	}
	if _, err := LoadKeys(ctx, db, KeyOptions{Secret: []byte("short")}); err == nil {
		t.Fatal("a short secret key was accepted")
	}
}

// A new key when the newest is older than the rotation period; the old one
// verifies until it is older than rotation + retention, then is retired.
func TestKeysRotateOnSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	clk := &testClock{now: time.Now()}
	o := testingKeyOptions()
	o.Now = clk.Now
	k, err := LoadKeys(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := activeIDs(k)
	rotation, retention := DefaultKeyRotation, DefaultRefreshTTL

	clk.Add(rotation - time.Minute)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if cur, _ := activeIDs(k); cur != first || len(rows(t, db)) != 1 {
		t.Fatal("rotated before the period was over")
	}
	signedByFirst, err := k.Sign("user-1", "alice", clk.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	clk.Add(2 * time.Minute)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	second, ids := activeIDs(k)
	if second == first || !ids[first] || len(ids) != 2 {
		t.Fatalf("after the period: current %s, active %v; want a new key and the old one still active", second, ids)
	}
	if _, err := k.Verify(ctx, signedByFirst, clk.Now().Add(-2*time.Minute)); err != nil {
		t.Fatalf("token of the replaced key: %v", err)
	}

	// The old key is created + rotation + retention old: retired.
	clk.Add(retention)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	cur, ids := activeIDs(k)
	if cur != second || ids[first] || len(ids) != 1 {
		t.Fatalf("after retention: current %s, active %v; want only %s", cur, ids, second)
	}
	if rs := rows(t, db); len(rs) != 2 || rs[0].RetiredAt == nil || rs[1].RetiredAt != nil {
		t.Fatalf("rows = %+v", rs)
	}
	if _, err := k.Verify(ctx, signedByFirst, clk.Now()); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a retired key: %v", err)
	}

	// Left running for a year without restarts, one key per period and
	// never more than two active.
	for range 12 {
		clk.Add(rotation)
		if err := k.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ids := activeIDs(k); len(ids) > 2 {
			t.Fatalf("%d active keys", len(ids))
		}
	}
	if n := len(rows(t, db)); n != 14 {
		t.Fatalf("%d keys after a year, want 14", n)
	}
}

// Two replicas that both find a rotation due add one key between them.
func TestKeysConcurrentRotationAddsOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	clk := &testClock{now: time.Now()}
	o := testingKeyOptions()
	o.Now = clk.Now
	a, err := LoadKeys(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadKeys(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(DefaultKeyRotation + time.Minute)
	// Both read the table before either writes: the worst interleaving.
	la, err := a.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.upkeep(ctx, la); err != nil {
		t.Fatal(err)
	}
	if _, err := b.upkeep(ctx, lb); err != nil {
		t.Fatalf("the replica that lost the race: %v", err)
	}
	if n := len(rows(t, db)); n != 2 {
		t.Fatalf("%d keys after two replicas rotated at once, want 2", n)
	}
	for _, k := range []*Keys{a, b} {
		if err := k.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ca, _ := activeIDs(a)
	cb, _ := activeIDs(b)
	if ca != cb {
		t.Fatalf("replicas sign with different keys: %s and %s", ca, cb)
	}

	// And truly at once, several times over.
	for range 3 {
		clk.Add(DefaultKeyRotation + time.Minute)
		before := len(rows(t, db))
		var wg sync.WaitGroup
		for _, k := range []*Keys{a, b, a, b} {
			wg.Go(func() {
				if err := k.Reload(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := len(rows(t, db)); n != before+1 {
			t.Fatalf("%d keys after concurrent reloads, want %d", n, before+1)
		}
	}
}

// Tokens must carry iat and exp, and may not live longer than the access
// token lifetime: a token good for ten years was accepted.
func TestVerifyRejectsLongLivedTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, err := LoadKeys(ctx, storetest.New(t), testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	kid, secret := k.current, k.secrets[k.current]
	now := time.Now()
	sign := func(iat, exp *jwt.NumericDate) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Username: "alice", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "user-1", IssuedAt: iat, ExpiresAt: exp}})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	at := jwt.NewNumericDate
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"ten years", sign(at(now), at(now.AddDate(10, 0, 0))), false},
		{"sixteen minutes", sign(at(now), at(now.Add(16*time.Minute))), false},
		{"issued long ago, expiring soon", sign(at(now.Add(-24*time.Hour)), at(now.Add(time.Minute))), false},
		{"no iat", sign(nil, at(now.Add(time.Minute))), false},
		{"no exp", sign(at(now), nil), false},
		{"issued in the future", sign(at(now.Add(10*time.Minute)), at(now.Add(20*time.Minute))), false},
		{"fifteen minutes", sign(at(now), at(now.Add(15*time.Minute))), true},
		{"fifteen minutes and a few seconds of leeway", sign(at(now), at(now.Add(15*time.Minute+10*time.Second))), true},
	}
	for _, tt := range tests {
		_, err := k.Verify(ctx, tt.tok, now)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: accepted (err %v)", tt.name, err)
		}
	}
	if _, err := k.Sign("user-1", "alice", now, time.Hour); err == nil {
		t.Error("Sign issued a token longer than the access lifetime")
	}
}
