package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/tenants"
)

// xiangshan is a good community file to break one way at a time. Line
// numbers matter below: kind is line 1, the second grid line 11, the grid
// worker line 14.
const xiangshan = `kind: community
slug: xiangshan
name: 象山社区
subdistrict: qixing
settings:
  isolation_days: 14
  report_cutoff: "18:00"
  quiet_hours: {start: "21:00", end: "08:00"}
grids:
  - {slug: xiangshan-g1, name: 一区}
  - {slug: xiangshan-g2, name: 二区}
members:
  - {username: xiangshan.admin, display_name: 象山社区主任, role: community_admin}
  - {username: xiangshan.grid1, display_name: 一区网格员, role: grid_worker, grids: [xiangshan-g1]}
`

const subdistrict = `kind: subdistrict
slug: dongjiang
name: 东江街道
district:
  slug: qixing-district
  name: 七星区
members:
  - {username: dongjiang.official, display_name: 东江街道干部, role: subdistrict_official}
`

func replace(t testing.TB, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("fixture has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// The good fixtures load and apply beside the demo, so every failure below
// comes from the one thing broken.
func TestFixturesAreGood(t *testing.T) {
	t.Parallel()
	dir := demoDir(t)
	writeFile(t, dir, "xiangshan.yaml", xiangshan)
	writeFile(t, dir, "dongjiang.yaml", subdistrict)
	set, err := tenants.Load(os.DirFS(dir))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(set.Files) != 5 || set.Files[0].Kind != "subdistrict" || set.Files[1].Kind != "subdistrict" {
		t.Fatalf("files: %d, first kinds %s %s", len(set.Files), set.Files[0].Kind, set.Files[1].Kind)
	}
	svc, _ := newOrgs(t)
	res, err := tenants.Apply(context.Background(), svc, set, tenants.Options{Password: demoPassword})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res.Changes) != 20+1+2+2+1+1 {
		t.Fatalf("%d changes: %q", len(res.Changes), res.Changes)
	}
}

type problem struct {
	file   string
	line   int
	reason string // a part of the reason
	// syntax marks a YAML syntax error: the yaml library reports some of
	// those one line early (its parser marks are 0-based), so line-1 is
	// accepted too.
	syntax bool
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string // added to (or replacing) the demo files
		want  []problem
	}{
		{
			name:  "misspelt top-level key",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "subdistrict: qixing", "subdistict: qixing")},
			want:  []problem{{"xiangshan.yaml", 4, "field subdistict not found", false}},
		},
		{
			name:  "misspelt settings key",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "isolation_days: 14", "isolation_day: 14")},
			want:  []problem{{"xiangshan.yaml", 6, "field isolation_day not found", false}},
		},
		{
			name:  "misspelt grid key",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "{slug: xiangshan-g2, name: 二区}", "{slug: xiangshan-g2, nmae: 二区}")},
			want:  []problem{{"xiangshan.yaml", 11, "field nmae not found", false}},
		},
		{
			name:  "bad org slug",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "slug: xiangshan\n", "slug: Xiang_Shan\n")},
			want:  []problem{{"xiangshan.yaml", 2, "slug: Use 2 to 63 lowercase letters", false}},
		},
		{
			name:  "bad district slug",
			files: map[string]string{"dongjiang.yaml": replace(t, subdistrict, "slug: qixing-district", "slug: 7xing")},
			want:  []problem{{"dongjiang.yaml", 5, "slug: Use 2 to 63 lowercase letters", false}},
		},
		{
			name:  "bad grid slug",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "slug: xiangshan-g2", "slug: G2 二区")},
			want:  []problem{{"xiangshan.yaml", 11, `grid "G2 二区": slug: Use 2 to 63 lowercase letters`, false}},
		},
		{
			name:  "unknown kind",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "kind: community", "kind: village")},
			want:  []problem{{"xiangshan.yaml", 1, `kind "village" is not subdistrict or community`, false}},
		},
		{
			name:  "no kind",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "kind: community\n", "")},
			want:  []problem{{"xiangshan.yaml", 1, `kind "" is not`, false}},
		},
		{
			name:  "grid declared twice",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "{slug: xiangshan-g2, name: 二区}", "{slug: xiangshan-g1, name: 二区}")},
			want:  []problem{{"xiangshan.yaml", 11, `grid "xiangshan-g1" appears twice`, false}},
		},
		{
			name:  "grid without a name",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "{slug: xiangshan-g2, name: 二区}", "{slug: xiangshan-g2}")},
			want:  []problem{{"xiangshan.yaml", 11, "a grid needs a slug and a name", false}},
		},
		{
			name:  "member references an undeclared grid",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "grids: [xiangshan-g1]", "grids: [xiangshan-g9]")},
			want:  []problem{{"xiangshan.yaml", 14, `grid "xiangshan-g9" is not declared`, false}},
		},
		{
			name:  "member declared twice",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "username: xiangshan.grid1", "username: xiangshan.admin")},
			want:  []problem{{"xiangshan.yaml", 14, `member "xiangshan.admin" appears twice`, false}},
		},
		{
			name:  "member without a role",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, ", role: community_admin}", "}")},
			want:  []problem{{"xiangshan.yaml", 13, "a member needs a username and a role", false}},
		},
		{
			name:  "invalid YAML: unclosed flow mapping",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "{slug: xiangshan-g2, name: 二区}", "{slug: xiangshan-g2, name: 二区")},
			want:  []problem{{"xiangshan.yaml", 11, "yaml:", true}},
		},
		{
			name:  "invalid YAML: bad indentation",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, `  report_cutoff: "18:00"`, ` report_cutoff: "18:00"`)},
			want:  []problem{{"xiangshan.yaml", 7, "yaml:", true}},
		},
		{
			name:  "invalid YAML: tab indentation",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, `  report_cutoff: "18:00"`, "\treport_cutoff: \"18:00\"")},
			want:  []problem{{"xiangshan.yaml", 7, "yaml:", true}},
		},
		{
			name:  "wrong type",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "isolation_days: 14", "isolation_days: two weeks")},
			want:  []problem{{"xiangshan.yaml", 6, "cannot unmarshal", false}},
		},
		{
			name:  "not a mapping",
			files: map[string]string{"xiangshan.yaml": "- kind: community\n- slug: xiangshan\n"},
			want:  []problem{{"xiangshan.yaml", 1, "cannot unmarshal", false}},
		},
		{
			name:  "empty file",
			files: map[string]string{"xiangshan.yaml": ""},
			want:  []problem{{"xiangshan.yaml", 1, "empty file", false}},
		},
		{
			name:  "only comments",
			files: map[string]string{"xiangshan.yaml": "# to be written\n# later\n"},
			want:  []problem{{"xiangshan.yaml", 1, "empty file", false}},
		},
		{
			name:  "duplicate slug across two files",
			files: map[string]string{"zz-yucai.yaml": replace(t, xiangshan, "slug: xiangshan\n", "slug: yucai\n")},
			want:  []problem{{"zz-yucai.yaml", 2, `slug "yucai" is also declared in yucai.yaml`, false}},
		},
		{
			name:  "isolation days out of range",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "isolation_days: 14", "isolation_days: 0")},
			want:  []problem{{"xiangshan.yaml", 6, "settings.isolation_days: Must be between 1 and 60", false}},
		},
		{
			name:  "bad report cut-off",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, `report_cutoff: "18:00"`, `report_cutoff: "6pm"`)},
			want:  []problem{{"xiangshan.yaml", 6, "settings.report_cutoff", false}},
		},
		{
			name:  "unknown time zone",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "subdistrict: qixing\n", "subdistrict: qixing\ntimezone: Mars/Olympus\n")},
			want:  []problem{{"xiangshan.yaml", 5, "timezone", false}},
		},
		{
			name:  "community without its sub-district",
			files: map[string]string{"xiangshan.yaml": replace(t, xiangshan, "subdistrict: qixing\n", "")},
			want:  []problem{{"xiangshan.yaml", 1, "a community file needs its subdistrict", false}},
		},
		{
			name:  "sub-district without its district",
			files: map[string]string{"dongjiang.yaml": replace(t, subdistrict, "district:\n  slug: qixing-district\n  name: 七星区\n", "")},
			want:  []problem{{"dongjiang.yaml", 1, "a sub-district file needs its district", false}},
		},
		{
			name:  "grids in a sub-district",
			files: map[string]string{"dongjiang.yaml": subdistrict + "grids:\n  - {slug: dongjiang-g1, name: 一区}\n"},
			want:  []problem{{"dongjiang.yaml", 10, "grids belong to communities", false}},
		},
		{
			name: "every bad file is reported",
			files: map[string]string{
				"xiangshan.yaml": replace(t, xiangshan, "kind: community", "kind: village"),
				"dongjiang.yaml": replace(t, subdistrict, "name: 东江街道", "nam: 东江街道"),
				"empty.yaml":     "",
			},
			want: []problem{
				{"xiangshan.yaml", 1, `kind "village"`, false},
				{"dongjiang.yaml", 3, "field nam not found", false},
				{"empty.yaml", 1, "empty file", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := demoDir(t)
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			set, err := tenants.Load(os.DirFS(dir))
			if set != nil {
				t.Errorf("Load returned a set (%d files) with a bad file", len(set.Files))
			}
			var inv *tenants.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("Load error = %v (%T), want *tenants.Invalid", err, err)
			}
			for _, w := range tt.want {
				p, ok := findProblem(inv.Problems, w)
				if !ok {
					t.Errorf("no problem %s:%d %q in:\n%s", w.file, w.line, w.reason, problems(inv.Problems))
					continue
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: ", p.File, p.Line)) {
					t.Errorf("error %q does not say %s:%d", err, p.File, p.Line)
				}
			}
			// The good demo files raise nothing.
			for _, p := range inv.Problems {
				if _, touched := tt.files[p.File]; !touched {
					t.Errorf("problem in an untouched file: %s", p)
				}
			}
		})
	}
}

func findProblem(ps []tenants.Problem, w problem) (tenants.Problem, bool) {
	for _, p := range ps {
		lineOK := p.Line == w.line || (w.syntax && p.Line == w.line-1)
		if p.File == w.file && lineOK && strings.Contains(p.Reason, w.reason) {
			return p, true
		}
	}
	return tenants.Problem{}, false
}

func problems(ps []tenants.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// A rejected directory leaves the database exactly as it was.
func TestRejectedDirectoryChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, notified := newOrgs(t)
	demo, err := tenants.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenants.Apply(ctx, svc, demo, tenants.Options{Password: demoPassword}); err != nil {
		t.Fatal(err)
	}
	before, n := countOrgs(t, svc), notified.count()
	// One good change and one bad file: neither is applied.
	dir := demoDir(t, edit{"yucai.yaml", "isolation_days: 14", "isolation_days: 21"})
	writeFile(t, dir, "xiangshan.yaml", replace(t, xiangshan, "grids: [xiangshan-g1]", "grids: [xiangshan-g9]"))
	if set, err := tenants.Load(os.DirFS(dir)); err == nil {
		t.Fatalf("Load accepted a bad file (%d files)", len(set.Files))
	}
	// A set that fails half-way through Apply is not applied either.
	dir = demoDir(t, edit{"yucai.yaml", "isolation_days: 14", "isolation_days: 21"})
	writeFile(t, dir, "xiangshan.yaml", replace(t, xiangshan, "role: community_admin", "role: subdistrict_official"))
	set, err := tenants.Load(os.DirFS(dir))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: demoPassword}); err == nil || !strings.Contains(err.Error(), "xiangshan.yaml") {
		t.Fatalf("Apply error = %v, want one naming xiangshan.yaml", err)
	}
	if got := countOrgs(t, svc); got != before {
		t.Errorf("orgs %d → %d", before, got)
	}
	if o, _ := svc.Get(ctx, "yucai"); o.Settings.IsolationDays != 14 {
		t.Errorf("yucai isolation days = %d: part of a rejected apply stuck", o.Settings.IsolationDays)
	}
	if notified.count() != n {
		t.Error("authz notified of a rejected apply")
	}
}
