package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Tags is a list of labels kept in a JSON array column (tags on
// households, residents, care records). Lists scan thousands of them a
// second, and reflective JSON decoding was a tenth of a households page's
// cost: the plain arrays the platform writes (strings without escapes)
// are read directly, anything else by encoding/json.
type Tags []string

// Scan reads a JSON array of strings.
func (t *Tags) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*t = nil
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("store: tags from %T", src)
	}
	if out, ok := plainTags(s); ok {
		*t = out
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return fmt.Errorf("store: tags: %w", err)
	}
	*t = out
	return nil
}

// Value writes the list as a JSON array; no tags is [], never null.
func (t Tags) Value() (driver.Value, error) {
	if len(t) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(t))
	return string(b), err
}

// plainTags parses s if it is a JSON array of strings with no escapes, in
// valid UTF-8 without control characters (what json.Marshal and
// PostgreSQL's jsonb output write: ["a", "b"] or ["a","b"]).
func plainTags(s string) (Tags, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' || strings.ContainsRune(s, '\\') || !utf8.ValidString(s) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return nil, false // a control character: JSON refuses it in a string
		}
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	out := Tags{}
	for body != "" {
		if body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"')
		if end < 0 {
			return nil, false
		}
		out = append(out, body[1:1+end])
		body = strings.TrimSpace(body[2+end:])
		if body == "" {
			break
		}
		if body[0] != ',' {
			return nil, false
		}
		body = strings.TrimSpace(body[1:])
		if body == "" {
			return nil, false // a trailing comma
		}
	}
	return out, true
}
