package console_test

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

// hole stands for whatever a template action prints: data, or catalogue
// text through T.
const hole = "\x00"

// visibleAttrs are the attributes a reader sees or hears (a screen reader
// reads aria-label and title).
var visibleAttrs = map[string]bool{"placeholder": true, "title": true, "alt": true, "aria-label": true, "label": true}

// TestTemplatesUseCatalogue walks every template and fails on any text a
// reader would see that does not come from the catalogue: the static text
// between actions (and the visible attributes) may hold punctuation and
// digits, never a word. Every literal key given to T must be registered.
// It walks the templates of the core and of every page package the app
// mounts, as the console parsed them.
func TestTemplatesUseCatalogue(t *testing.T) {
	pages := (&app.App{}).ConsolePages()
	c := console.New(console.Deps{Secret: []byte("wanjia-test-secret-key-0123456789abcdef"), Logger: slog.New(slog.DiscardHandler),
		Pages: pages})
	c.Handler(http.NotFoundHandler(), web.Options{Logger: slog.New(slog.DiscardHandler)}) // mounts the pages
	sets := c.TemplateSets()
	if len(sets) != 1+len(pages) {
		t.Fatalf("the console parsed %d template sets for the core and %d page packages", len(sets), len(pages))
	}
	builtins := map[string]any{}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		builtins[name] = true
	}
	for _, set := range sets {
		files, err := fs.Glob(set.FS, "templates/*.html")
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no templates: %v", set.Name, err)
		}
		for _, path := range files {
			src, err := fs.ReadFile(set.FS, path)
			if err != nil {
				t.Fatal(err)
			}
			file := set.Name + "/" + path
			trees, err := parse.Parse(file, string(src), "{{", "}}", builtins, map[string]any(set.Funcs))
			if err != nil {
				t.Fatal(err)
			}
			for name, tree := range trees {
				if tree.Root == nil {
					continue
				}
				var b strings.Builder
				w := walker{t: t, where: file + ": " + name, out: &b}
				w.list(tree.Root)
				checkWords(t, file+": "+name, b.String())
			}
		}
	}
}

type walker struct {
	t     *testing.T
	where string
	out   *strings.Builder
}

// list writes the template's text in order with a hole for each action;
// both branches of a condition are written, one after the other.
func (w walker) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			w.out.Write(n.Text)
		case *parse.ActionNode:
			w.pipe(n.Pipe)
			w.out.WriteString(hole)
		case *parse.IfNode:
			w.branch(&n.BranchNode)
		case *parse.RangeNode:
			w.branch(&n.BranchNode)
		case *parse.WithNode:
			w.branch(&n.BranchNode)
		case *parse.TemplateNode:
			w.pipe(n.Pipe)
			w.out.WriteString(hole)
		}
	}
}

func (w walker) branch(b *parse.BranchNode) {
	w.pipe(b.Pipe)
	w.list(b.List)
	w.list(b.ElseList)
}

// pipe checks the keys of the T calls in a pipeline: a literal key must
// be in the catalogue.
func (w walker) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if sub, ok := arg.(*parse.PipeNode); ok {
				w.pipe(sub)
			}
		}
		if len(cmd.Args) < 2 || !callsT(cmd.Args[0]) {
			continue
		}
		if s, ok := cmd.Args[1].(*parse.StringNode); ok {
			if _, found := i18n.Lookup(s.Text); !found {
				w.t.Errorf("%s: T %q: no such key in the catalogue", w.where, s.Text)
			}
		}
	}
}

// callsT reports whether a command starts with the frame's T (.T or $.T).
func callsT(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return len(n.Ident) > 0 && n.Ident[len(n.Ident)-1] == "T"
	case *parse.VariableNode:
		return len(n.Ident) > 1 && n.Ident[len(n.Ident)-1] == "T"
	}
	return false
}

// checkWords fails on a letter (of any script) in the text or visible
// attributes of the HTML src, outside scripts and styles.
func checkWords(t *testing.T, where, src string) {
	z := html.NewTokenizer(strings.NewReader(src))
	raw := ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.TextToken:
			if raw == "noscript" { // its text is markup, parsed as such by a browser without scripts
				checkWords(t, where, string(z.Text()))
				continue
			}
			if raw != "" {
				continue
			}
			if text := strings.TrimSpace(strings.ReplaceAll(string(z.Text()), hole, " ")); hasLetter(text) {
				t.Errorf("%s: text not from the catalogue: %q", where, text)
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == raw {
				raw = ""
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if tag := string(name); tag == "script" || tag == "style" || tag == "noscript" {
				raw = tag
			}
			attrs := map[string]string{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			for k, v := range attrs {
				visible := visibleAttrs[k] || (k == "value" && (attrs["type"] == "submit" || attrs["type"] == "button"))
				if visible && hasLetter(strings.ReplaceAll(v, hole, "")) {
					t.Errorf("%s: <%s %s=%q>: text not from the catalogue", where, name, k, v)
				}
			}
		}
	}
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}
