package i18n

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"", ZH},
		{"en", EN},
		{"EN-us", EN},
		{"en_GB", EN},
		{"zh-CN", ZH},
		{"zh-TW,zh;q=0.9", ZH},
		{"fr-FR", ZH},
		{"fr-FR, en;q=0.5", EN},
		{"zh-CN,zh;q=0.9,en;q=0.8", ZH},
		{"en-US,en;q=0.9,zh-CN;q=0.8", EN},
		{"zh;q=0.1, en", EN},
		{"en;q=0.4, zh;q=0.6", ZH},
		{"en;q=0, fr", ZH},
		{"*", ZH},
		{"en;q=bogus", ZH},
		{"en;level=1", ZH},
		{";;;,,,", ZH},
		{"english", ZH},
		{"  en-US  ;  q=0.7 ", EN},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := Parse(tt.header); got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestParseBoundsWork(t *testing.T) {
	h := strings.Repeat("fr,", 10000) + "en"
	if got := Parse(h); got != ZH {
		t.Errorf("a huge header should stop early and default to ZH, got %q", got)
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		name string
		lang Lang
		key  string
		args map[string]any
		want string
	}{
		{"zh", ZH, "not_found", nil, "记录不存在"},
		{"en", EN, "not_found", nil, "No such record"},
		{"unknown lang falls back to zh", Lang("de"), "not_found", nil, "记录不存在"},
		{"unknown key", EN, "no.such.key", map[string]any{"x": 1}, "no.such.key"},
		{"args", EN, "too_long", map[string]any{"max": 64}, "Must be at most 64 characters"},
		{"two args zh", ZH, "out_of_range", map[string]any{"min": 34.0, "max": 43.5}, "应在 34 到 43.5 之间"},
		{"missing arg kept", EN, "too_long", map[string]any{"other": 1}, "Must be at most {max} characters"},
		{"no args keeps placeholder", EN, "too_long", nil, "Must be at most {max} characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := T(tt.lang, tt.key, tt.args); got != tt.want {
				t.Errorf("T = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   string
		args map[string]any
		want string
	}{
		{"{a}{b}", map[string]any{"a": 1, "b": "x"}, "1x"},
		{"unclosed {a", map[string]any{"a": 1}, "unclosed {a"},
		{"{}", map[string]any{"": "empty"}, "empty"},
		{"a {a} {a}", map[string]any{"a": "z"}, "a z z"},
		{"nested {{a}}", map[string]any{"a": "z"}, "nested {{a}}"},
	}
	for _, tt := range tests {
		if got := format(tt.in, tt.args); got != tt.want {
			t.Errorf("format(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEveryMessageHasBothLanguages(t *testing.T) {
	keys := Keys()
	if len(keys) == 0 {
		t.Fatal("no messages registered")
	}
	for _, k := range keys {
		m, _ := Lookup(k)
		if strings.TrimSpace(m.ZH) == "" || strings.TrimSpace(m.EN) == "" {
			t.Errorf("message %q lacks a translation: %+v", k, m)
		}
	}
}

func TestGenericMessagesRegistered(t *testing.T) {
	// The errs codes are listed here rather than imported so that i18n stays
	// at the bottom floor; pkg/web tests the link from errs.Kinds() too.
	for _, k := range []string{
		"bad_request", "unauthenticated", "forbidden", "not_found", "method_not_allowed",
		"conflict", "too_large", "validation_failed", "rate_limited", "unavailable", "internal",
		"required", "invalid_format", "too_long", "out_of_range", "invalid_json", "body_too_large",
		"unknown_route", "invalid_limit", "invalid_cursor", "unavailable_database", "unavailable_redis",
	} {
		if _, ok := Lookup(k); !ok {
			t.Errorf("generic message %q not registered", k)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		msgs map[string]Message
	}{
		{"duplicate", map[string]Message{"not_found": {"a", "b"}}},
		{"missing en", map[string]Message{"test.only.zh": {ZH: "中"}}},
		{"missing zh", map[string]Message{"test.only.en": {EN: "en"}}},
		{"empty key", map[string]Message{"": {"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			Register(tt.msgs)
		})
	}
	if m, _ := Lookup("not_found"); m.ZH != "记录不存在" {
		t.Errorf("a rejected registration changed an existing message: %+v", m)
	}
	if _, ok := Lookup("test.only.zh"); ok {
		t.Error("a rejected registration was partly applied")
	}
}

func TestRegisterNew(t *testing.T) {
	Register(map[string]Message{"test.greeting": {"你好，{name}", "Hello, {name}"}})
	if got := T(EN, "test.greeting", map[string]any{"name": "Li"}); got != "Hello, Li" {
		t.Errorf("got %q", got)
	}
}
