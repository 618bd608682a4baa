package console

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
)

// fieldMessages renders a validation error's per-field messages in the
// reader's language, keyed by field, for each to show beside its input.
func fieldMessages(l i18n.Lang, e *errs.Error) map[string]string {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	sep := "；"
	if l == i18n.EN {
		sep = "; "
	}
	out := make(map[string]string, len(e.Fields))
	for _, f := range e.Fields {
		if f.Field == "" && f.Key == "" {
			continue // authn's "required if empty" leaves blanks
		}
		msg := i18n.T(l, f.Key, f.Args)
		if prev, ok := out[f.Field]; ok {
			msg = prev + sep + msg
		}
		out[f.Field] = msg
	}
	return out
}

// FormError splits a service's answer to a form: a validation error (422)
// or a conflict (409) is the reader's to fix and is shown on the form;
// anything else (not found, forbidden, an outage) is an error page.
func FormError(err error) (*errs.Error, bool) {
	var e *errs.Error
	if errors.As(err, &e) && (e.Kind == errs.KindValidation || e.Kind == errs.KindConflict) {
		return e, true
	}
	return nil, false
}

// FormState is what a form shows after a refused submission: the
// message of the whole (a conflict) and one per field.
type FormState struct {
	Message string
	Fields  map[string]string
}

// NewFormState renders e's messages in l for the form that caused it.
func NewFormState(l i18n.Lang, e *errs.Error) FormState {
	s := FormState{Fields: fieldMessages(l, e)}
	if e != nil && (len(e.Fields) == 0 || e.Kind != errs.KindValidation) {
		s.Message = i18n.T(l, e.MessageKey(), e.Args)
	}
	return s
}

// Field is the message for one field, if any.
func (s FormState) Field(name string) string { return s.Fields[name] }

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
