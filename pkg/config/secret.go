package config

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// MinSecretKeyLen is the shortest secret key accepted, in characters.
// `openssl rand -base64 32` makes one of 44.
const MinSecretKeyLen = 32

// SecretKeyFileName is the key generated in the data dir in embedded mode.
const SecretKeyFileName = "secret.key"

func (c *Config) validateSecretKey() []error {
	var errs []error
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		errs = append(errs, errors.New("WANJIA_SECRET_KEY and WANJIA_SECRET_KEY_FILE are both set; set one"))
	}
	if c.SecretKey != "" {
		if err := checkSecretKey(c.SecretKey); err != nil {
			errs = append(errs, fmt.Errorf("WANJIA_SECRET_KEY: %w", err))
		}
	}
	return errs
}

func checkSecretKey(k string) error {
	if utf8.RuneCountInString(k) < MinSecretKeyLen {
		return fmt.Errorf("must have at least %d characters (e.g. the output of `openssl rand -base64 32`)", MinSecretKeyLen)
	}
	return nil
}

// MasterKey returns the 32-byte key that encrypts secrets at rest. It comes
// from WANJIA_SECRET_KEY, else from the file WANJIA_SECRET_KEY_FILE names,
// else, in embedded mode only, from a key generated on first start into the
// data dir (mode 0600), so that `make run` needs no setup. Real mode refuses
// to make one up: every replica must share the key, and losing it loses the
// signing keys.
//
// The key is any string of at least 32 characters; it is run through
// HKDF-SHA256, so a hex or base64 key and a long passphrase work alike
// (a passphrase is only as strong as it is long: prefer random bytes).
func (c *Config) MasterKey() ([]byte, error) {
	var raw string
	switch {
	case c.SecretKey != "":
		raw = c.SecretKey
	case c.SecretKeyFile != "":
		b, err := os.ReadFile(c.SecretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("WANJIA_SECRET_KEY_FILE: %w", err)
		}
		raw = strings.TrimSpace(string(b))
		if err := checkSecretKey(raw); err != nil {
			return nil, fmt.Errorf("WANJIA_SECRET_KEY_FILE %s: %w", c.SecretKeyFile, err)
		}
	case c.Embedded():
		var err error
		if raw, err = c.embeddedKey(); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("WANJIA_SECRET_KEY or WANJIA_SECRET_KEY_FILE must be set with WANJIA_DATABASE_URL: " +
			"it encrypts the token signing keys, and every replica needs the same one (make one with `openssl rand -base64 32`)")
	}
	return hkdf.Key(sha256.New, []byte(raw), nil, "wanjia master key v1", 32)
}

// embeddedKey reads the data dir's key, creating it on first start.
func (c *Config) embeddedKey() (string, error) {
	path := filepath.Join(c.DataDir, SecretKeyFileName)
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("secret key: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := base64.StdEncoding.EncodeToString(b)
	// O_EXCL: a key that exists is never overwritten, whatever happens.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if _, err := f.WriteString(key + "\n"); err != nil {
			f.Close()
			return "", fmt.Errorf("secret key %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("secret key %s: %w", path, err)
		}
		return key, nil
	case errors.Is(err, fs.ErrExist):
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("secret key %s: %w", path, err)
		}
		key = strings.TrimSpace(string(b))
		if err := checkSecretKey(key); err != nil {
			return "", fmt.Errorf("secret key %s: %w", path, err)
		}
		return key, nil
	default:
		return "", fmt.Errorf("secret key %s: %w", path, err)
	}
}

// Proxies parses TrustedProxies into the list gin's SetTrustedProxies
// takes: nil (trust none) when empty.
func (c *Config) Proxies() ([]string, error) {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.Contains(p, "/") {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return nil, fmt.Errorf("WANJIA_TRUSTED_PROXIES: %q is not a CIDR", p)
			}
		} else if net.ParseIP(p) == nil {
			return nil, fmt.Errorf("WANJIA_TRUSTED_PROXIES: %q is not an IP address", p)
		}
		out = append(out, p)
	}
	return out, nil
}
