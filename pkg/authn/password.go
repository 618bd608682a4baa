package authn

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/wanjia/wanjia/pkg/authn/pwpolicy"
	"github.com/wanjia/wanjia/pkg/errs"
)

// Argon2Params are the argon2id cost settings. They are stored in every
// hash (PHC string format), so raising them later keeps old hashes valid.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 keeps OWASP's 19 MiB, one-lane argon2id profile but runs
// 5 passes instead of 2, so that one login costs 50–150 ms on the 2-core
// reference machine (BenchmarkLogin): slow enough to make guessing
// expensive, fast enough that a login feels instant, and small in memory so
// that a burst of logins cannot push a small office server into swap.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 5, Threads: 1, KeyLen: 32, SaltLen: 16}

// maxArgon2Memory bounds the memory a stored hash may ask for (1 GiB), so
// that a corrupt or forged hash cannot make CheckPassword exhaust memory.
const maxArgon2Memory = 1 << 20 // KiB

// check rejects parameters that argon2 panics on (no passes, no lanes) or
// that would make a useless hash (no salt, no key) or an absurd allocation.
func (p Argon2Params) check() error {
	if p.Time < 1 || p.Threads < 1 || p.Memory > maxArgon2Memory || p.KeyLen < 4 || p.SaltLen < 8 {
		return fmt.Errorf("invalid argon2 parameters m=%d,t=%d,p=%d,key=%d,salt=%d", p.Memory, p.Time, p.Threads, p.KeyLen, p.SaltLen)
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random salt.
func HashPassword(pw string, p Argon2Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// CheckPassword reports whether pw matches hash, in constant time.
func CheckPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time < 1 || p.Threads < 1 || p.Memory > maxArgon2Memory {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// PasswordFieldError checks pw against the password policy (pwpolicy) for
// username and, when it fails, returns the field error to report on field.
// Callers that collect several field errors use it; others use
// ValidatePassword.
func PasswordFieldError(field, username, pw string) (errs.FieldError, bool) {
	if p := pwpolicy.Check(username, pw); p != nil {
		return errs.Field(field, p.Key, p.Args), true
	}
	return errs.FieldError{}, false
}

// ValidatePassword is the policy check as a 422 on the field "password".
func ValidatePassword(username, pw string) error {
	if f, bad := PasswordFieldError("password", username, pw); bad {
		return errs.Validation(f)
	}
	return nil
}
