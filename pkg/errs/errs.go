// Package errs is the one application error type. It is free of HTTP so that
// domain services can return precise failures (not found, conflict, invalid
// field...) without knowing how they are rendered; pkg/web maps a Kind to a
// status and a Key to a localized message.
package errs

import (
	"errors"
	"strings"
)

// Kind says what went wrong from the client's point of view. It decides the
// HTTP status and the default machine code, nothing else.
type Kind int

// The kinds, one per status of the API contract. KindInternal is the zero
// value so that a forgotten Kind fails closed: a generic 500 that reveals
// nothing.
const (
	KindInternal         Kind = iota
	KindBadRequest            // 400: malformed request (bad JSON, wrong types)
	KindUnauthenticated       // 401: not signed in
	KindForbidden             // 403: signed in but not allowed here
	KindNotFound              // 404: no such record in this org
	KindMethodNotAllowed      // 405
	KindConflict              // 409: duplicate or wrong state
	KindTooLarge              // 413: body too large
	KindValidation            // 422: well-formed but invalid fields
	KindRateLimited           // 429
	KindUnavailable           // 503: a dependency is down
)

var kindCodes = [...]string{
	KindInternal:         "internal",
	KindBadRequest:       "bad_request",
	KindUnauthenticated:  "unauthenticated",
	KindForbidden:        "forbidden",
	KindNotFound:         "not_found",
	KindMethodNotAllowed: "method_not_allowed",
	KindConflict:         "conflict",
	KindTooLarge:         "too_large",
	KindValidation:       "validation_failed",
	KindRateLimited:      "rate_limited",
	KindUnavailable:      "unavailable",
}

// Kinds lists every Kind, so that tests elsewhere can check that each has a
// status and a message.
func Kinds() []Kind {
	ks := make([]Kind, len(kindCodes))
	for i := range kindCodes {
		ks[i] = Kind(i)
	}
	return ks
}

// String returns the default machine code of k; an out-of-range Kind is
// treated as internal because that is how it will be rendered.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindCodes) {
		return kindCodes[KindInternal]
	}
	return kindCodes[k]
}

// FieldError is one invalid input field. Key is an i18n message key, so the
// service never chooses a language.
type FieldError struct {
	Field string
	Key   string
	Args  map[string]any
}

// Error is the application error. Everything but Err may reach the client;
// Err is the cause and is only logged.
type Error struct {
	Kind Kind
	// Code overrides the machine code derived from Kind, for failures a
	// client must tell apart within one status (e.g. "duplicate").
	Code   string
	Key    string
	Args   map[string]any
	Fields []FieldError
	// Data holds extra JSON fields merged into the error object, e.g.
	// existing_id on a duplicate, so clients need not parse messages.
	Data map[string]any
	Err  error
}

// Error is for logs: code, key, invalid fields and cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.MachineCode())
	if e.Key != "" && e.Key != e.MachineCode() {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(f.Field + "=" + f.Key)
		if i == len(e.Fields)-1 {
			b.WriteString("]")
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the cause so errors.Is/As see through to, say, a driver
// error.
func (e *Error) Unwrap() error { return e.Err }

// MachineCode is Code if set, else the Kind's default code.
func (e *Error) MachineCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.String()
}

// MessageKey is Key if set, else the machine code, which always has a
// generic message registered.
func (e *Error) MessageKey() string {
	if e.Key != "" {
		return e.Key
	}
	return e.Kind.String()
}

// WithCode sets Code and returns e, for one-expression construction.
func (e *Error) WithCode(code string) *Error {
	e.Code = code
	return e
}

// WithData adds one extra client-visible field and returns e.
func (e *Error) WithData(key string, value any) *Error {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data[key] = value
	return e
}

// WithCause records the underlying error (logged, never shown) and returns e.
func (e *Error) WithCause(err error) *Error {
	e.Err = err
	return e
}

// New returns an error of the given kind; an empty key falls back to the
// kind's generic message.
func New(kind Kind, key string, args map[string]any) *Error {
	return &Error{Kind: kind, Key: key, Args: args}
}

// Field describes one invalid field.
func Field(field, key string, args map[string]any) FieldError {
	return FieldError{Field: field, Key: key, Args: args}
}

// Validation returns a 422 error with one detail per field. Zero FieldErrors
// are dropped so callers can pass conditional checks inline, e.g.
// Validation(requiredIf(a), requiredIf(b)).
func Validation(fields ...FieldError) *Error {
	kept := make([]FieldError, 0, len(fields))
	for _, f := range fields {
		if f.Field == "" && f.Key == "" {
			continue
		}
		kept = append(kept, f)
	}
	return &Error{Kind: KindValidation, Key: "validation_failed", Fields: kept}
}

// NotFound is the 404 for a missing record, also used for another org's
// record so that its existence is never revealed.
func NotFound() *Error { return New(KindNotFound, "not_found", nil) }

// Forbidden is the 403 for a signed-in caller without the permission.
func Forbidden() *Error { return New(KindForbidden, "forbidden", nil) }

// Unauthenticated is the 401 for a missing or invalid credential.
func Unauthenticated() *Error { return New(KindUnauthenticated, "unauthenticated", nil) }

// BadRequest is a 400 with the given message key ("" for the generic one).
func BadRequest(key string) *Error { return New(KindBadRequest, key, nil) }

// Conflict is a 409 for a duplicate or a wrong state; key explains which.
func Conflict(key string, args map[string]any) *Error { return New(KindConflict, key, args) }

// RateLimited is a 429 with the generic message.
func RateLimited() *Error { return New(KindRateLimited, "rate_limited", nil) }

// Unavailable is a 503 naming the dependency through its key (e.g.
// "unavailable_database"), keeping cause for the log.
func Unavailable(key string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Key: key, Err: cause}
}

// Internal wraps an unexpected failure; the client only ever sees a generic
// message, the cause goes to the log.
func Internal(cause error) *Error {
	return &Error{Kind: KindInternal, Key: "internal", Err: cause}
}

// KindOf classifies any error: an *Error anywhere in the chain decides;
// otherwise a dependency outage is KindUnavailable; anything else is a bug
// and KindInternal.
func KindOf(err error) Kind {
	if err == nil {
		return KindInternal
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if IsUnavailable(err) {
		return KindUnavailable
	}
	return KindInternal
}

// CodeOf returns the machine code a client would see for err.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.MachineCode()
	}
	return KindOf(err).String()
}
