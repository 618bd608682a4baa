package store

import (
	"encoding/json"
	"strings"

	"github.com/uptrace/bun"
)

// Query helpers every domain needs, where the two dialects differ or where
// getting it right once matters (paging). Domains write no dialect-specific
// SQL of their own.

// HasTag narrows q to rows whose JSON array column alias.tags holds tag.
func (db *DB) HasTag(q *bun.SelectQuery, alias, tag string) *bun.SelectQuery {
	if db.dialect == Postgres {
		b, _ := json.Marshal([]string{tag})
		return q.Where("?.tags @> ?::jsonb", bun.Ident(alias), string(b))
	}
	// The substring test first: it rules out most rows cheaply, and it is
	// the predicate of the partial indexes on well-known tags (migration
	// tag_indexes). It is only sound when the tag is stored as written,
	// which encoding/json does for all but quotes, backslashes, <, > and &.
	if needle, _ := json.Marshal(tag); string(needle) == `"`+tag+`"` {
		q = q.Where("instr(?.tags, ?) > 0", bun.Ident(alias), string(needle))
	}
	return q.Where("EXISTS (SELECT 1 FROM json_each(?.tags) WHERE value = ?)", bun.Ident(alias), tag)
}

// HasPrefix narrows q to rows whose col starts with p, in a form each
// database answers from an index (LIKE with text_pattern_ops; GLOB).
func (db *DB) HasPrefix(q *bun.SelectQuery, col, p string) *bun.SelectQuery {
	if db.dialect == Postgres {
		return q.Where("? LIKE ?", bun.Ident(col), likeEscape(p)+"%")
	}
	return q.Where("? GLOB ?", bun.Ident(col), globEscape(p)+"*")
}

// Contains narrows q to rows whose col contains s anywhere (no index: for
// short lists already narrowed by tenant).
func Contains(q *bun.SelectQuery, col, s string) *bun.SelectQuery {
	return q.Where("? LIKE ? ESCAPE '\\'", bun.Ident(col), "%"+likeEscape(s)+"%")
}

func likeEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Keyset pages q by col (a unique, ordered key: UUIDv7 ids are ordered by
// time): the rows after cursor, at most limit of them plus one that tells
// whether another page follows (see NextPage).
func Keyset(q *bun.SelectQuery, col, cursor string, limit int) *bun.SelectQuery {
	if cursor != "" {
		q = q.Where("? > ?", bun.Ident(col), cursor)
	}
	return q.OrderExpr("? ASC", bun.Ident(col)).Limit(int64(limit) + 1)
}

// KeysetDesc is Keyset newest first: the rows before cursor.
func KeysetDesc(q *bun.SelectQuery, col, cursor string, limit int) *bun.SelectQuery {
	if cursor != "" {
		q = q.Where("? < ?", bun.Ident(col), cursor)
	}
	return q.OrderExpr("? DESC", bun.Ident(col)).Limit(int64(limit) + 1)
}

// Page is one page of a listing: its rows and the cursor of the next page
// ("" on the last).
type Page[T any] struct {
	Items []T
	Next  string
}

// NextPage trims the rows a Keyset query returned to limit, and names the
// cursor of the next page: the last row's key, or "" on the last page.
func NextPage[T any](rows []T, limit int, key func(*T) string) Page[T] {
	if len(rows) <= limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:limit]
	return Page[T]{Items: rows, Next: key(&rows[limit-1])}
}

// PageRows is the slice a Keyset query scans a page into, with room for
// limit rows and the one after: bun appends row by row, and a list grown
// from nil copies its rows six times over on the way to 51 (a third of a
// households page's allocations).
func PageRows[T any](limit int) []T {
	return make([]T, 0, max(limit, 0)+1)
}
