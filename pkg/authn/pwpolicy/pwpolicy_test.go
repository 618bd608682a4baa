package pwpolicy

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, user, pw, want string // want: the problem key, "" for none
	}{
		{"one letter (the review's WANJIA_ADMIN_PASSWORD=a)", "admin", "a", "password_too_short"},
		{"eight digits", "admin", "12345678", "password_too_short"},
		{"nine characters", "", "abcdefgh9", "password_too_short"},
		{"500 KB", "admin", strings.Repeat("x", 500<<10), "password_too_long"},
		{"129 characters", "", strings.Repeat("ab", 64) + "c", "password_too_long"},
		{"128 characters", "", strings.Repeat("ab", 64), ""},
		{"128 Chinese characters (384 bytes)", "", strings.Repeat("密码", 64), ""},
		{"129 Chinese characters", "", strings.Repeat("密", 129), "password_too_long"},
		{"ten Chinese characters", "", "我的密码很长而且好记", ""},
		{"the username", "yucai.admin", "yucai.admin", "password_is_username"},
		{"the username in capitals", "yucai.admin", "YUCAI.Admin", "password_is_username"},
		{"the username, no user given", "", "yucai.admin", ""},
		{"common", "", "1234567890", "password_too_common"},
		{"common in capitals", "", "PassWord123", "password_too_common"},
		{"the demo password of the tests", "yucai.admin", "demo-pass-123", ""},
		{"the admin password of the tests", "admin", "admin-pass-123", ""},
		{"a passphrase", "alice", "correct horse battery", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Check(tt.user, tt.pw)
			got := ""
			if p != nil {
				got = p.Key
			}
			if got != tt.want {
				t.Fatalf("Check(%q, %.20q) = %q, want %q", tt.user, tt.pw, got, tt.want)
			}
		})
	}
}

// The review's examples and the Chinese favourites are on the list.
func TestCommonList(t *testing.T) {
	for _, pw := range []string{"1234567890", "password123", "qwertyuiop", "12345678910", "Aa123456789",
		"woaini1314", "5201314520", "qq123456789", "a123456789", "1qaz2wsx3edc", "iloveyou1314", "0000000000"} {
		if p := Check("", pw); p == nil || p.Key != "password_too_common" {
			t.Errorf("%q is accepted", pw)
		}
	}
	if n := len(common); n < 200 {
		t.Errorf("only %d common passwords", n)
	}
	for pw := range common {
		if pw != strings.ToLower(pw) || strings.TrimSpace(pw) != pw {
			t.Errorf("list entry %q is not normalised", pw)
		}
	}
}

// Every problem has a message in both languages, with its bound filled in.
func TestMessages(t *testing.T) {
	for _, pw := range []string{"short", strings.Repeat("x", 200), "alice", "password123"} {
		p := Check("alice", strings.Repeat(pw, 1))
		if p == nil {
			continue
		}
		m, ok := i18n.Lookup(p.Key)
		if !ok || m.ZH == "" || m.EN == "" {
			t.Fatalf("no message for %s", p.Key)
		}
		zh, en := i18n.T(i18n.ZH, p.Key, p.Args), i18n.T(i18n.EN, p.Key, p.Args)
		if strings.Contains(zh, "{") || strings.Contains(en, "{") || p.Error() != en {
			t.Errorf("%s: %q / %q / %q", p.Key, zh, en, p.Error())
		}
	}
	if got := Check("", "short").Error(); got != "The password must have at least 10 characters" {
		t.Errorf("message = %q", got)
	}
}
