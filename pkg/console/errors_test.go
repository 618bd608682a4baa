package console

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

// TestErrorPages: a failure anywhere in the console is a page in its own
// style and the reader's language, with the status the API would give,
// and a 500 shows nothing of its cause.
func TestErrorPages(t *testing.T) {
	c := New(Deps{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	e := c.engine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	e.GET(Prefix+"/test/panic", func(*gin.Context) { panic("secret detail of the crash") })
	e.GET(Prefix+"/test/down", func(g *gin.Context) {
		web.Fail(g, errs.Unavailable("unavailable_database", io.ErrUnexpectedEOF))
	})
	for _, c := range []struct {
		path   string
		lang   i18n.Lang
		status int
		want   string
	}{
		{"/test/panic", i18n.ZH, 500, i18n.T(i18n.ZH, "console.error.500", nil)},
		{"/test/panic", i18n.EN, 500, i18n.T(i18n.EN, "internal", nil)},
		{"/test/down", i18n.ZH, 503, i18n.T(i18n.ZH, "unavailable_database", nil)},
		{"/test/down", i18n.EN, 503, i18n.T(i18n.EN, "console.error.503", nil)},
		{"/nowhere", i18n.ZH, 404, i18n.T(i18n.ZH, "console.error.404", nil)},
		{"/login", i18n.EN, 200, i18n.T(i18n.EN, "console.login.submit", nil)},
		{"/lang/en", i18n.ZH, 303, ""},
	} {
		req := httptest.NewRequest(http.MethodGet, Prefix+c.path, nil)
		req.Header.Set("Accept-Language", string(c.lang))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != c.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(body, c.want) {
			t.Errorf("%s (%s): %d %s, want %d with %q", c.path, c.lang, rec.Code, rec.Header().Get("Content-Type"), c.status, c.want)
		}
		if strings.Contains(body, "secret detail") || strings.Contains(body, `"error"`) {
			t.Errorf("%s: the page shows the cause or the API's shape: %s", c.path, body)
		}
	}
}
