package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

// errorPages renders in HTML whatever error a page, the session or the
// authz middleware records with web.Fail, and clears it, so the engine's
// JSON renderer (outside it) has nothing left to do. An unauthenticated
// caller is sent to the sign-in page instead.
func (c *Console) errorPages(g *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		c.log.ErrorContext(g.Request.Context(), "panic serving console page", "request_id", web.RequestID(g),
			"path", g.Request.URL.Path, "panic", v, "stack", string(debug.Stack()))
		g.Abort()
		if !g.Writer.Written() {
			c.errorPage(g, errs.Internal(nil))
		}
	}()
	g.Next()
	last := g.Errors.Last()
	if last == nil {
		return
	}
	g.Errors = g.Errors[:0]
	err := last.Err
	if web.Status(errs.KindOf(err)) >= 500 {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelWarn
		}
		c.log.Log(g.Request.Context(), level, "console page failed", "request_id", web.RequestID(g),
			"path", g.Request.URL.Path, "error", err.Error())
	}
	if g.Writer.Written() {
		return // a download failed mid-stream: the status is on the wire
	}
	c.errorPage(g, err)
}

// errorPage answers err as a page in the console's style and the
// reader's language: 401 sends to the sign-in page, the rest show their
// status and the error's message (a 500 shows nothing of its cause).
func (c *Console) errorPage(g *gin.Context, err error) {
	kind := errs.KindOf(err)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		kind, err = errs.KindTooLarge, errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": tooLarge.Limit})
	}
	if kind == errs.KindUnauthenticated {
		c.toSignIn(g)
		return
	}
	status := web.Status(kind)
	f := c.frameFor(g)
	msg := i18n.T(f.Lang, kind.String(), nil)
	var e *errs.Error
	if status != http.StatusInternalServerError && errors.As(err, &e) {
		msg = i18n.T(f.Lang, e.MessageKey(), e.Args)
	}
	f.Title = "console.error.title"
	c.render(g, status, "error", errorView{Frame: f, Status: status, Message: msg, RequestID: web.RequestID(g)})
}

type errorView struct {
	*Frame
	Status    int
	Message   string
	RequestID string
}

// notFound is the console's 404 for unknown paths and methods.
func (c *Console) notFound(g *gin.Context) {
	c.errorPage(g, errs.NotFound())
}

// toSignIn sends an anonymous reader to the sign-in page, coming back to
// where they were going. htmx follows HX-Redirect rather than swapping the
// sign-in page into a fragment.
func (c *Console) toSignIn(g *gin.Context) {
	target := Prefix + "/login"
	if g.Request.Method == http.MethodGet && g.GetHeader("HX-Request") == "" {
		target += "?next=" + url.QueryEscape(g.Request.URL.RequestURI())
	}
	if OfflineRequest(g) {
		// offline.js keeps what waits and asks the worker to sign in.
		g.JSON(http.StatusUnauthorized, gin.H{"stored": false, "signin": true})
		return
	}
	if g.GetHeader("HX-Request") != "" {
		g.Header("HX-Redirect", target)
		g.Status(http.StatusUnauthorized)
		return
	}
	g.Redirect(http.StatusSeeOther, target)
}
