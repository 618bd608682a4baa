package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"

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
	return nil
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

// MarshalJSON writes an empty list as [] rather than null, which clients
// would otherwise have to special-case.
func (l List[T]) MarshalJSON() ([]byte, error) {
	items := l.Items
	if items == nil {
		items = []T{}
	}
	return json.Marshal(struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}{items, l.NextCursor})
}

// OK writes v as JSON with status (200, 201, 202...).
func OK(c *gin.Context, status int, v any) {
	c.JSON(status, v)
}
