// Package tenants reads declarative tenant definitions (YAML: one file per
// sub-district and one per community) and applies them idempotently: the
// first apply creates, a changed file updates, applying the same files
// again changes nothing, and a bad file is rejected whole with the file,
// line and reason. The Qixing demo district is embedded.
package tenants

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/uptrace/bun"
	"go.yaml.in/yaml/v3"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
)

//go:embed qixing/*.yaml
var demoFS embed.FS

// Demo returns the Qixing demo district.
func Demo() (*Set, error) {
	sub, _ := fs.Sub(demoFS, "qixing")
	return Load(sub)
}

// File is one YAML file: a sub-district or a community.
type File struct {
	Kind        string             `yaml:"kind"`
	Slug        string             `yaml:"slug"`
	Name        string             `yaml:"name"`
	Timezone    string             `yaml:"timezone"`
	District    *orgs.OrgInput     `yaml:"district"`    // subdistrict files: the district above
	Subdistrict string             `yaml:"subdistrict"` // community files: the sub-district above
	Settings    *orgs.Settings     `yaml:"settings"`
	Grids       []orgs.GridInput   `yaml:"grids"`
	Members     []orgs.MemberInput `yaml:"members"`

	name string     // file name, for messages
	node *yaml.Node // the parsed document, for line numbers
}

// Set is every file of a directory, sub-districts first.
type Set struct{ Files []*File }

// Problem is one reason a file is rejected.
type Problem struct {
	File   string
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason) }

// Invalid lists every problem found; nothing was applied.
type Invalid struct{ Problems []Problem }

func (e *Invalid) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return "tenant definitions rejected: " + strings.Join(s, "; ")
}

// Load reads and checks every *.yaml file in fsys.
func Load(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	yml, _ := fs.Glob(fsys, "*.yml")
	names = append(names, yml...)
	if len(names) == 0 {
		return nil, errors.New("no *.yaml files")
	}
	sort.Strings(names)
	set := &Set{}
	var probs []Problem
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		f, p := parse(path.Base(n), b)
		probs = append(probs, p...)
		if f != nil {
			set.Files = append(set.Files, f)
		}
	}
	probs = append(probs, set.check()...)
	if len(probs) > 0 {
		return nil, &Invalid{Problems: probs}
	}
	// Sub-districts before communities, so parents exist when children come.
	sort.SliceStable(set.Files, func(i, j int) bool {
		return set.Files[i].Kind == orgs.KindSubdistrict && set.Files[j].Kind != orgs.KindSubdistrict
	})
	return set, nil
}

func parse(name string, b []byte) (*File, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []Problem{{name, yamlLine(err), err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil, []Problem{{name, 1, "empty file"}}
	}
	f := &File{name: name, node: doc.Content[0]}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // a misspelt key is an error, not silently ignored
	if err := dec.Decode(f); err != nil {
		return nil, []Problem{{name, yamlLine(err), err.Error()}}
	}
	return f, f.validate()
}

// yamlLine digs the line number out of a yaml error ("yaml: line 5: ...").
func yamlLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &line)
	}
	if line == 0 {
		line = 1
	}
	return line
}

// line finds the line of a key path in the document ("grids", 2, "slug").
func (f *File) line(keys ...any) int {
	n := f.node
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n.Line
			}
		case int:
			if k >= len(n.Content) {
				return n.Line
			}
			n = n.Content[k]
		}
	}
	return n.Line
}

// validate checks one file with the same rules the API applies, and says
// where each problem is.
func (f *File) validate() []Problem {
	var probs []Problem
	add := func(line int, reason string) { probs = append(probs, Problem{f.name, line, reason}) }
	fieldErrs := func(base []any, fe []errs.FieldError) {
		for _, e := range fe {
			key := strings.Split(e.Field, ".")[0]
			add(f.line(append(base, key)...), e.Field+": "+i18n.T(i18n.EN, e.Key, e.Args))
		}
	}
	switch f.Kind {
	case orgs.KindSubdistrict:
		if f.District == nil {
			add(f.line("kind"), "a sub-district file needs its district")
		} else {
			d := *f.District
			d.Kind = orgs.KindDistrict
			if d.Timezone == "" {
				d.Timezone = orgs.DefaultTimezone
			}
			fieldErrs([]any{"district"}, d.Validate())
		}
		if len(f.Grids) > 0 {
			add(f.line("grids"), "grids belong to communities")
		}
	case orgs.KindCommunity:
		if f.Subdistrict == "" {
			add(f.line("kind"), "a community file needs its subdistrict")
		}
	default:
		add(f.line("kind"), fmt.Sprintf("kind %q is not subdistrict or community", f.Kind))
	}
	in := f.orgInput()
	if in.Timezone == "" {
		in.Timezone = orgs.DefaultTimezone
	}
	fe := in.Validate()
	fieldErrs(nil, fe)
	seen := map[string]bool{}
	for i, g := range f.Grids {
		if seen[g.Slug] {
			add(f.line("grids", i), fmt.Sprintf("grid %q appears twice", g.Slug))
		}
		seen[g.Slug] = true
		if g.Name == "" || g.Slug == "" {
			add(f.line("grids", i), "a grid needs a slug and a name")
		} else if !validSlug(g.Slug) {
			add(f.line("grids", i), fmt.Sprintf("grid %q: slug: %s", g.Slug, i18n.T(i18n.EN, "invalid_slug", nil)))
		}
	}
	users := map[string]bool{}
	for i, m := range f.Members {
		if users[m.Username] {
			add(f.line("members", i), fmt.Sprintf("member %q appears twice", m.Username))
		}
		users[m.Username] = true
		if m.Username == "" || m.Role == "" {
			add(f.line("members", i), "a member needs a username and a role")
		}
		for _, g := range m.Grids {
			if !seen[g] {
				add(f.line("members", i, "grids"), fmt.Sprintf("member %q: grid %q is not declared in this file", m.Username, g))
			}
		}
	}
	return probs
}

// validSlug applies the orgs slug rule, which grids share, through orgs'
// own validation so that the two cannot drift apart.
func validSlug(slug string) bool {
	in := orgs.OrgInput{Slug: slug, Name: "x", Kind: orgs.KindDistrict, Timezone: orgs.DefaultTimezone}
	for _, fe := range in.Validate() {
		if fe.Field == "slug" {
			return false
		}
	}
	return true
}

func (f *File) orgInput() orgs.OrgInput {
	in := orgs.OrgInput{Slug: f.Slug, Name: f.Name, Kind: f.Kind, Timezone: f.Timezone, Settings: f.Settings}
	switch f.Kind {
	case orgs.KindSubdistrict:
		if f.District != nil {
			in.Parent = f.District.Slug
		}
	case orgs.KindCommunity:
		in.Parent = f.Subdistrict
		if in.Settings == nil {
			st := orgs.DefaultSettings()
			in.Settings = &st
		}
	}
	return in
}

// check looks across files: unique slugs, parents declared or existing.
func (s *Set) check() []Problem {
	var probs []Problem
	bySlug := map[string]*File{}
	for _, f := range s.Files {
		if prev, ok := bySlug[f.Slug]; ok && f.Slug != "" {
			probs = append(probs, Problem{f.name, f.line("slug"), fmt.Sprintf("slug %q is also declared in %s", f.Slug, prev.name)})
		}
		bySlug[f.Slug] = f
	}
	return probs
}

// Options tune Apply.
type Options struct {
	// Password for new members; empty: a random one per user, reported once.
	Password string
}

// Result says what an apply changed.
type Result struct {
	Changes   []string          // "created org yucai", "updated grid yucai-g1", ...
	Passwords map[string]string // generated passwords of new users, by username
}

// Apply makes the database match the set in one transaction.
func Apply(ctx context.Context, svc *orgs.Service, set *Set, o Options) (*Result, error) {
	res := &Result{Passwords: map[string]string{}}
	err := svc.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res.Changes, res.Passwords = nil, map[string]string{}
		for _, f := range set.Files {
			if err := applyFile(ctx, svc, tx, f, o, res); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(res.Changes) > 0 {
		if err := svc.Notify.Changed(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func applyFile(ctx context.Context, svc *orgs.Service, tx bun.Tx, f *File, o Options, res *Result) error {
	note := func(changed bool, what string) {
		if changed {
			res.Changes = append(res.Changes, what)
		}
	}
	if f.Kind == orgs.KindSubdistrict && f.District != nil {
		d := *f.District
		d.Kind = orgs.KindDistrict
		changed, err := svc.ApplyOrg(ctx, tx, d)
		if err != nil {
			return describe(err)
		}
		note(changed, "org "+d.Slug)
	}
	changed, err := svc.ApplyOrg(ctx, tx, f.orgInput())
	if err != nil {
		return describe(err)
	}
	note(changed, "org "+f.Slug)
	for _, g := range f.Grids {
		changed, err := svc.ApplyGrid(ctx, tx, f.Slug, g)
		if err != nil {
			return describe(err)
		}
		note(changed, "grid "+g.Slug)
	}
	for _, m := range f.Members {
		if m.Password == "" {
			m.Password = o.Password
		}
		changed, generated, err := svc.ApplyMember(ctx, tx, f.Slug, m)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.Username, describe(err))
		}
		note(changed, "member "+m.Username+" in "+f.Slug)
		if generated != "" {
			res.Passwords[m.Username] = generated
		}
	}
	return nil
}

// describe renders an application error in English for the operator.
func describe(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := i18n.T(i18n.EN, e.MessageKey(), e.Args)
	for _, f := range e.Fields {
		msg += "; " + f.Field + ": " + i18n.T(i18n.EN, f.Key, f.Args)
	}
	return errors.New(msg)
}
