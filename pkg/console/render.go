package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*.css static/*.js static/*.svg
var staticFS embed.FS

// frame is what every page shows around its content (the header, the
// menu, the org switcher) and the helpers its templates call: T for every
// word, Time for every timestamp (in the org's time zone), Can to show
// only what the caller may do. Pages embed it in their own view struct.
type frame struct {
	Lang  i18n.Lang
	Title string // message key
	CSRF  string
	Path  string // this page, for the language links
	Here  string // this page's path, for forms that search it
	User  *authn.User
	Org   *orgLink // nil outside an org
	Up    *orgLink // the sub-district above a community its official reads
	Orgs  []orgLink
	Menu  []menuItem

	caller authz.Caller
	names  map[string]string // the names of the orgs the user can see, by slug
	can    func(resource, action string) bool
	loc    *time.Location
}

type orgLink struct {
	Slug, Name, Kind, URL string
	Current               bool
}

type menuItem struct {
	Key, URL string
	Active   bool
}

// T is the catalogue's text for key in the reader's language; args are
// name, value pairs for its {placeholders}.
func (f *frame) T(key string, args ...any) string {
	var m map[string]any
	if len(args) > 1 {
		m = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			m[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return i18n.T(f.Lang, key, m)
}

// Time shows t to the minute in the org's time zone.
func (f *frame) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(f.loc).Format("2006-01-02 15:04")
}

// Can reports whether the caller may do action on resource in this org,
// as the route serving it would decide.
func (f *frame) Can(resource, action string) bool { return f.can != nil && f.can(resource, action) }

// URL is a path in the current org's pages.
func (f *frame) URL(p string) string {
	if f.Org == nil {
		return Prefix + "/"
	}
	return f.Org.URL + p
}

// LangURL switches the language and comes back here.
func (f *frame) LangURL(l string) string {
	return Prefix + "/lang/" + l + "?next=" + template.URLQueryEscaper(f.Path)
}

// TagLabel is a tag in the reader's language when it is a well-known
// one, as the office wrote it otherwise.
func (f *frame) TagLabel(tag string) string {
	if has(wellKnownTags, tag) {
		return f.T("console.tag." + tag)
	}
	return tag
}

// RoleLabel and ActionLabel name a role and an audited action, falling
// back to the code for one the catalogue does not know (yet).
func (f *frame) RoleLabel(role string) string { return f.known("console.role."+role, role) }

func (f *frame) ActionLabel(action string) string { return f.known("console.action."+action, action) }

// ResourceLabel names what an audit entry is about.
func (f *frame) ResourceLabel(resource string) string {
	return f.known("console.resource."+resource, resource)
}

// OrgName is the name of an org the reader can see, by slug.
func (f *frame) OrgName(slug string) string {
	if n := f.names[slug]; n != "" {
		return n
	}
	return slug
}

func (f *frame) known(key, fallback string) string {
	if _, ok := i18n.Lookup(key); ok {
		return f.T(key)
	}
	return fallback
}

// Role is the caller's role in this org, as a message key.
func (f *frame) Role() string {
	if f.caller.Role == "" {
		return ""
	}
	return "console.role." + f.caller.Role
}

// The menu of an org, in order; each item shows only when its page's
// permission allows (and, for community records, only in a community).
var menu = []struct{ key, path, resource, action string }{
	{"console.menu.home", "", "orgs", "read"},
	{"console.menu.screenings", "/screenings", "screening", "read"},
	{"console.menu.follow_ups", "/follow-ups", "screening", "read"},
	{"console.menu.care", "/care", "care", "read"},
	{"console.menu.households", "/households", "roster", "read"},
	{"console.menu.buildings", "/buildings", "roster", "read"},
	{"console.menu.residents", "/residents", "roster", "read"},
	{"console.menu.publicity", "/publicity", "logs", "read"},
	{"console.menu.disinfections", "/disinfections", "logs", "read"},
	{"console.menu.outreach", "/outreach", "outreach", "read"},
	{"console.menu.opt_outs", "/outreach/opt-outs", "opt_outs", "read"},
	{"console.menu.imports", "/imports", "imports", "write"},
	{"console.menu.exports", "/exports", "roster", "export"},
	{"console.menu.members", "/members", "members", "read"},
	{"console.menu.audit", "/audit", "audit", "read"},
}

// frameFor builds the frame of the request: the reader's language, and
// when signed in, their orgs and, inside an org (authz bound the caller),
// its menu.
func (c *Console) frameFor(g *gin.Context) *frame {
	f := &frame{Lang: lang(g), Path: g.Request.URL.RequestURI(), Here: g.Request.URL.Path, loc: location("")}
	if s, ok := sessionOf(g); ok {
		f.CSRF = s.CSRF
	}
	ctx := g.Request.Context()
	u, ok := authn.UserFrom(ctx)
	if !ok {
		return f
	}
	f.User = u
	names := map[string]string{}
	f.names = names
	if views, err := c.orgs.List(ctx, u.ID); err == nil {
		for _, v := range views {
			names[v.Slug] = v.Name
		}
	}
	link := func(o *authz.Org) orgLink {
		name := names[o.Slug]
		if name == "" {
			name = o.Slug
		}
		return orgLink{Slug: o.Slug, Name: name, Kind: o.Kind, URL: Prefix + "/orgs/" + o.Slug}
	}
	caller, _ := authz.CallerFrom(ctx)
	for _, m := range c.authz.MembershipsOf(u.ID) {
		if o, ok := c.authz.OrgByID(m.OrgID); ok {
			l := link(o)
			l.Current = caller.Org != nil && caller.Org.ID == o.ID
			f.Orgs = append(f.Orgs, l)
		}
	}
	o := caller.Org
	if o == nil {
		return f
	}
	f.caller, f.loc = caller, location(o.Timezone)
	here := link(o)
	f.Org = &here
	// An official reading a community comes from the sub-district's table:
	// the way back is the nearest org above it that they are a member of.
	member := false
	for _, l := range f.Orgs {
		member = member || l.Current
	}
	if !member {
		best := ""
		for _, l := range f.Orgs {
			if above, ok := c.authz.Org(l.Slug); ok && strings.HasPrefix(o.Path, above.Path) && len(above.Path) > len(best) {
				up := l
				f.Up, best = &up, above.Path
			}
		}
	}
	f.can = func(resource, action string) bool {
		if !o.IsCommunity() && authz.CommunityOnly(resource) {
			return false
		}
		return c.authz.Check(u.ID, o.Slug, resource, action).Allowed
	}
	active := ""
	for _, m := range menu {
		if !f.Can(m.resource, m.action) {
			continue
		}
		key := m.key
		if m.path == "" && !o.IsCommunity() {
			key = "console.menu.communities"
		}
		url := here.URL + m.path
		f.Menu = append(f.Menu, menuItem{Key: key, URL: url})
		if strings.HasPrefix(g.Request.URL.Path+"/", url+"/") && len(url) > len(active) {
			active = url
		}
	}
	for i := range f.Menu {
		f.Menu[i].Active = f.Menu[i].URL == active
	}
	return f
}

var locations sync.Map // time zone name → *time.Location

// location is the org's time zone; an org without a usable one shows
// China's standard time, every org's default.
func location(name string) *time.Location {
	if name == "" {
		name = "Asia/Shanghai"
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.FixedZone("CST", 8*3600)
	}
	locations.Store(name, l)
	return l
}

// views are the parsed templates: each page is the layout and partials
// with the page's own file, so every page defines "content" its own way.
type views struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"static":    staticURL,
	"tel":       telURL,
	"dial":      dialURL,
	"pct":       percent,
	"callsLeft": callsLeft,
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"add": func(a, b int) int { return a + b },
	// list passes several values to a template ({{template "x" (list . "a")}}).
	"list": func(v ...any) []any { return v },
	// masked reports a phone the reader sees with its middle hidden.
	"masked": func(phone string) bool { return strings.Contains(phone, "*") },
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

// telURL makes a phone the reader sees whole into a link that calls it
// (staff at the door tap it); a masked phone is no link.
func telURL(phone string) template.URL {
	if phone == "" || strings.Contains(phone, "*") {
		return ""
	}
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' || r == '+' || r == '-' {
			b.WriteRune(r)
		}
	}
	return template.URL("tel:" + b.String())
}

// dialURL lets through a tel: link a service made (screening's Tel, with
// a landline's extension after a comma); anything else is no link.
func dialURL(tel string) template.URL {
	rest, ok := strings.CutPrefix(tel, "tel:")
	if !ok || rest == "" {
		return ""
	}
	for _, r := range rest {
		if !(r >= '0' && r <= '9' || strings.ContainsRune("+-,;*#", r)) {
			return ""
		}
	}
	return template.URL(tel)
}

// percent is part of whole in whole percent, for the width of a bar's
// text; an empty whole is 0%.
func percent(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return part * 100 / whole
}

func loadViews() *views {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		v.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, file))
	}
	return v
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes page name (the layout around the page's content) with
// status. It renders into a buffer first, so a template that fails is a
// clean 500 page rather than half a page.
func (c *Console) render(g *gin.Context, status int, name string, data any) {
	c.execute(g, status, name, "layout", data)
}

// fragment writes one template of a page alone, for htmx to swap in.
func (c *Console) fragment(g *gin.Context, status int, page, tmpl string, data any) {
	c.execute(g, status, page, tmpl, data)
}

func (c *Console) execute(g *gin.Context, status int, page, tmpl string, data any) {
	t, ok := c.views.pages[page]
	if !ok {
		panic("console: no page " + page)
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	if err := t.ExecuteTemplate(buf, tmpl, data); err != nil {
		if page == "error" {
			c.log.Error("console: the error page failed", "error", err)
			g.Status(http.StatusInternalServerError)
			return
		}
		c.errorPage(g, errs.Internal(fmt.Errorf("render %s/%s: %w", page, tmpl, err)))
		c.log.Error("console: render failed", "page", page, "error", err)
		return
	}
	g.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// staticVersions are the first bytes of each static file's SHA-256: the
// URLs carry them, so a browser may keep a file for a year and still
// never runs an old one after an upgrade.
var staticVersions = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
}()

func staticURL(name string) string {
	return Prefix + "/static/" + name + "?v=" + staticVersions[name]
}

var staticServer = http.StripPrefix(Prefix, http.FileServer(http.FS(staticFS)))

func serveStatic(g *gin.Context) {
	if _, ok := staticVersions[strings.TrimPrefix(g.Param("file"), "/")]; !ok {
		g.Status(http.StatusNotFound)
		return
	}
	g.Header("Cache-Control", "public, max-age=31536000, immutable")
	staticServer.ServeHTTP(g.Writer, g.Request)
}
