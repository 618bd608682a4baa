package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
)

// signingKey is one HMAC key for access tokens. Keys live in the database
// so that every replica signs and verifies with the same set: the newest
// unretired key signs, every unretired key verifies. Secret is sealed with
// AES-GCM under the process's secret key, so a copy of the database alone
// cannot forge tokens.
type signingKey struct {
	bun.BaseModel `bun:"table:signing_keys"`
	ID            string `bun:"id,pk"`
	Secret        string `bun:"secret"`
	// Generation numbers the keys; it is unique, so two replicas rotating
	// at once cannot both add one.
	Generation int64      `bun:"generation"`
	CreatedAt  time.Time  `bun:"created_at"`
	RetiredAt  *time.Time `bun:"retired_at"`
}

// KeyOptions configures LoadKeys.
type KeyOptions struct {
	// Secret is the process's secret key (config.MasterKey), at least 32
	// bytes. The key that seals the signing keys is derived from it.
	Secret []byte
	// Rotation: a new signing key is made when the newest is older than
	// this. Default DefaultKeyRotation.
	Rotation time.Duration
	// Retention: a replaced key still verifies until it is older than
	// Rotation + Retention, then it is retired. Default DefaultRefreshTTL.
	Retention time.Duration
	// MaxTTL is the longest access token lifetime Sign issues and Verify
	// accepts. Default DefaultAccessTTL.
	MaxTTL time.Duration
	// Now is the clock for rotation and retirement (tests move it).
	Now func() time.Time
}

// DefaultKeyRotation is how long one key signs before the next takes over.
const DefaultKeyRotation = 30 * 24 * time.Hour

// lifetimeLeeway absorbs clock differences between replicas in the checks
// of a token's issue time and lifetime.
const lifetimeLeeway = 30 * time.Second

// sealedPrefix marks an encrypted secret; earlier versions stored the key as
// plain base64, which never contains ':'.
const sealedPrefix = "aesgcm1:"

// ErrWrongSecretKey means the signing keys in the database were sealed with
// another secret key than this process has.
var ErrWrongSecretKey = errors.New("the signing keys in the database were encrypted with another secret key: " +
	"set WANJIA_SECRET_KEY (or WANJIA_SECRET_KEY_FILE) to the one used before, " +
	"or, if it is lost, delete the rows of signing_keys (everyone signs in again)")

// Keys holds the signing keys in memory.
type Keys struct {
	db        bun.IDB
	box       *seal.Box
	rotation  time.Duration
	retention time.Duration
	maxTTL    time.Duration
	now       func() time.Time

	mu         sync.RWMutex
	current    string
	secrets    map[string][]byte
	lastReload time.Time
	// verified remembers the tokens whose signature and claims were
	// checked, while their key is loaded: every request presents the same
	// token again, and parsing it was a tenth of a list request's cost.
	// Only time moves after the check, so a remembered token is checked
	// for its lifetime alone.
	verified map[string]verifiedToken
}

// verifiedToken is a token that passed Verify, and the key that signed it.
type verifiedToken struct {
	kid    string
	claims Claims
}

// maxVerified bounds the remembered tokens; past it, they are forgotten
// and checked afresh.
const maxVerified = 10_000

// LoadKeys loads the keys, creating the first one on a fresh database and
// rotating or retiring as due (see Reload).
func LoadKeys(ctx context.Context, db bun.IDB, o KeyOptions) (*Keys, error) {
	// A key of its own for this one use, so the secret key can seal other
	// things (the console's sessions) without two uses sharing a key.
	box, err := seal.New(o.Secret, "wanjia signing_keys aes-256-gcm v1")
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	k := &Keys{db: db, box: box, rotation: o.Rotation, retention: o.Retention, maxTTL: o.MaxTTL, now: o.Now}
	if k.rotation <= 0 {
		k.rotation = DefaultKeyRotation
	}
	if k.retention <= 0 {
		k.retention = DefaultRefreshTTL
	}
	if k.maxTTL <= 0 {
		k.maxTTL = DefaultAccessTTL
	}
	if k.now == nil {
		k.now = time.Now
	}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// seal encrypts a key's secret, bound to its id so that a sealed secret
// copied onto another row does not open.
func (k *Keys) seal(id string, secret []byte) (string, error) {
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(k.box.Seal(secret, []byte("signing_keys:"+id))), nil
}

// open decrypts a row's secret; plain reports a key stored in plain text by
// an earlier version.
func (k *Keys) open(r *signingKey) (secret []byte, plain bool, err error) {
	enc, sealed := strings.CutPrefix(r.Secret, sealedPrefix)
	if !sealed {
		b, err := base64.RawStdEncoding.DecodeString(r.Secret)
		if err != nil || len(b) < 32 {
			return nil, false, fmt.Errorf("signing key %s is malformed", r.ID)
		}
		return b, true, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return nil, false, fmt.Errorf("signing key %s is malformed", r.ID)
	}
	secret, err = k.box.Open(b, []byte("signing_keys:"+r.ID))
	if err != nil {
		return nil, false, fmt.Errorf("signing key %s: %w", r.ID, ErrWrongSecretKey)
	}
	if len(secret) < 32 {
		return nil, false, fmt.Errorf("signing key %s is malformed", r.ID)
	}
	return secret, false, nil
}

// loaded is one read of the table.
type loaded struct {
	all     []signingKey // retired too, by generation
	active  []signingKey // unretired, by generation
	secrets map[string][]byte
	plain   []signingKey // unretired or not, still in plain text
	maxGen  int64
}

// load reads every key in one query, so that the highest generation and
// the newest active key come from the same snapshot (see add).
func (k *Keys) load(ctx context.Context) (*loaded, error) {
	l := &loaded{secrets: map[string][]byte{}}
	if err := k.db.NewSelect().Model(&l.all).Order("generation ASC", "id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	for _, r := range l.all {
		l.maxGen = max(l.maxGen, r.Generation)
		if r.RetiredAt != nil {
			if !strings.HasPrefix(r.Secret, sealedPrefix) {
				l.plain = append(l.plain, r)
			}
			continue
		}
		// Every active key must open: with the wrong secret key the process
		// stops here, before it signs anything or writes a key.
		secret, plain, err := k.open(&r)
		if err != nil {
			return nil, err
		}
		if plain {
			l.plain = append(l.plain, r)
		}
		l.secrets[r.ID] = secret
		l.active = append(l.active, r)
	}
	return l, nil
}

// Reload re-reads the keys and does the upkeep any replica may do, so that
// no single process is in charge of it: keys left in plain text by earlier
// versions are encrypted, a new key is added when the newest is older than
// the rotation period, and keys replaced long enough ago are retired. It
// runs at start, every minute, and when a token names an unknown key.
func (k *Keys) Reload(ctx context.Context) error {
	l, err := k.load(ctx)
	if err != nil {
		return err
	}
	changed, err := k.upkeep(ctx, l)
	if err != nil {
		return err
	}
	if changed {
		if l, err = k.load(ctx); err != nil {
			return err
		}
	}
	if len(l.active) == 0 {
		return errors.New("signing keys: none active after upkeep")
	}
	k.mu.Lock()
	k.secrets, k.current, k.lastReload = l.secrets, l.active[len(l.active)-1].ID, time.Now()
	k.mu.Unlock()
	return nil
}

func (k *Keys) upkeep(ctx context.Context, l *loaded) (changed bool, err error) {
	for _, r := range l.plain {
		secret, _, err := k.open(&r)
		if err != nil {
			// A malformed retired key: it verifies nothing, so it need not
			// stop the process.
			continue
		}
		sealed, err := k.seal(r.ID, secret)
		if err != nil {
			return false, err
		}
		// Conditional, so that two replicas encrypting at once both end
		// with a row that opens (whichever wrote last).
		if _, err := k.db.NewUpdate().Model((*signingKey)(nil)).Set("secret = ?", sealed).
			Where("id = ? AND secret = ?", r.ID, r.Secret).Exec(ctx); err != nil {
			return false, fmt.Errorf("encrypt signing key %s: %w", r.ID, err)
		}
		changed = true
	}

	now := k.now()
	newest := -1 // index in l.active of the key that will sign
	if n := len(l.active); n > 0 {
		newest = n - 1
	}
	if newest < 0 || !l.active[newest].CreatedAt.After(now.Add(-k.rotation)) {
		// Another replica may be doing the same: only one insert of this
		// generation succeeds, and the loser loads the winner's key.
		if _, err := k.add(ctx, l.maxGen+1, now); err != nil && !errors.Is(err, errRaced) {
			return false, err
		}
		changed = true
		newest = len(l.active) // a key newer than every loaded one exists now
	}

	// Retire what no token can still need; never the key that signs.
	cutoff := now.Add(-(k.rotation + k.retention))
	var old []string
	for i, r := range l.active {
		if i != newest && r.CreatedAt.Before(cutoff) {
			old = append(old, r.ID)
		}
	}
	if len(old) > 0 {
		if _, err := k.db.NewUpdate().Model((*signingKey)(nil)).Set("retired_at = ?", now.UTC()).
			Where("id IN (?) AND retired_at IS NULL", bun.List(old)).Exec(ctx); err != nil {
			return false, fmt.Errorf("retire signing keys: %w", err)
		}
		changed = true
	}
	return changed, nil
}

// errRaced means another process added the key of that generation first.
var errRaced = errors.New("signing key generation taken")

// add inserts a new key of generation gen.
func (k *Keys) add(ctx context.Context, gen int64, now time.Time) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	sealed, err := k.seal(id.String(), secret)
	if err != nil {
		return "", err
	}
	row := &signingKey{ID: id.String(), Secret: sealed, Generation: gen, CreatedAt: now.UTC()}
	if _, err := k.db.NewInsert().Model(row).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return "", errRaced
		}
		return "", fmt.Errorf("add signing key: %w", err)
	}
	return row.ID, nil
}

// Rotate adds a new key now, whatever the schedule; it signs from now on,
// and older keys still verify until retired, so tokens in flight stay valid.
func (k *Keys) Rotate(ctx context.Context) (string, error) {
	for range 5 {
		l, err := k.load(ctx)
		if err != nil {
			return "", err
		}
		id, err := k.add(ctx, l.maxGen+1, k.now())
		if errors.Is(err, errRaced) {
			continue
		}
		if err != nil {
			return "", err
		}
		return id, k.Reload(ctx)
	}
	return "", errors.New("add signing key: lost the race five times")
}

// Retire stops a key from verifying; tokens it signed are rejected.
func (k *Keys) Retire(ctx context.Context, id string) error {
	if _, err := k.db.NewUpdate().Model((*signingKey)(nil)).Set("retired_at = ?", k.now().UTC()).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("retire signing key: %w", err)
	}
	return k.Reload(ctx)
}

// Claims are what an access token says.
type Claims struct {
	Username string `json:"name"`
	// SessionID is the sign-in the token belongs to (its refresh token
	// family): signing out revokes it (Revocations). Empty in tokens
	// signed before sessions were named.
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Sign issues an access token for the user, valid for ttl, which may not
// exceed the keys' MaxTTL (Verify would refuse the token).
func (k *Keys) Sign(userID, username string, now time.Time, ttl time.Duration) (string, error) {
	return k.SignSession(userID, username, "", now, ttl)
}

// MaxTTL is the longest access token lifetime the keys accept.
func (k *Keys) MaxTTL() time.Duration { return k.maxTTL }

// SignSession is Sign for a token of the session sid.
func (k *Keys) SignSession(userID, username, sid string, now time.Time, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > k.maxTTL {
		return "", fmt.Errorf("access token lifetime %v is not within (0, %v]", ttl, k.maxTTL)
	}
	k.mu.RLock()
	kid, secret := k.current, k.secrets[k.current]
	k.mu.RUnlock()
	if kid == "" {
		return "", errors.New("no signing key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{
		Username:  username,
		SessionID: sid,
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

// Verify checks an access token's signature, key, issuer and lifetime. A
// token must say when it was issued and when it expires, and may not live
// longer than MaxTTL: a leaked key or a bug elsewhere must not yield tokens
// valid for years.
func (k *Keys) Verify(ctx context.Context, token string, now time.Time) (*Claims, error) {
	k.mu.RLock()
	v, ok := k.verified[token]
	if ok {
		_, ok = k.secrets[v.kid]
	}
	k.mu.RUnlock()
	if ok {
		return v.claims.live(now)
	}
	claims := &Claims{}
	var kid string
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
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
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if claims.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	if claims.IssuedAt == nil || claims.ExpiresAt == nil {
		return nil, fmt.Errorf("%w: no iat or exp", ErrInvalidToken)
	}
	iat, exp := claims.IssuedAt.Time, claims.ExpiresAt.Time
	if exp.Sub(iat) > k.maxTTL+lifetimeLeeway {
		return nil, fmt.Errorf("%w: lifetime %v exceeds %v", ErrInvalidToken, exp.Sub(iat), k.maxTTL)
	}
	if iat.After(now.Add(lifetimeLeeway)) {
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	k.mu.Lock()
	if _, loaded := k.secrets[kid]; loaded {
		if k.verified == nil || len(k.verified) >= maxVerified {
			k.verified = make(map[string]verifiedToken)
		}
		k.verified[token] = verifiedToken{kid: kid, claims: *claims}
	}
	k.mu.Unlock()
	return claims, nil
}

// live is a copy of claims already verified, if they hold at now: what
// Verify checks of a token's time (expiry, not before, issued at).
func (c Claims) live(now time.Time) (*Claims, error) {
	if !now.Before(c.ExpiresAt.Time) {
		return nil, fmt.Errorf("%w: token is expired", ErrInvalidToken)
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Time) {
		return nil, fmt.Errorf("%w: token is not valid yet", ErrInvalidToken)
	}
	if c.IssuedAt.Time.After(now.Add(lifetimeLeeway)) {
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	return &c, nil
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
