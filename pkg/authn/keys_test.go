package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// kidOf reads the key id from a token's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	decodeSegment(t, strings.Split(token, ".")[0], &h)
	return h.Kid
}

func decodeSegment(t testing.TB, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode segment %q: %v", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal segment: %v", err)
	}
}

func encodeSegment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// claimsFor are the claims Keys.Sign would put in a token for u.
func claimsFor(u *authn.User, now time.Time) authn.Claims {
	return authn.Claims{Username: u.Username, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "wanjia", Subject: u.ID,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	}}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	tok, err := e.keys.Sign(e.alice.ID, e.alice.Username, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.keys.Verify(ctx, tok, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != e.alice.ID || c.Username != "alice" || c.Issuer != "wanjia" {
		t.Fatalf("claims = %+v", c)
	}
	// Still valid just before it expires, and not after, though Verify
	// remembers the tokens it has checked.
	if _, err := e.keys.Verify(ctx, tok, now.Add(15*time.Minute-time.Second)); err != nil {
		t.Fatalf("Verify just before expiry: %v", err)
	}
	if _, err := e.keys.Verify(ctx, tok, now.Add(15*time.Minute)); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("Verify at expiry: %v, want ErrInvalidToken", err)
	}
	if _, err := e.keys.Verify(ctx, tok, now.Add(-time.Hour)); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("Verify an hour before it was issued: %v, want ErrInvalidToken", err)
	}
	u, err := e.svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if u.ID != e.alice.ID || u.Username != "alice" {
		t.Fatalf("Authenticate = %+v, want alice", u)
	}
}

// Every way a token can be wrong ends in ErrInvalidToken from Verify and a
// 401 from Authenticate.
func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	good, err := e.keys.Sign(e.alice.ID, e.alice.Username, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	kid := kidOf(t, good)
	seg := strings.Split(good, ".")

	// A key from another deployment's database.
	otherKeys, err := authn.LoadKeys(ctx, storetest.New(t), authn.TestingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"empty", func(*testing.T) string { return "" }},
		{"garbage", func(*testing.T) string { return "not.a.token" }},
		{"expired", func(t *testing.T) string {
			tok, err := e.keys.Sign(e.alice.ID, e.alice.Username, now.Add(-time.Hour), 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"not yet valid", func(t *testing.T) string {
			tok, err := e.keys.Sign(e.alice.ID, e.alice.Username, now.Add(time.Hour), 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"tampered payload", func(t *testing.T) string {
			var c map[string]any
			decodeSegment(t, seg[1], &c)
			c["sub"], c["name"] = e.bob.ID, e.bob.Username
			return seg[0] + "." + encodeSegment(t, c) + "." + seg[2]
		}},
		{"tampered header", func(t *testing.T) string {
			var h map[string]any
			decodeSegment(t, seg[0], &h)
			h["typ"] = "jwt+evil"
			return encodeSegment(t, h) + "." + seg[1] + "." + seg[2]
		}},
		{"tampered signature", func(t *testing.T) string {
			sig := []byte(seg[2])
			// Change the first character: the last one partly encodes
			// padding bits, so changing it may not change the bytes.
			if sig[0] == 'A' {
				sig[0] = 'B'
			} else {
				sig[0] = 'A'
			}
			return seg[0] + "." + seg[1] + "." + string(sig)
		}},
		{"signature stripped", func(*testing.T) string { return seg[0] + "." + seg[1] + "." }},
		{"unknown key", func(t *testing.T) string {
			tok, err := otherKeys.Sign(e.alice.ID, e.alice.Username, now, 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"other key with our kid", func(t *testing.T) string {
			tok, err := otherKeys.Sign(e.alice.ID, e.alice.Username, now, 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var h map[string]any
			p := strings.Split(tok, ".")
			decodeSegment(t, p[0], &h)
			h["kid"] = kid
			return encodeSegment(t, h) + "." + p[1] + "." + p[2]
		}},
		{"alg none", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(e.alice, now))
			tk.Header["kid"] = kid
			s, err := tk.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"alg none, signature kept", func(t *testing.T) string {
			h := map[string]any{"alg": "none", "typ": "JWT", "kid": kid}
			return encodeSegment(t, h) + "." + seg[1] + "." + seg[2]
		}},
		{"RS256", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(e.alice, now))
			tk.Header["kid"] = kid
			s, err := tk.SignedString(rsaKey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"RS256 header on an HS256 signature", func(t *testing.T) string {
			h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}
			return encodeSegment(t, h) + "." + seg[1] + "." + seg[2]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			c, err := e.keys.Verify(ctx, tok, now)
			if !errors.Is(err, authn.ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
			}
			u, err := e.svc.Authenticate(ctx, tok)
			if errs.KindOf(err) != errs.KindUnauthenticated {
				t.Fatalf("Authenticate = %+v, %v; want unauthenticated", u, err)
			}
		})
	}
	// The good token is still good: nothing above was a false negative.
	if _, err := e.keys.Verify(ctx, good, now); err != nil {
		t.Fatalf("good token: %v", err)
	}
}

func TestRotateAndRetire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	old, err := e.keys.Sign(e.alice.ID, "alice", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := kidOf(t, old)
	newKid, err := e.keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid {
		t.Fatal("Rotate returned the old key id")
	}
	fresh, err := e.keys.Sign(e.alice.ID, "alice", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := kidOf(t, fresh); got != newKid {
		t.Fatalf("after Rotate tokens are signed by %s, want the new key %s", got, newKid)
	}
	for name, tok := range map[string]string{"signed before rotation": old, "signed after": fresh} {
		if _, err := e.keys.Verify(ctx, tok, now); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	if err := e.keys.Retire(ctx, oldKid); err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Verify(ctx, old, now); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("token of a retired key: err = %v, want ErrInvalidToken", err)
	}
	if _, err := e.svc.Authenticate(ctx, old); errs.KindOf(err) != errs.KindUnauthenticated {
		t.Fatalf("Authenticate with a retired key: %v", err)
	}
	if _, err := e.keys.Verify(ctx, fresh, now); err != nil {
		t.Fatalf("token of the current key after retiring the old one: %v", err)
	}
	// A fresh instance (another replica starting) does not resurrect it.
	again, err := authn.LoadKeys(ctx, e.db, authn.TestingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Verify(ctx, old, now); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("retired key on a new instance: err = %v", err)
	}
	if _, err := again.Verify(ctx, fresh, now); err != nil {
		t.Fatalf("current key on a new instance: %v", err)
	}
}

// Two replicas share the keys through the database. A replica learns of a
// key another one added when it reloads; an unknown kid triggers a reload,
// but at most every 5 s (that path is exercised in keys_internal_test.go).
func TestKeysSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	a := e.keys
	b, err := authn.LoadKeys(ctx, e.db, authn.TestingKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Sign(e.alice.ID, "alice", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, tok, now); err != nil {
		t.Fatalf("second instance does not verify the first one's token: %v", err)
	}
	if _, err := b.Sign(e.alice.ID, "alice", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	var n int64
	n, err = e.db.NewSelect().Table("signing_keys").Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("signing keys after two LoadKeys = %d, %v; want 1 (the second must not add one)", n, err)
	}

	loaded := time.Now()
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	newKid, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := a.Sign(e.alice.ID, "alice", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// b loaded its keys a moment ago, so the staleness guard keeps it from
	// reloading for an unknown kid: the new key is not known yet.
	_, err = b.Verify(ctx, tok2, now)
	if time.Since(loaded) < 4*time.Second && !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("b verified a token of a key it has not loaded within the 5 s guard: err = %v", err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, tk := range map[string]string{"old key": tok, "new key": tok2} {
		if _, err := b.Verify(ctx, tk, now); err != nil {
			t.Errorf("b after Reload, %s: %v", name, err)
		}
	}
	tok3, err := b.Sign(e.alice.ID, "alice", now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := kidOf(t, tok3); got != newKid {
		t.Fatalf("b signs with %s after Reload, want the newest key %s", got, newKid)
	}

	// Retiring on a is seen by b when b reloads.
	if err := a.Retire(ctx, kidOf(t, tok)); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, tok, now); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("b still verifies a retired key after Reload: %v", err)
	}
}

func TestAuthenticateUserGoneOrDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok := e.login(t, "alice", alicePassword)
	if _, err := e.svc.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	e.disable(t, e.alice)
	_, err := e.svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, errs.KindUnauthenticated)

	// A well-signed token for a user that does not exist.
	ghost, err := e.keys.Sign("0190aaaa-0000-7000-8000-000000000000", "ghost", time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, ghost)
	wantKind(t, err, errs.KindUnauthenticated)
}
