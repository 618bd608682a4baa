package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
)

// Fail records err for the error middleware and stops the handler chain.
// Handlers never write error bodies themselves, so every error has the same
// shape, status mapping and logging.
func Fail(c *gin.Context, err error) {
	if err == nil {
		err = errs.Internal(errors.New("web.Fail called with a nil error"))
	}
	_ = c.Error(err)
	c.Abort()
}

var kindStatus = map[errs.Kind]int{
	errs.KindBadRequest:       http.StatusBadRequest,
	errs.KindUnauthenticated:  http.StatusUnauthorized,
	errs.KindForbidden:        http.StatusForbidden,
	errs.KindNotFound:         http.StatusNotFound,
	errs.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	errs.KindConflict:         http.StatusConflict,
	errs.KindTooLarge:         http.StatusRequestEntityTooLarge,
	errs.KindValidation:       http.StatusUnprocessableEntity,
	errs.KindRateLimited:      http.StatusTooManyRequests,
	errs.KindUnavailable:      http.StatusServiceUnavailable,
}

// Status is the HTTP status for a Kind; anything unknown is a 500.
func Status(k errs.Kind) int {
	if s, ok := kindStatus[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// normalize turns any error into the *errs.Error to render. Besides
// errs.KindOf it knows one HTTP-only case: a body over the limit surfacing
// through some other reader (multipart forms, a handler's own decoder).
func normalize(err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": tooLarge.Limit}).WithCause(err)
	}
	if errs.IsUnavailable(err) {
		return errs.Unavailable("unavailable", err)
	}
	return errs.Internal(err)
}

func errorMiddleware(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		last := c.Errors.Last()
		if last == nil {
			return
		}
		err := last.Err
		e := normalize(err)
		status := Status(e.Kind)
		if status >= 500 {
			level := slog.LevelError
			if errors.Is(err, context.Canceled) {
				// The caller went away; not a defect worth paging for.
				level = slog.LevelWarn
			}
			// The full cause goes to the log only; the client gets a generic
			// message and the request id to quote to support.
			log.LogAttrs(c.Request.Context(), level, "request failed",
				slog.String("request_id", RequestID(c)),
				slog.String("method", c.Request.Method),
				slog.String("route", c.FullPath()),
				slog.Int("status", status),
				slog.String("error", err.Error()),
			)
		}
		if c.Writer.Written() {
			// A handler wrote a response and then failed; the status is on
			// the wire already and cannot be changed.
			log.WarnContext(c.Request.Context(), "error after response was written",
				"request_id", RequestID(c), "error", err.Error())
			return
		}
		writeError(c, e)
	}
}

type detail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// writeError renders e in the API's error shape in the caller's language.
func writeError(c *gin.Context, e *errs.Error) {
	status := Status(e.Kind)
	lang := Lang(c)
	body := gin.H{}
	if status == http.StatusInternalServerError {
		// A 500 is a bug: its key, data and fields were chosen by code that
		// misbehaved, so nothing of it is trusted to be safe to show.
		body["code"] = errs.KindInternal.String()
		body["message"] = i18n.T(lang, "internal", nil)
	} else {
		for k, v := range e.Data {
			body[k] = v
		}
		// Set after Data so extra fields can never mask the contract's.
		body["code"] = e.MachineCode()
		body["message"] = i18n.T(lang, e.MessageKey(), e.Args)
		if len(e.Fields) > 0 {
			details := make([]detail, 0, len(e.Fields))
			for _, f := range e.Fields {
				details = append(details, detail{Field: f.Field, Message: i18n.T(lang, f.Key, f.Args)})
			}
			body["details"] = details
		} else {
			delete(body, "details")
		}
		switch status {
		case http.StatusUnauthorized:
			c.Header("WWW-Authenticate", "Bearer")
		case http.StatusTooManyRequests:
			if s := retryAfter(e.Data["retry_after"]); s != "" {
				c.Header("Retry-After", s)
			}
		}
	}
	c.AbortWithStatusJSON(status, gin.H{"error": body})
}

// retryAfter formats a retry_after seconds value for the Retry-After header,
// so HTTP-level clients back off without parsing the body.
func retryAfter(v any) string {
	switch n := v.(type) {
	case int:
		if n > 0 {
			return strconv.Itoa(n)
		}
	case int64:
		if n > 0 {
			return strconv.FormatInt(n, 10)
		}
	case float64:
		if n > 0 {
			return strconv.FormatInt(int64(n+0.999), 10)
		}
	}
	return ""
}
