package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*.css static/*.js static/*.svg static/*.png static/*.json
var staticFS embed.FS

// views are the parsed templates of the core and of every page package:
// each page is the layout and the core's partials, the partials of its
// own package, and the page's file, so every page defines "content" its
// own way. Page names are one namespace across packages.
type views struct {
	base  *template.Template // layout and the core's partials
	pages map[string]*template.Template
	sets  []TemplateSet
}

// TemplateSet is one package's templates as the console parsed them: the
// catalogue test walks every set.
type TemplateSet struct {
	Name  string           // the package's name, for messages
	FS    fs.FS            // holds templates/*.html
	Funcs template.FuncMap // the core's functions and the package's own
}

// funcs are the functions every template may call; a page package adds
// its own with Kit.Templates.
var funcs = template.FuncMap{
	"static": staticURL,
	"tel":    telURL,
	"dial":   dialURL,
	"pct":    percent,
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

// Funcs are the functions every console template may call (a copy).
func Funcs() template.FuncMap { return maps.Clone(funcs) }

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

func newViews() *views {
	v := &views{base: template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")),
		pages: map[string]*template.Template{}}
	v.add("console", templateFS, nil)
	return v
}

// add parses a package's templates/*.html: its partials.html, if any, goes
// with each of its pages; the core's layout and partials are not pages.
func (v *views) add(name string, fsys fs.FS, own template.FuncMap) {
	fm := Funcs()
	maps.Copy(fm, own)
	v.sets = append(v.sets, TemplateSet{Name: name, FS: fsys, Funcs: fm})
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("console: %s has no templates/*.html (%v)", name, err))
	}
	base := template.Must(v.base.Clone()).Funcs(own)
	if _, err := fs.Stat(fsys, "templates/partials.html"); err == nil && fsys != fs.FS(templateFS) {
		base = template.Must(base.ParseFS(fsys, "templates/partials.html"))
	}
	for _, file := range files {
		page := strings.TrimSuffix(path.Base(file), ".html")
		if page == "layout" || page == "partials" {
			continue
		}
		if _, dup := v.pages[page]; dup {
			panic("console: two packages define the page " + page)
		}
		v.pages[page] = template.Must(template.Must(base.Clone()).ParseFS(fsys, file))
	}
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes page name (the layout around the page's content) with
// status. It renders into a buffer first, so a template that fails is a
// clean 500 page rather than half a page.
func (c *Console) render(g *gin.Context, status int, name string, data any) {
	if v, ok := data.(interface{ frame() *Frame }); ok {
		c.styleFor(g, v.frame())
	}
	c.execute(g, status, name, "layout", data)
}

// First paint. A linked stylesheet blocks the page's first paint for a
// second round trip (400 ms more on a weak signal at the door, and the
// page's other downloads share the link meanwhile), so a browser that
// has not got this build's stylesheet gets it inline, and fetches the
// file at low priority (rel=prefetch) for the pages after. Inline on
// every page, the stylesheet would cost every page 5.7 KB more
// (gzipped), the call list after each outcome recorded included; so the
// page that inlines it sets a cookie naming the stylesheet's hash
// (wanjia_css), and pages asked with it link the file, which the browser
// has by then (cached for a year under its hash). A cache cleared under
// the cookie costs one round trip, as a linked stylesheet always did; a
// new build's stylesheet has another hash and is inlined again. The
// inline stylesheet is allowed by its hash in the CSP (styleHash), never
// by 'unsafe-inline'.
const styleCookie = "wanjia_css"

var (
	styleFile = "console.css"
	// styleText is the stylesheet as the page carries it inline.
	styleText = func() template.CSS {
		b, err := staticFS.ReadFile("static/" + styleFile)
		if err != nil {
			panic(err)
		}
		return template.CSS(b) //nolint:gosec // our own embedded stylesheet
	}()
	// styleHash is the CSP source that lets exactly styleText run inline.
	styleHash = func() string {
		sum := sha256.Sum256([]byte(styleText))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
)

// styleFor decides whether f's page carries the stylesheet inline: yes,
// unless the browser's cookie says it holds this build's file.
func (c *Console) styleFor(g *gin.Context, f *Frame) {
	version := staticVersions[styleFile]
	if v, err := g.Cookie(styleCookie); err == nil && v == version {
		f.style = ""
		return
	}
	f.style = styleText
	http.SetCookie(g.Writer, c.sessions.cookie(styleCookie, version, 365*24*time.Hour))
}

// fragment writes one template of a page alone, for htmx to swap in.
func (c *Console) fragment(g *gin.Context, status int, page, tmpl string, data any) {
	c.execute(g, status, page, tmpl, data)
}

func (c *Console) execute(g *gin.Context, status int, page, tmpl string, data any) {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	if err := c.executeTo(buf, page, tmpl, data); err != nil {
		if page == "error" {
			c.log.Error("console: the error page failed", "error", err)
			g.Status(http.StatusInternalServerError)
			return
		}
		c.errorPage(g, errs.Internal(fmt.Errorf("render %s/%s: %w", page, tmpl, err)))
		c.log.Error("console: render failed", "page", page, "error", err)
		return
	}
	writeCompressed(g, status, "text/html; charset=utf-8", buf.Bytes())
}

func (c *Console) executeTo(buf *bytes.Buffer, page, tmpl string, data any) error {
	t, ok := c.views.pages[page]
	if !ok {
		panic("console: no page " + page)
	}
	return t.ExecuteTemplate(buf, tmpl, data)
}

// staticVersions are the first bytes of each static file's SHA-256: the
// URLs carry them, so a browser may keep a file for a year and still
// never runs an old one after an upgrade.
var staticVersions, staticGzipped = func() (map[string]string, map[string][]byte) {
	versions, gzipped := map[string]string{}, map[string][]byte{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		versions[name] = hex.EncodeToString(sum[:6])
		// Compressed once, at start, at the best level: the files are
		// fixed and served many times.
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = w.Write(b)
		_ = w.Close()
		if z.Len() < len(b) {
			gzipped[name] = z.Bytes()
		}
		return nil
	})
	return versions, gzipped
}()

func staticURL(name string) string {
	return Prefix + "/static/" + name + "?v=" + staticVersions[name]
}

var staticServer = http.StripPrefix(Prefix, http.FileServer(http.FS(staticFS)))

// serveStatic serves an embedded asset, compressed when the browser takes
// gzip. Only the URL of this build's version (?v= its hash) is cached for
// good: a page of another build, during a rolling upgrade, asks for its
// own hash and must not keep this build's file under it.
func serveStatic(g *gin.Context) {
	name := strings.TrimPrefix(g.Param("file"), "/")
	version, ok := staticVersions[name]
	if !ok {
		g.Status(http.StatusNotFound)
		return
	}
	if g.Query("v") == version {
		g.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		g.Header("Cache-Control", "no-cache")
	}
	g.Header("Vary", "Accept-Encoding")
	z, ok := staticGzipped[name]
	if !ok || !acceptsGzip(g.Request) || g.GetHeader("Range") != "" {
		staticServer.ServeHTTP(g.Writer, g.Request)
		return
	}
	etag := `"` + version + `-gz"`
	g.Header("ETag", etag)
	if g.GetHeader("If-None-Match") == etag {
		g.Status(http.StatusNotModified)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	g.Header("Content-Encoding", "gzip")
	g.Data(http.StatusOK, ctype, z)
}

// acceptsGzip reports a client that takes gzip (Accept-Encoding, not
// refused with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// compressMin is the smallest page worth compressing: below it, gzip's
// header and the CPU cost more than they save.
const compressMin = 1024

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// writeCompressed writes a rendered page, gzipped for a client that takes
// it: a list page is mostly repeated markup, a fifth of its size or less
// compressed, which a phone on a weak signal in a stairwell feels.
func writeCompressed(g *gin.Context, status int, ctype string, body []byte) {
	g.Header("Vary", strings.TrimPrefix(g.Writer.Header().Get("Vary")+", Accept-Encoding", ", "))
	if len(body) < compressMin || !acceptsGzip(g.Request) {
		g.Data(status, ctype, body)
		return
	}
	z := buffers.Get().(*bytes.Buffer)
	defer func() { z.Reset(); buffers.Put(z) }()
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(z)
	_, _ = w.Write(body)
	_ = w.Close()
	gzipWriters.Put(w)
	g.Header("Content-Encoding", "gzip")
	g.Data(status, ctype, z.Bytes())
}
