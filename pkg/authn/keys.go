package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// signingKey is one HMAC key for access tokens. Keys live in the database
// so that every replica signs and verifies with the same set, and rotation
// is one row: the newest unretired key signs, every unretired key verifies.
type signingKey struct {
	bun.BaseModel `bun:"table:signing_keys"`
	ID            string     `bun:"id,pk"`
	Secret        string     `bun:"secret"`
	CreatedAt     time.Time  `bun:"created_at"`
	RetiredAt     *time.Time `bun:"retired_at"`
}

// Keys holds the signing keys in memory.
type Keys struct {
	db bun.IDB

	mu         sync.RWMutex
	current    string
	secrets    map[string][]byte
	lastReload time.Time
}

// LoadKeys loads the keys, creating the first one on a fresh database.
func LoadKeys(ctx context.Context, db bun.IDB) (*Keys, error) {
	k := &Keys{db: db}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	if k.current == "" {
		if _, err := k.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Reload re-reads the keys from the database.
func (k *Keys) Reload(ctx context.Context) error {
	var rows []signingKey
	if err := k.db.NewSelect().Model(&rows).Where("retired_at IS NULL").Order("created_at ASC", "id ASC").Scan(ctx); err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	secrets := make(map[string][]byte, len(rows))
	current := ""
	for _, r := range rows {
		b, err := base64.RawStdEncoding.DecodeString(r.Secret)
		if err != nil || len(b) < 32 {
			return fmt.Errorf("signing key %s is malformed", r.ID)
		}
		secrets[r.ID] = b
		current = r.ID
	}
	k.mu.Lock()
	k.secrets, k.current, k.lastReload = secrets, current, time.Now()
	k.mu.Unlock()
	return nil
}

// Rotate adds a new key, which signs from now on; older keys still verify
// until retired, so tokens in flight stay valid.
func (k *Keys) Rotate(ctx context.Context) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	row := &signingKey{ID: id.String(), Secret: base64.RawStdEncoding.EncodeToString(secret), CreatedAt: time.Now().UTC()}
	if _, err := k.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("add signing key: %w", err)
	}
	return row.ID, k.Reload(ctx)
}

// Retire stops a key from verifying; tokens it signed are rejected.
func (k *Keys) Retire(ctx context.Context, id string) error {
	if _, err := k.db.NewUpdate().Model((*signingKey)(nil)).Set("retired_at = ?", time.Now().UTC()).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("retire signing key: %w", err)
	}
	return k.Reload(ctx)
}

// Claims are what an access token says.
type Claims struct {
	Username string `json:"name"`
	jwt.RegisteredClaims
}

// Sign issues an access token for the user, valid for ttl.
func (k *Keys) Sign(userID, username string, now time.Time, ttl time.Duration) (string, error) {
	k.mu.RLock()
	kid, secret := k.current, k.secrets[k.current]
	k.mu.RUnlock()
	if kid == "" {
		return "", errors.New("no signing key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{
		Username: username,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	})
	t.Header["kid"] = kid
	return t.SignedString(secret)
}

const issuer = "wanjia"

// ErrInvalidToken covers every reason a token is refused; the reason is
// not told to the client.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks an access token's signature, key, issuer and lifetime.
func (k *Keys) Verify(ctx context.Context, token string, now time.Time) (*Claims, error) {
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if s := k.secret(ctx, kid); s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("unknown key %q", kid)
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil || claims.Subject == "" {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return claims, nil
}

// secret finds a key by id. An unknown id may be a key another replica has
// just added, so reload once, but not more often than every few seconds, so
// that tokens with made-up ids cannot hammer the database.
func (k *Keys) secret(ctx context.Context, kid string) []byte {
	k.mu.RLock()
	s, ok := k.secrets[kid]
	stale := time.Since(k.lastReload) > 5*time.Second
	k.mu.RUnlock()
	if ok || kid == "" || !stale {
		return s
	}
	if err := k.Reload(ctx); err != nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.secrets[kid]
}
