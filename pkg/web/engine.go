// Package web is the Gin layer shared by every HTTP door of the platform:
// the engine and its middleware (request ids, recovery, access log, metrics,
// body limits), the one error renderer, and small request/response helpers.
// Handlers stay thin: decode with BindJSON, call a service, answer with OK
// or Fail.
package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/observe"
)

// DefaultBodyLimit caps request bodies unless a route group raises it with
// BodyLimit; 1 MiB is ample for JSON and small enough that a flood of large
// bodies cannot exhaust memory.
const DefaultBodyLimit int64 = 1 << 20

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-ID"

// Options configures NewEngine. The zero value works: slog.Default(), no
// metrics, a 1 MiB body limit, no proxy trusted.
type Options struct {
	Logger    *slog.Logger
	Metrics   *observe.Metrics
	BodyLimit int64
	// TrustedProxies lists CIDRs or IPs whose X-Forwarded-For is believed
	// for ClientIP. None by default: the client IP feeds the login throttle
	// and the audit log, and trusting, say, every private range would let
	// anyone on an office LAN pick theirs. Name the ingress or load
	// balancer (WANJIA_TRUSTED_PROXIES).
	TrustedProxies []string
}

// Context keys; unexported types are not possible with gin's string keys, so
// a prefix avoids collisions with other packages' c.Set.
const (
	keyRequestID = "web.request_id"
	keyLang      = "web.lang"
	keyOrigBody  = "web.orig_body"
)

// NewEngine returns a Gin engine with the platform's middleware and the
// error shape for unknown routes and methods. Routes are added by the caller.
func NewEngine(o Options) *gin.Engine {
	// GIN_MODE set by an operator wins; otherwise no debug route dump or
	// warnings in production logs.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	limit := o.BodyLimit
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Handlers must pass c.Request.Context() to services, never c itself:
	// a gin.Context is recycled when the handler returns, while database/sql
	// may still watch the context's Done channel (a data race). Without the
	// fallback, a *gin.Context passed by mistake carries no request values,
	// so tests catch it.
	e.ContextWithFallback = false
	if err := e.SetTrustedProxies(o.TrustedProxies); err != nil {
		log.Error("invalid trusted proxies, trusting none", "proxies", o.TrustedProxies, "error", err)
		_ = e.SetTrustedProxies(nil)
	}

	// Order matters: the access log and metrics sit outside recovery so a
	// panic is still logged and counted as the 500 it became; the error
	// renderer is innermost so it runs right after the handler, and after
	// the text check, whose refusals it renders.
	mw := []gin.HandlerFunc{requestIDMiddleware(), accessLog(log)}
	if o.Metrics != nil {
		mw = append(mw, metricsMiddleware(o.Metrics))
	}
	mw = append(mw, recovery(log), bodyLimit(limit), errorMiddleware(log), textCheck())
	e.Use(mw...)

	e.NoRoute(func(c *gin.Context) {
		Fail(c, errs.New(errs.KindNotFound, "unknown_route", nil))
	})
	e.NoMethod(func(c *gin.Context) {
		Fail(c, errs.New(errs.KindMethodNotAllowed, "method_not_allowed", nil))
	})
	return e
}

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string {
	return c.GetString(keyRequestID)
}

// Lang returns the caller's language from Accept-Language, parsed once per
// request.
func Lang(c *gin.Context) i18n.Lang {
	if v, ok := c.Get(keyLang); ok {
		if l, ok := v.(i18n.Lang); ok {
			return l
		}
	}
	l := i18n.Parse(c.GetHeader("Accept-Language"))
	c.Set(keyLang, l)
	return l
}

// validRequestID accepts ids that are safe to echo into headers and logs:
// bounded length and a charset without spaces, quotes or control bytes.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	// v7 sorts by time, which makes ids from one incident easy to group.
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}

func requestIDMiddleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set(keyRequestID, id)
		c.Header(HeaderRequestID, id)
		c.Request = c.Request.WithContext(observe.WithRequestID(c.Request.Context(), id))
		c.Next()
	}
}

func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("path", logPath(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("request_id", RequestID(c)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// logPath is the URL path with secret path parameters masked. The query is
// left out entirely: searches carry names and phone numbers. Path tokens
// (the resident check-in link /r/{token}) are credentials and must not sit
// in logs that many people can read.
func logPath(c *gin.Context) string {
	p := c.Request.URL.Path
	for _, param := range c.Params {
		if strings.Contains(strings.ToLower(param.Key), "token") && param.Value != "" {
			p = strings.ReplaceAll(p, param.Value, "***")
		}
	}
	// A scanner's half-megabyte path must not become a half-megabyte line.
	if len(p) > maxLoggedPath {
		p = strings.ToValidUTF8(p[:maxLoggedPath], "") + "…"
	}
	return p
}

// maxLoggedPath bounds the path written to the access log.
const maxLoggedPath = 256

// knownMethods bounds the method label: arbitrary methods from scanners
// would otherwise each create a new time series.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func metricsMiddleware(m *observe.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		// The route template, never the raw path, keeps cardinality bounded
		// by the number of routes; everything unrouted shares one label.
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request.Method
		if !knownMethods[method] {
			method = "OTHER"
		}
		m.HTTPRequests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.HTTPDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	}
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			// net/http's documented way to abort a response silently; it
			// must reach the server to cut the connection.
			if v == http.ErrAbortHandler {
				panic(v)
			}
			c.Abort()
			if err, ok := v.(error); ok && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
				// The client hung up mid-response; there is no one to answer.
				log.WarnContext(c.Request.Context(), "client connection lost",
					"request_id", RequestID(c), "error", err)
				return
			}
			log.ErrorContext(c.Request.Context(), "panic serving request",
				"request_id", RequestID(c),
				"method", c.Request.Method,
				"route", c.FullPath(),
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()),
			)
			if !c.Writer.Written() {
				// Already logged above with the stack; render without the
				// panic value, which may hold internals.
				writeError(c, errs.Internal(nil))
			}
		}()
		c.Next()
	}
}

func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if hasBody(c.Request) {
			// Kept so BodyLimit can re-wrap the real body: wrapping the
			// already-limited reader could only lower the limit.
			c.Set(keyOrigBody, c.Request.Body)
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

// BodyLimit sets the request body limit for the routes it guards, e.g. a
// larger one for roster imports. It replaces the engine-wide limit rather
// than stacking on it, so it can raise as well as lower it.
func BodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if hasBody(c.Request) {
			body := c.Request.Body
			if orig, ok := c.Get(keyOrigBody); ok {
				if rc, ok := orig.(io.ReadCloser); ok {
					body = rc
				}
			}
			c.Request.Body = http.MaxBytesReader(c.Writer, body, n)
		}
		c.Next()
	}
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody
}
