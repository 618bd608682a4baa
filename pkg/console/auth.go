package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

const keySession = "console.session"

func sessionOf(g *gin.Context) (session, bool) {
	v, ok := g.Get(keySession)
	if !ok {
		return session{}, false
	}
	s, ok := v.(session)
	return s, ok
}

// loadSession opens the session cookie, if any, and puts its user in the
// request context where authz's middleware looks for the API's; a cookie
// that no longer opens or whose session ended is dropped.
func (c *Console) loadSession(g *gin.Context) {
	s, ok := c.sessions.read(g.Request)
	if !ok {
		if _, err := g.Request.Cookie(sessionCookie); err == nil {
			http.SetCookie(g.Writer, c.sessions.cookie(sessionCookie, "", -1))
		}
		g.Next()
		return
	}
	u, next, err := c.sessions.user(g.Request.Context(), s)
	if err != nil {
		if errs.KindOf(err) != errs.KindUnauthenticated {
			web.Fail(g, err) // the database is down: a 503 page, not a sign-out
			return
		}
		http.SetCookie(g.Writer, c.sessions.cookie(sessionCookie, "", -1))
		g.Next()
		return
	}
	if next != s {
		http.SetCookie(g.Writer, c.sessions.cookie(sessionCookie, c.sessions.seal(next), sessionIdle))
	}
	g.Set(keySession, next)
	g.Request = g.Request.WithContext(authn.WithUser(g.Request.Context(), u))
	g.Next()
}

// requireUser sends anyone not signed in to the sign-in page.
func (c *Console) requireUser(g *gin.Context) {
	if _, ok := authn.UserFrom(g.Request.Context()); !ok {
		web.Fail(g, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
		return
	}
	g.Next()
}

// checkCSRF refuses (403) an unsafe request that does not carry the
// session's token (the sign-in form and the public pages: the token of
// their cookie), in the
// X-CSRF-Token header (htmx sends it), the csrf query parameter (upload
// forms: the check must not read a 32 MiB body before authorization), or
// the csrf field of a url-encoded form. Every page sets the token in its
// forms, so a cross-site form, which cannot read it, fails here.
func (c *Console) checkCSRF(g *gin.Context) {
	switch g.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		g.Next()
		return
	}
	want := ""
	if s, ok := sessionOf(g); ok {
		want = s.CSRF
	} else if g.FullPath() == Prefix+"/login" {
		if ck, err := g.Request.Cookie(loginCookie); err == nil {
			want = ck.Value
		}
	} else if isPublic(g.Request.URL.Path) {
		if ck, err := g.Request.Cookie(publicCookie); err == nil {
			want = ck.Value
		}
	}
	got := g.GetHeader("X-CSRF-Token")
	if got == "" {
		got = g.Query("csrf")
	}
	if got == "" && strings.HasPrefix(g.ContentType(), "application/x-www-form-urlencoded") {
		got = g.PostForm("csrf")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		if _, signedIn := sessionOf(g); OfflineRequest(g) && signedIn {
			// A replay with a stale token: offline.js keeps the record and
			// fetches a fresh token; nothing is stashed.
			g.AbortWithStatusJSON(http.StatusForbidden, gin.H{"stored": false, "signin": true})
			return
		} else if c.keepForm(g, signedIn, got) {
			return
		}
		web.Fail(g, errs.New(errs.KindForbidden, "console.csrf_failed", nil))
		return
	}
	g.Next()
}

type loginView struct {
	*Frame
	Next     string
	Kept     bool // a form's input waits for the sign-in (stash.go)
	Out      bool // just signed out: signout.js wipes the offline lists
	Username string
	Message  string
	Fields   map[string]string
}

func (c *Console) loginPage(g *gin.Context) {
	next := safeNext(g.Query("next"))
	if _, ok := authn.UserFrom(g.Request.Context()); ok {
		g.Redirect(http.StatusSeeOther, next)
		return
	}
	_, kept := c.sessions.openStash(g.Request)
	c.renderLogin(g, http.StatusOK, loginView{Next: next, Kept: kept, Out: g.Query("out") != ""})
}

func (c *Console) renderLogin(g *gin.Context, status int, v loginView) {
	token := ""
	if ck, err := g.Request.Cookie(loginCookie); err == nil && len(ck.Value) >= 32 {
		token = ck.Value
	} else {
		token = randomToken()
		http.SetCookie(g.Writer, c.sessions.cookie(loginCookie, token, time.Hour))
	}
	v.Frame = c.frameFor(g)
	v.CSRF, v.Title = token, "console.login.title"
	c.render(g, status, "login", v)
}

// login signs in through authn.Login, so the same throttle applies as to
// the API, keyed by the same client address.
func (c *Console) login(g *gin.Context) {
	username, password := strings.TrimSpace(g.PostForm("username")), g.PostForm("password")
	next := safeNext(g.PostForm("next"))
	t, u, err := c.authn.Login(g.Request.Context(), username, password, g.ClientIP())
	if err != nil {
		var e *errs.Error
		if !errors.As(err, &e) || (e.Kind != errs.KindValidation && e.Kind != errs.KindUnauthenticated && e.Kind != errs.KindRateLimited) {
			web.Fail(g, err)
			return
		}
		l := Lang(g)
		v := loginView{Next: next, Username: username, Fields: fieldMessages(l, e)}
		if e.Kind != errs.KindValidation {
			v.Message = i18n.T(l, e.MessageKey(), e.Args)
		}
		if s := e.Data["retry_after"]; s != nil {
			g.Header("Retry-After", toString(s))
		}
		c.renderLogin(g, web.Status(e.Kind), v)
		return
	}
	s := c.sessions.start(t)
	s.User = u.ID
	http.SetCookie(g.Writer, c.sessions.cookie(sessionCookie, c.sessions.seal(s), sessionIdle))
	http.SetCookie(g.Writer, c.sessions.cookie(loginCookie, "", -1))
	g.Redirect(http.StatusSeeOther, next)
}

// logout ends the session for good (authn revokes its refresh tokens),
// not only in this browser.
func (c *Console) logout(g *gin.Context) {
	if s, ok := sessionOf(g); ok {
		if err := c.authn.Logout(g.Request.Context(), s.Refresh); err != nil {
			web.Fail(g, err)
			return
		}
	}
	http.SetCookie(g.Writer, c.sessions.cookie(sessionCookie, "", -1))
	http.SetCookie(g.Writer, c.sessions.cookie(stashCookie, "", -1))
	// What the offline lists kept on this device goes with the session:
	// the header where the browser honours it, signout.js on the sign-in
	// page where it does not.
	g.Header("Clear-Site-Data", `"cache", "storage"`)
	// The cache goes, so the stylesheet is no longer held: inline again.
	http.SetCookie(g.Writer, c.sessions.cookie(styleCookie, "", -1))
	g.Redirect(http.StatusSeeOther, Prefix+"/login?out=1")
}

// setLang keeps the reader's choice of language for a year; without it,
// Accept-Language decides, and Chinese by default.
func (c *Console) setLang(g *gin.Context) {
	l := g.Param("lang")
	if l != string(i18n.EN) && l != string(i18n.ZH) {
		web.Fail(g, errs.NotFound())
		return
	}
	http.SetCookie(g.Writer, c.sessions.cookie(langCookie, l, 365*24*time.Hour))
	g.Redirect(http.StatusSeeOther, safeNext(g.Query("next")))
}

// Lang is the reader's language: the console's cookie, then
// Accept-Language (zh-CN when neither says).
func Lang(g *gin.Context) i18n.Lang {
	if ck, err := g.Request.Cookie(langCookie); err == nil {
		switch ck.Value {
		case string(i18n.EN):
			return i18n.EN
		case string(i18n.ZH):
			return i18n.ZH
		}
	}
	return web.Lang(g)
}

// safeNext keeps a return address only if it is one of the console's own
// paths, so the sign-in page cannot be made to send anyone elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(u.Path, Prefix+"/") || !strings.HasPrefix(path.Clean(u.Path)+"/", Prefix+"/") ||
		strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return Prefix + "/"
	}
	return u.RequestURI()
}

type startView struct {
	*Frame
	Orgs []OrgLink
}

// start opens the org the person works in; someone in several orgs picks.
func (c *Console) start(g *gin.Context) {
	f := c.frameFor(g)
	if len(f.Orgs) == 1 {
		g.Redirect(http.StatusSeeOther, f.Orgs[0].URL)
		return
	}
	links := append([]OrgLink(nil), f.Orgs...)
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	f.Title = "console.start.title"
	c.render(g, http.StatusOK, "start", startView{Frame: f, Orgs: links})
}
