package roster

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
)

// clean trims, folds full-width characters and collapses inner spaces, the
// way people expect "１号楼 ２单元" and "1号楼 2单元" to be the same.
func clean(s string) string {
	if plain(s) {
		return s // the common case, without allocating
	}
	s = width.Fold.String(s)
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// plain reports whether clean(s) == s: no full-width characters and no
// leading, trailing or doubled white space.
func plain(s string) bool {
	prevSpace := true
	for _, r := range s {
		space := unicode.IsSpace(r)
		if (space && prevSpace) || r == '\u3000' || (r >= 0xFF01 && r <= 0xFFEE) || (space && r != ' ') {
			return false
		}
		prevSpace = space
	}
	return !prevSpace || s == ""
}

func checkText(fe *[]errs.FieldError, field, v string, max int, required bool) {
	switch {
	case v == "" && required:
		*fe = append(*fe, errs.Field(field, "required", nil))
	case utf8.RuneCountInString(v) > max:
		*fe = append(*fe, errs.Field(field, "too_long", map[string]any{"max": max}))
	}
}

// phoneField normalises an optional phone, noting a field error.
func phoneField(fe *[]errs.FieldError, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	n, err := pii.NormalizePhone(v)
	if err != nil {
		*fe = append(*fe, errs.Field(field, piiKey(err, "phone_format"), nil))
		return ""
	}
	return n
}

func piiKey(err error, fallback string) string {
	var e *pii.Error
	if errors.As(err, &e) && e.Key != "" {
		return e.Key
	}
	return fallback
}

// tagsField normalises tags: known aliases become their tag, custom tags
// are kept as written; at most 10 tags of at most 20 characters.
func tagsField(fe *[]errs.FieldError, field string, in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = clean(t)
		if t == "" {
			continue
		}
		if known, ok := tagAliases[strings.ToLower(t)]; ok {
			t = known
		}
		if utf8.RuneCountInString(t) > 20 {
			*fe = append(*fe, errs.Field(field, "tag_too_long", map[string]any{"max": 20}))
			continue
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > 10 {
		*fe = append(*fe, errs.Field(field, "too_many_tags", map[string]any{"max": 10}))
	}
	return out
}

// splitTags reads a spreadsheet cell of tags: "独居, 老人；慢性病".
func splitTags(cell string) []string {
	return strings.FieldsFunc(cell, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '、' || r == '|' || r == '/' || unicode.IsSpace(r)
	})
}

var keyCleaner = strings.NewReplacer(" ", "", "#", "")

// addressKey is a household's natural key in its community.
func addressKey(buildingID, unit, room, address string) string {
	norm := func(s string) string { return keyCleaner.Replace(strings.ToLower(clean(s))) }
	if buildingID != "" {
		// "2单元 301室" and "2 301" are the same door.
		unit = strings.TrimSuffix(norm(unit), "单元")
		room = strings.TrimSuffix(strings.TrimSuffix(norm(room), "室"), "号")
		return "b|" + buildingID + "|" + unit + "|" + room
	}
	return "a|" + norm(address)
}
