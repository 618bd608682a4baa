package authn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// backdate makes k's last reload look older than the 5 s staleness guard,
// which is what a replica that has been running for a while looks like.
func backdate(k *Keys) {
	k.mu.Lock()
	k.lastReload = time.Now().Add(-6 * time.Second)
	k.mu.Unlock()
}

// touch makes k's last reload look like it just happened.
func touch(k *Keys) {
	k.mu.Lock()
	k.lastReload = time.Now()
	k.mu.Unlock()
}

func lastReload(k *Keys) time.Time {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.lastReload
}

// A replica that sees a kid it does not know reloads the keys, so a token
// signed by a key another replica just added verifies without a restart.
func TestUnknownKidReloadsWhenStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	a, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	backdate(b)
	if _, err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := a.Sign("user-1", "alice", now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	before := lastReload(b)
	c, err := b.Verify(ctx, tok, now)
	if err != nil {
		t.Fatalf("b does not verify a's new key after a stale reload: %v", err)
	}
	if c.Subject != "user-1" {
		t.Fatalf("claims = %+v", c)
	}
	if !lastReload(b).After(before) {
		t.Fatal("b did not reload")
	}
}

// Made-up kids reload at most once per guard interval.
func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	k, err := LoadKeys(ctx, db, testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	forged := func(kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "user-1", ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}})
		tk.Header["kid"] = kid
		s, err := tk.SignedString([]byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	touch(k)
	fresh := lastReload(k)
	if _, err := k.Verify(ctx, forged("made-up-1"), now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	if got := lastReload(k); !got.Equal(fresh) {
		t.Fatal("an unknown kid reloaded the keys within the guard interval")
	}

	backdate(k)
	stale := lastReload(k)
	if _, err := k.Verify(ctx, forged("made-up-2"), now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	reloaded := lastReload(k)
	if !reloaded.After(stale) {
		t.Fatal("an unknown kid on stale keys did not reload")
	}
	if _, err := k.Verify(ctx, forged("made-up-3"), now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	if got := lastReload(k); !got.Equal(reloaded) {
		t.Fatal("a second unknown kid reloaded again right away")
	}
	// A token with no kid never reloads.
	backdate(k)
	stale = lastReload(k)
	if _, err := k.Verify(ctx, forged(""), now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	if got := lastReload(k); !got.Equal(stale) {
		t.Fatal("a token without kid reloaded the keys")
	}
}

// Tokens signed with the real key but otherwise not what Sign makes are
// refused: only HS256, our issuer, an expiry and a subject.
func TestVerifyRejectsWellSignedOddTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, err := LoadKeys(ctx, storetest.New(t), testingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	k.mu.RLock()
	kid, secret := k.current, k.secrets[k.current]
	k.mu.RUnlock()
	now := time.Now()
	base := func() jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Issuer: issuer, Subject: "user-1",
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}
	}
	tests := []struct {
		name   string
		method jwt.SigningMethod
		claims func() jwt.RegisteredClaims
		kid    string
	}{
		{"HS384", jwt.SigningMethodHS384, base, kid},
		{"HS512", jwt.SigningMethodHS512, base, kid},
		{"other issuer", jwt.SigningMethodHS256, func() jwt.RegisteredClaims { c := base(); c.Issuer = "evil"; return c }, kid},
		{"no issuer", jwt.SigningMethodHS256, func() jwt.RegisteredClaims { c := base(); c.Issuer = ""; return c }, kid},
		{"no expiry", jwt.SigningMethodHS256, func() jwt.RegisteredClaims { c := base(); c.ExpiresAt = nil; return c }, kid},
		{"no subject", jwt.SigningMethodHS256, func() jwt.RegisteredClaims { c := base(); c.Subject = ""; return c }, kid},
		{"no kid", jwt.SigningMethodHS256, base, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := jwt.NewWithClaims(tt.method, Claims{Username: "alice", RegisteredClaims: tt.claims()})
			if tt.kid != "" {
				tk.Header["kid"] = tt.kid
			}
			s, err := tk.SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := k.Verify(ctx, s, now); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
			}
		})
	}
	// Control: the same construction with HS256 and every claim passes.
	tk := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Username: "alice", RegisteredClaims: base()})
	tk.Header["kid"] = kid
	s, err := tk.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, s, now); err != nil {
		t.Fatalf("control token: %v", err)
	}
}
