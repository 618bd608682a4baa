package console

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
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
func TestTemplatesUseCatalogue(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	builtins := map[string]any{}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		builtins[name] = true
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(file, string(src), "{{", "}}", builtins, map[string]any(funcs))
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

// TestComposedKeysExist covers the keys templates build from data ("console.tag."
// + a tag), which the walk above cannot see: every value they are built
// from has its text.
func TestComposedKeysExist(t *testing.T) {
	keys := []string{"console.sex.male", "console.sex.female", "console.sex.unknown"}
	for _, tag := range wellKnownTags {
		keys = append(keys, "console.tag."+tag)
	}
	for _, role := range authz.Roles {
		keys = append(keys, "console.role."+role)
	}
	for _, action := range append(auditActions, audit.ActionLoginFailed) {
		keys = append(keys, "console.action."+action)
	}
	for _, status := range []string{"queued", "running", "done", "failed"} {
		keys = append(keys, "console.import.status."+status)
	}
	for _, kind := range []string{roster.KindResidents, roster.KindHouseholds} {
		keys = append(keys, "console.imports.kind."+kind)
		for _, format := range []string{"xlsx", "csv"} {
			keys = append(keys, "console.exports.file."+kind+"."+format)
		}
	}
	for _, m := range menu {
		keys = append(keys, m.key)
	}
	for _, method := range campaignMethods {
		keys = append(keys, "console.method."+method)
	}
	for _, o := range screening.Outcomes {
		keys = append(keys, "console.outcome."+o, "console.outcome.phone."+o, "console.outcome.visit."+o)
	}
	for _, r := range []string{screening.ReasonSymptoms, screening.ReasonCloseContact, screening.ReasonTravel} {
		keys = append(keys, "console.reason."+r)
	}
	for _, s := range []string{screening.StatusOpen, screening.StatusClosed} {
		keys = append(keys, "console.screening.status."+s)
	}
	for _, s := range []string{screening.StatusOpen, screening.StatusDone} {
		keys = append(keys, "console.task.status."+s)
	}
	for _, m := range []string{screening.MethodPhone, screening.MethodVisit} {
		keys = append(keys, "console.task.switch."+m)
	}
	for _, s := range followUpStatuses {
		keys = append(keys, "console.follow_ups.status."+s)
	}
	for _, s := range []string{screening.StatusDone, screening.FollowUpDismissed} {
		keys = append(keys, "console.follow_ups.mark."+s)
	}
	for _, k := range screening.PublicityKinds {
		keys = append(keys, "publicity_kind_"+k) // screening's own text for them
	}
	keys = append(keys, careReasons...)
	for _, r := range []string{"screening", "attempt", "follow_up", "publicity", "disinfection", "care_contact", "care_list"} {
		keys = append(keys, "console.resource."+r) // what screening's audit entries are about
	}
	for _, ch := range channels {
		keys = append(keys, "console.channel."+ch)
	}
	for _, st := range campaignStatuses {
		keys = append(keys, "console.outreach.status."+st)
	}
	for _, st := range outreach.Statuses {
		keys = append(keys, "console.outreach.stat."+st)
	}
	for _, a := range campaignActions {
		keys = append(keys, "console.outreach.action."+a, "console.outreach.done."+a)
	}
	for _, code := range failureCodes {
		keys = append(keys, "console.outreach.reason."+code)
	}
	for _, k := range replyKinds {
		keys = append(keys, "console.replies.kind."+k)
	}
	for _, s := range optOutSources {
		keys = append(keys, "console.opt_outs.source."+s)
	}
	for _, r := range []string{"outreach_template", "outreach_campaign", "outreach_opt_out", "outreach_opt_outs", "outreach_replies"} {
		keys = append(keys, "console.resource."+r) // what outreach's audit entries are about
	}
	// Outreach's own messages, which the preview and the campaign page show.
	keys = append(keys, "template_syntax", "template_unsupported", "template_unknown_field", "campaign_wrong_state")
	for _, kind := range errs.Kinds() { // every status an error page can have
		keys = append(keys, "console.error."+strconv.Itoa(web.Status(kind)))
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
