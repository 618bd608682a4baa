package authn_test

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
)

// cheap keeps argon2 fast in tests; the benchmark uses DefaultArgon2.
var cheap = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashAndCheckPassword(t *testing.T) {
	t.Parallel()
	h, err := authn.HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the given parameters", h)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"correct horse battery ", false},
		{"", false},
		{"密码", false},
	}
	for _, tt := range tests {
		ok, err := authn.CheckPassword(h, tt.pw)
		if err != nil {
			t.Fatalf("CheckPassword(%q): %v", tt.pw, err)
		}
		if ok != tt.want {
			t.Errorf("CheckPassword(%q) = %v, want %v", tt.pw, ok, tt.want)
		}
	}
}

func TestHashPasswordSalts(t *testing.T) {
	t.Parallel()
	a, err := authn.HashPassword("same password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	b, err := authn.HashPassword("same password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
	for _, h := range []string{a, b} {
		if ok, err := authn.CheckPassword(h, "same password"); err != nil || !ok {
			t.Fatalf("CheckPassword(%s) = %v, %v", h, ok, err)
		}
	}
}

// A hash carries its own parameters, so raising the cost later keeps old
// hashes valid.
func TestCheckPasswordUsesStoredParameters(t *testing.T) {
	t.Parallel()
	other := authn.Argon2Params{Memory: 128, Time: 2, Threads: 2, KeyLen: 16, SaltLen: 8}
	h, err := authn.HashPassword("pw-with-other-params", other)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := authn.CheckPassword(h, "pw-with-other-params"); err != nil || !ok {
		t.Fatalf("CheckPassword = %v, %v", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	t.Parallel()
	good, err := authn.HashPassword("pw", cheap)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "secret"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"too few parts", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"too many parts", good + "$extra"},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$$m=64,t=1,p=1$" + salt + "$" + key},
		{"params not numbers", "$argon2id$v=19$m=x,t=1,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"absurd memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!$" + key},
		{"key not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$%%%"},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("CheckPassword panicked: %v", r)
				}
			}()
			ok, err := authn.CheckPassword(tt.hash, "pw")
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}

func TestHashPasswordBadParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    authn.Argon2Params
	}{
		{"zero value", authn.Argon2Params{}},
		{"zero time", authn.Argon2Params{Memory: 64, Time: 0, Threads: 1, KeyLen: 32, SaltLen: 16}},
		{"zero threads", authn.Argon2Params{Memory: 64, Time: 1, Threads: 0, KeyLen: 32, SaltLen: 16}},
		{"no key", authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 0, SaltLen: 16}},
		{"no salt", authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("HashPassword panicked: %v", r)
				}
			}()
			if h, err := authn.HashPassword("pw", tt.p); err == nil {
				t.Fatalf("HashPassword with %+v = %q, want an error", tt.p, h)
			}
		})
	}
}
