package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/orgs"
)

// Pages are one domain's console pages (rosterpages, screeningpages, …):
// the app lists them as it lists the API's routes, and the console mounts
// each on its org routes. A page package holds its handlers, its
// templates (templates/*.html, embedded, parsed with the core's layout,
// partials and functions) and its catalogue keys (messages.go), and calls
// its service's exported API only.
type Pages interface {
	// Mount registers the package's templates, menu items and home
	// panels with k, and its pages on org, each with its permission.
	Mount(org *authz.OrgRoutes, k *Kit)
}

// Kit is what the core lends a page package: rendering in the layout,
// the frame, the menu and the home page.
type Kit struct{ c *Console }

// MenuItem is an entry of an org's menu: shown when the caller has Perm
// there (a community-only resource: only in a community), in Order (the
// core's home is 0; domains leave gaps of 10 so the next one fits).
type MenuItem struct {
	Order int
	Key   string // message key
	Path  string // below the org's URL
	Perm  authz.Perm
}

// Panel is a domain's part of an org's home page, in Order: Render
// returns its HTML (Kit.HTML) or "" to show nothing there.
type Panel struct {
	Order  int
	Render func(g *gin.Context, f *Frame) (template.HTML, error)
}

// Templates parses the package's templates/*.html from fsys; own are its
// template functions beyond the core's (Funcs). A partials.html goes with
// each of the package's pages; every other file is a page, named by its
// file (one namespace across packages: a name used twice panics).
func (k *Kit) Templates(name string, fsys fs.FS, own template.FuncMap) {
	k.c.views.add(name, fsys, own)
}

// Menu adds items to every org's menu. An item whose key the catalogue
// lacks panics at start: the menu would show the key.
func (k *Kit) Menu(items ...MenuItem) {
	for _, m := range items {
		if _, ok := i18n.Lookup(m.Key); !ok {
			panic("console: the menu item " + m.Key + " is not in the catalogue")
		}
	}
	k.c.menu = append(k.c.menu, items...)
	slices.SortStableFunc(k.c.menu, func(a, b MenuItem) int { return a.Order - b.Order })
}

// HomePanel adds a part to every org's home page.
func (k *Kit) HomePanel(p Panel) {
	k.c.panels = append(k.c.panels, p)
	slices.SortStableFunc(k.c.panels, func(a, b Panel) int { return a.Order - b.Order })
}

// AuditNamer names one kind of audited record on the audit log's page,
// through its domain's exported API: Names answers for many ids in one
// query, in the caller's community and grids (the data lock's scope), so
// another community's record is never named.
type AuditNamer struct {
	Resource string     // the audit entry's resource ("household")
	Perm     authz.Perm // what the reader needs here to see the names
	// Link is the record's page below the org's URL, with %s for its id
	// ("" for none).
	Link string
	// LinkPerm is what the link's page needs, when more than Perm.
	LinkPerm authz.Perm
	Names    func(ctx context.Context, ids []string) (map[string]string, error)
}

// AuditNames registers namers for the audit log's page.
func (k *Kit) AuditNames(n ...AuditNamer) {
	if k.c.namers == nil {
		k.c.namers = map[string]AuditNamer{}
	}
	for _, x := range n {
		k.c.namers[x.Resource] = x
	}
}

// AuditNamer returns the namer of resource, if a page package registered
// one.
func (k *Kit) AuditNamer(resource string) (AuditNamer, bool) {
	n, ok := k.c.namers[resource]
	return n, ok
}

// Frame is the request's frame, for a page's view to embed.
func (k *Kit) Frame(g *gin.Context) *Frame { return k.c.frameFor(g) }

// Render writes page (the layout around its content) with status; a
// template that fails is a clean 500 page.
func (k *Kit) Render(g *gin.Context, status int, page string, data any) {
	k.c.render(g, status, page, data)
}

// Fragment writes one template of a page alone, for htmx to swap in.
func (k *Kit) Fragment(g *gin.Context, status int, page, tmpl string, data any) {
	k.c.fragment(g, status, page, tmpl, data)
}

// HTML renders one template of a page to a string, for a home panel.
func (k *Kit) HTML(page, tmpl string, data any) (template.HTML, error) {
	var b bytes.Buffer
	if err := k.c.executeTo(&b, page, tmpl, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // the output of html/template
}

// BaseURL is WANJIA_BASE_URL, for links a page shows (a check-in link's
// sample).
func (k *Kit) BaseURL() string { return k.c.baseURL }

// Grids are the community's grid names and the grids the caller may pick
// in a form or filter (a grid worker's own).
func (k *Kit) Grids(g *gin.Context) (GridNames, []orgs.Grid, error) {
	n := GridNames{names: map[string]string{}}
	all, err := k.c.orgs.ListGrids(g.Request.Context())
	if err != nil {
		return n, nil, err
	}
	n.all = all
	caller, _ := authz.CallerFrom(g.Request.Context())
	var mine []orgs.Grid
	for _, gr := range all {
		n.names[gr.Slug] = gr.Name
		if caller.Grids == nil || slices.Contains(caller.Grids, gr.Slug) {
			mine = append(mine, gr)
		}
	}
	return n, mine, nil
}

// GridNames shows grids by name; the services speak slugs. Views embed it.
type GridNames struct {
	names map[string]string
	all   []orgs.Grid
}

// All are every grid of the community, the caller's or not.
func (n GridNames) All() []orgs.Grid { return n.all }

// GridName is a grid's name for its slug.
func (n GridNames) GridName(slug string) string {
	if name := n.names[slug]; name != "" {
		return name
	}
	return slug
}

// PageSize is a list page: what a phone scrolls through and a desktop
// table shows without feeling long.
const PageSize = 50

// NextURL is this list's next page: the same search, from cursor.
func NextURL(g *gin.Context, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := g.Request.URL.Query()
	q.Set("cursor", cursor)
	return g.Request.URL.Path + "?" + q.Encode()
}

// Pager is a keyset-paged list's way about: the next page, the previous
// one and the page's number. Keyset cursors only go forward, so the
// cursors of the pages before travel in the URL ("back", one per page):
// the previous link pops one, the next pushes the current.
type Pager struct {
	Next, Prev string
	Page       int    // 0: not known (a next link from before pagers)
	Total      int    // the filter's count, when Counted
	TotalKey   string // the message that says it ("共 {n} 户")
	Counted    bool
}

// NewPager is the pager of the request's page, next the service's cursor
// after it ("" on the last page).
func NewPager(g *gin.Context, next string) Pager {
	q := g.Request.URL.Query()
	cursor, back := q.Get("cursor"), q["back"]
	var p Pager
	if cursor == "" || len(back) > 0 {
		p.Page = len(back) + 1
	}
	if next != "" {
		n := cloneValues(q)
		n["back"] = append(append([]string(nil), back...), cursor)
		n.Set("cursor", next)
		p.Next = g.Request.URL.Path + "?" + n.Encode()
	}
	if cursor != "" {
		n := cloneValues(q)
		prev := ""
		if len(back) > 0 {
			prev = back[len(back)-1]
			n["back"] = back[:len(back)-1]
		}
		if len(n["back"]) == 0 {
			n.Del("back")
		}
		if prev == "" {
			n.Del("cursor")
		} else {
			n.Set("cursor", prev)
		}
		p.Prev = g.Request.URL.Path
		if len(n) > 0 {
			p.Prev += "?" + n.Encode()
		}
	}
	return p
}

// Count sets the filter's total, said by the message key.
func (p Pager) Count(n int, key string) Pager {
	p.Total, p.TotalKey, p.Counted = n, key, true
	return p
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// OrgURL is a path in the org of the request.
func OrgURL(g *gin.Context, p string) string {
	return Prefix + "/orgs/" + g.Param("org") + p
}

// NewKey is a fresh idempotency key for a form that records something:
// the same form posted twice (a double tap, a resend on a weak network)
// carries the same key and is recorded once.
func NewKey() string { return rand.Text() }

// fingerprint is what an idempotency key is bound to: who posted which
// values (the CSRF token aside, which a new session changes) to which
// page. The same key with anything else is refused, never answered with
// another request's result.
func fingerprint(g *gin.Context) string {
	vals := url.Values{}
	for k, v := range g.Request.PostForm {
		if k != "csrf" {
			vals[k] = v
		}
	}
	caller, _ := authz.CallerFrom(g.Request.Context())
	return idempotency.Fingerprint(caller.UserID, g.Request.URL.Path, vals.Encode())
}

// Once makes ctx carry the form's idempotency key (its idempotency_key
// field), when it has a usable one.
func Once(g *gin.Context) context.Context {
	ctx := g.Request.Context()
	if key := strings.TrimSpace(g.PostForm("idempotency_key")); idempotency.ValidKey(key) {
		ctx = idempotency.With(ctx, idempotency.Request{Key: key, Fingerprint: fingerprint(g)})
	}
	return ctx
}

// ReusedKey reports the refusal of a key sent again with other values: a
// second tap on another button after the first was saved.
func ReusedKey(err error) bool {
	var e *errs.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Key == "idempotency_key_reused" {
			return true
		}
	}
	return false
}
