// Package pwpolicy is the one password policy of the platform: what every
// password set anywhere (the admin's and the demo users' from the
// environment, a new member's, a changed one) must satisfy. It lives apart
// from authn so that pkg/config can check the passwords it is given at start
// without pulling in the database and HTTP layers.
package pwpolicy

import (
	"bufio"
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// Length bounds, in characters (runes): a Chinese passphrase counts its
// characters, not its UTF-8 bytes.
const (
	MinLen = 10
	MaxLen = 128
	// MaxBytes is the longest UTF-8 encoding of MaxLen characters. Anything
	// longer is refused before it is counted or hashed, so a megabyte
	// "password" costs nothing.
	MaxBytes = MaxLen * utf8.UTFMax
)

// Problem is why a password may not be used: an i18n message key and its
// arguments, so each caller renders it in its own way (a field error for the
// API, a line for the operator).
type Problem struct {
	Key  string
	Args map[string]any
}

// Error is the English message, for start-up errors and logs.
func (p *Problem) Error() string { return i18n.T(i18n.EN, p.Key, p.Args) }

//go:embed common.txt
var commonText string

// common holds the embedded list, lower-cased.
var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	sc := bufio.NewScanner(strings.NewReader(commonText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}()

// Check returns why username may not use pw, or nil. username may be empty
// when the password is not tied to one user yet (the demo users' shared
// password); each user's own check happens when the user is created.
func Check(username, pw string) *Problem {
	// Bytes first: counting runes of a huge input is already work.
	if len(pw) > MaxBytes || utf8.RuneCountInString(pw) > MaxLen {
		return &Problem{Key: "password_too_long", Args: map[string]any{"max": MaxLen}}
	}
	if utf8.RuneCountInString(pw) < MinLen {
		return &Problem{Key: "password_too_short", Args: map[string]any{"min": MinLen}}
	}
	if username != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(username)) {
		return &Problem{Key: "password_is_username"}
	}
	// Case-insensitive: "Password123" is as guessable as "password123".
	if _, bad := common[strings.ToLower(pw)]; bad {
		return &Problem{Key: "password_too_common"}
	}
	return nil
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"password_too_short":   {ZH: "密码至少 {min} 位", EN: "The password must have at least {min} characters"},
		"password_too_long":    {ZH: "密码不能超过 {max} 位", EN: "The password must have at most {max} characters"},
		"password_is_username": {ZH: "密码不能与用户名相同", EN: "The password must not be the username"},
		"password_too_common":  {ZH: "密码过于常见，容易被猜到，请换一个", EN: "This password is too common and easy to guess; choose another"},
	})
}
