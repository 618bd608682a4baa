package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
)

// BindJSON decodes the request body into dst. Unknown fields are ignored so
// older servers accept newer clients; everything else malformed is a 400
// (with the field named for a type error), an oversized body a 413.
func BindJSON(c *gin.Context, dst any) error {
	if !hasBody(c.Request) {
		return errs.BadRequest("empty_body")
	}
	dec := json.NewDecoder(c.Request.Body)
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// A second value or trailing garbage usually means a client bug, such
	// as two objects concatenated; silently taking the first would hide it.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return errs.BadRequest("invalid_json")
		}
		return jsonError(err)
	}
	if field, bad := badText(reflect.ValueOf(dst), ""); bad {
		return errs.Validation(errs.Field(field, "invalid_text", nil))
	}
	return nil
}

// validText reports whether s can be stored and shown as text. A NUL byte
// is valid JSON ("\u0000") and valid in a URL ("%00"), but PostgreSQL
// refuses it in text columns, and so it ended as a 500; invalid UTF-8 in a
// query string did the same. Refusing both at the door gives the client a
// 422 naming the field, for every handler at once.
func validText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// badText walks a decoded value and returns the JSON path of the first
// string that is not valid text. JSON decoding leaves no cycles, so the walk
// ends.
func badText(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badText(v.Elem(), path)
	case reflect.String:
		if !validText(v.String()) {
			if path == "" {
				path = "body"
			}
			return path, true
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			// encoding/json's rule: unexported fields are skipped, except
			// embedded structs, whose exported fields it fills.
			if !f.IsExported() && !(f.Anonymous && indirect(f.Type).Kind() == reflect.Struct) {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			sub := path
			if name != "" || !f.Anonymous {
				// An untagged embedded struct's fields sit at its
				// parent's level, as encoding/json decodes them.
				if name == "" {
					name = f.Name
				}
				sub = joinPath(path, name)
			}
			if p, bad := badText(v.Field(i), sub); bad {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // []byte and json.RawMessage: bytes, not text
		}
		for i := range v.Len() {
			if p, bad := badText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			// Not k.Interface(): values reached through an unexported
			// embedded struct are read-only, and Interface would panic.
			var name string
			switch k.Kind() {
			case reflect.String:
				name = k.String()
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				name = strconv.FormatInt(k.Int(), 10)
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				name = strconv.FormatUint(k.Uint(), 10)
			}
			if k.Kind() == reflect.String && !validText(k.String()) {
				if path == "" {
					return "body", true
				}
				return path, true
			}
			if p, bad := badText(iter.Value(), joinPath(path, name)); bad {
				return p, true
			}
		}
	}
	return "", false
}

func indirect(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// textCheck refuses a request whose query parameters or path parameters
// are not valid text (see validText), before any handler sees them.
func textCheck() gin.HandlerFunc {
	return func(c *gin.Context) {
		for key, values := range c.Request.URL.Query() {
			ok := validText(key)
			for _, v := range values {
				ok = ok && validText(v)
			}
			if !ok {
				Fail(c, errs.Validation(errs.Field(safeName(key), "invalid_text", nil)))
				return
			}
		}
		for _, p := range c.Params {
			if !validText(p.Value) {
				Fail(c, errs.Validation(errs.Field(p.Key, "invalid_text", nil)))
				return
			}
		}
		c.Next()
	}
}

// safeName makes a parameter name fit to be echoed in the error details.
func safeName(key string) string {
	key = strings.ToValidUTF8(strings.ReplaceAll(key, "\x00", ""), "")
	if key == "" {
		return "query"
	}
	return key
}

func jsonError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		invalid  *json.InvalidUnmarshalError
		appErr   *errs.Error
		badJSON  = errs.BadRequest("invalid_json").WithCause(err)
	)
	switch {
	case errors.As(err, &tooLarge):
		return errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": tooLarge.Limit}).WithCause(err)
	case errors.Is(err, io.EOF):
		return errs.BadRequest("empty_body")
	case errors.As(err, &invalid):
		return errs.Internal(err) // dst is not a pointer: our bug
	case errors.As(err, &appErr):
		return appErr // a custom UnmarshalJSON chose its own error
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON
	case errors.As(err, &typeErr):
		e := errs.BadRequest("bad_request").WithCause(err)
		if typeErr.Field != "" {
			e.Fields = []errs.FieldError{errs.Field(typeErr.Field, expectKey(typeErr.Type), nil)}
		}
		return e
	default:
		// Custom unmarshalers (time.Time...) and body read errors: the
		// client sent something we cannot read.
		return badJSON
	}
}

// expectKey names the JSON type a Go type wants, as a message key, so the
// detail reads "must be an integer" rather than a Go type name.
func expectKey(t reflect.Type) string {
	if t == nil {
		return "invalid_type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "expect_string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "expect_integer"
	case reflect.Float32, reflect.Float64:
		return "expect_number"
	case reflect.Bool:
		return "expect_boolean"
	case reflect.Slice, reflect.Array:
		return "expect_array"
	case reflect.Map, reflect.Struct:
		return "expect_object"
	}
	return "invalid_type"
}

// Pagination bounds from the API contract.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	// maxCursorLen bounds what a domain must decode; real cursors are short.
	maxCursorLen = 512
)

// Page is a parsed ?limit=&cursor=. Cursor is opaque here; the domain that
// issued it decodes it.
type Page struct {
	Limit  int
	Cursor string
}

// ParsePage reads ?limit= (default 50, 1..500) and ?cursor=. An out-of-range
// limit is a 422 rather than silently clamped, so a client asking for 1000
// learns it gets at most 500.
func ParsePage(c *gin.Context) (Page, error) {
	p := Page{Limit: DefaultLimit, Cursor: c.Query("cursor")}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Page{}, errs.Validation(errs.Field("limit", "invalid_limit", map[string]any{"max": MaxLimit}))
		}
		p.Limit = n
	}
	if len(p.Cursor) > maxCursorLen {
		return Page{}, errs.Validation(errs.Field("cursor", "invalid_cursor", nil))
	}
	return p, nil
}

// List is the answer of every list endpoint.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// NewList is the answer of a list endpoint. An empty list is [] rather than
// null, which clients would otherwise have to special-case; it is set here
// rather than in a MarshalJSON method, whose output encoding/json would
// parse and compact a second time.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, NextCursor: next}
}

// OK writes v as JSON with status (200, 201, 202...). The answer is
// encoded into a pooled buffer and written once: gin's c.JSON marshals
// into a fresh slice each time (17 KB for a page of 50 households, the
// largest allocation of a list request). Encoding ends before anything is
// written, so a value that cannot be encoded still gets the error shape.
func OK(c *gin.Context, status int, v any) {
	buf := answerBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledAnswer {
			buf.Reset()
			answerBufs.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		Fail(c, fmt.Errorf("encode the answer: %w", err))
		return
	}
	c.Data(status, jsonContentType, buf.Bytes())
}

const jsonContentType = "application/json; charset=utf-8"

// maxPooledAnswer bounds the buffers kept for reuse: a rare huge answer
// is left to the collector rather than held by the pool.
const maxPooledAnswer = 256 << 10

var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
