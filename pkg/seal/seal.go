// Package seal encrypts small values (signing keys at rest, the console's
// session cookie) under a key derived from the deployment's secret key:
// AES-256-GCM with a random nonce, one derived key per purpose so that no
// two uses share a key, and additional data that binds a sealed value to
// where it belongs (a row id, a cookie name).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrOpen means a sealed value did not open: another secret key, a value
// changed or moved, or not a sealed value at all.
var ErrOpen = errors.New("seal: cannot open")

// Box seals and opens values for one purpose.
type Box struct{ aead cipher.AEAD }

// New returns the box for purpose under secret (at least 32 bytes).
func New(secret []byte, purpose string) (*Box, error) {
	if len(secret) < 32 {
		return nil, errors.New("seal: the secret key must have at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive the %s key: %w", purpose, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain, bound to ad; the result is nonce || ciphertext.
func (b *Box) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand does not fail on supported platforms
	return b.aead.Seal(nonce, nonce, plain, ad)
}

// Open decrypts what Seal made with the same ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
