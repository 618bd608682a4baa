// Package idempotency makes a create safe to retry. A client that sends a
// write with an Idempotency-Key header and sends it again (a grid worker on
// a weak mobile network whose answer never arrived) gets the first write's
// answer back instead of a second record.
//
// The key lives in idempotency_keys, per tenant, for TTL. It is claimed in
// the same transaction as the write it guards (scope.Once calls Claim and
// Save), so a key is recorded exactly when its write commits: two retries
// racing on two replicas cannot both write, and a write that failed leaves
// no key behind and can be retried with the same one.
//
// Middleware turns the header into a Request in the request context; the
// web console, which calls services with HTML forms, builds one itself with
// Fingerprint and With.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// MaxKeyLen bounds a key: a UUID is 36 characters, and the key is stored
// and indexed for a day.
const MaxKeyLen = 200

// TTL is how long a key is remembered. A retry later than that writes again.
const TTL = 24 * time.Hour

// Request is one idempotent write: the client's key, and a fingerprint of
// who asked what, so that the same key sent with another request is refused
// instead of answered with someone else's result.
type Request struct {
	Key         string
	Fingerprint string
}

type requestKey struct{}

// With returns ctx carrying r, for scope.Once to honour.
func With(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// From returns the Request in ctx, if any.
func From(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// Fingerprint is the hex sha256 of parts. Each part is prefixed with its
// length, so ("ab", "c") and ("a", "bc") differ.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ValidKey reports whether k (already trimmed) may be used as a key:
// 1 to MaxKeyLen printable ASCII characters, safe to store, log and echo.
func ValidKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
