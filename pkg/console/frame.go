package console

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/i18n"
)

// Frame is what every page shows around its content (the header, the
// menu, the org switcher) and the helpers its templates call: T for every
// word, Time for every timestamp (in the org's time zone), Can to show
// only what the caller may do. Pages embed it in their own view struct.
type Frame struct {
	Lang  i18n.Lang
	Title string // message key
	CSRF  string
	Path  string // this page, for the language links
	Here  string // this page's path, for forms that search it
	User  *authn.User
	Org   *OrgLink // nil outside an org
	Up    *OrgLink // the sub-district above a community its official reads
	Orgs  []OrgLink
	Menu  []menuLink
	// Offline: the page offers the offline lists (offline.go): the
	// manifest, offline.js and its service worker.
	Offline bool
	// OfflineLists are the JSON lists the page's download button fetches
	// (a campaign's tasks, the check-in list).
	OfflineLists []string
	// Restored is a form's input kept over a sign-in, back on its page.
	Restored *Restored
	// NoHtmx: the page uses no htmx, so the layout does not load it (17 KB
	// gzipped, the most of a cold page): the lists a worker opens at the
	// door on a weak signal.
	NoHtmx bool

	// style is the stylesheet inline, for a browser that has not got it
	// yet (see styleFor); empty, the page links it.
	style template.CSS

	// Scripts are static scripts this page adds (progressive: the page
	// works without them).
	Scripts []string

	caller authz.Caller
	names  map[string]string // the names of the orgs the user can see, by slug
	can    func(resource, action string) bool
	loc    *time.Location
}

// OrgLink is an org in the switcher, the way up, or a table of orgs.
type OrgLink struct {
	Slug, Name, Kind, URL string
	Current               bool
}

// menuLink is an item of the menu as the reader sees it.
type menuLink struct {
	Key, URL string
	Active   bool
}

// T is the catalogue's text for key in the reader's language; args are
// name, value pairs for its {placeholders}.
func (f *Frame) T(key string, args ...any) string {
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
func (f *Frame) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(f.loc).Format("2006-01-02 15:04")
}

// Can reports whether the caller may do action on resource in this org,
// as the route serving it would decide.
func (f *Frame) Can(resource, action string) bool { return f.can != nil && f.can(resource, action) }

// URL is a path in the current org's pages.
func (f *Frame) URL(p string) string {
	if f.Org == nil {
		return Prefix + "/"
	}
	return f.Org.URL + p
}

// LangURL switches the language and comes back here.
func (f *Frame) LangURL(l string) string {
	return Prefix + "/lang/" + l + "?next=" + template.URLQueryEscaper(f.Path)
}

// TagLabel is a resident's tag in the reader's language when it is a
// well-known one (the catalogue has it), as the office wrote it otherwise.
func (f *Frame) TagLabel(tag string) string { return f.known("console.tag."+tag, tag) }

// Loc is the org's time zone (China's standard time outside an org).
func (f *Frame) Loc() *time.Location { return f.loc }

// RoleLabel and ActionLabel name a role and an audited action, falling
// back to the code for one the catalogue does not know (yet).
func (f *Frame) RoleLabel(role string) string { return f.known("console.role."+role, role) }

func (f *Frame) ActionLabel(action string) string { return f.known("console.action."+action, action) }

// ResourceLabel names what an audit entry is about.
func (f *Frame) ResourceLabel(resource string) string {
	return f.known("console.resource."+resource, resource)
}

// OrgName is the name of an org the reader can see, by slug.
func (f *Frame) OrgName(slug string) string {
	if n := f.names[slug]; n != "" {
		return n
	}
	return slug
}

func (f *Frame) known(key, fallback string) string {
	if _, ok := i18n.Lookup(key); ok {
		return f.T(key)
	}
	return fallback
}

// Role is the caller's role in this org, as a message key.
func (f *Frame) Role() string {
	if f.caller.Role == "" {
		return ""
	}
	return "console.role." + f.caller.Role
}

// frameFor builds the frame of the request: the reader's language, and
// when signed in, their orgs and, inside an org (authz bound the caller),
// its menu.
// frame lets render find the Frame in a page's view, which embeds it.
func (f *Frame) frame() *Frame { return f }

// InlineStyle is the stylesheet when the page carries it inline.
func (f *Frame) InlineStyle() template.CSS { return f.style }

func (c *Console) frameFor(g *gin.Context) *Frame {
	f := &Frame{Lang: Lang(g), Path: g.Request.URL.RequestURI(), Here: g.Request.URL.Path, loc: Location(""), Restored: restoredOf(g)}
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
	link := func(o *authz.Org) OrgLink {
		name := names[o.Slug]
		if name == "" {
			name = o.Slug
		}
		return OrgLink{Slug: o.Slug, Name: name, Kind: o.Kind, URL: Prefix + "/orgs/" + o.Slug}
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
	f.caller, f.loc = caller, Location(o.Timezone)
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
	for _, m := range c.menu {
		if !f.Can(m.Perm.Resource, m.Perm.Action) {
			continue
		}
		key := m.Key
		if m.Path == "" && !o.IsCommunity() {
			key = "console.menu.communities"
		}
		url := here.URL + m.Path
		f.Menu = append(f.Menu, menuLink{Key: key, URL: url})
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

// Location is the org's time zone; an org without a usable one shows
// China's standard time, every org's default.
func Location(name string) *time.Location {
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
