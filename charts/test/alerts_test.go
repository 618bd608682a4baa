package charttest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// The alert rules live twice: deploy/alerts.yaml for a Prometheus of one's
// own, and the chart's files/alerts.yaml, which its PrometheusRule loads
// (a chart cannot read files outside its directory).
const (
	alertsFile      = "../../deploy/alerts.yaml"
	chartAlertsFile = "../wanjia/files/alerts.yaml"
)

// The source of the series the parts export: every Go file of the service
// but its tests.
var sourceDirs = []string{"../../pkg", "../../workers", "../../cmd"}

// targetLabels are the labels a series gets from its scrape rather than
// from the code: Prometheus's own, Kubernetes service discovery's through
// the ServiceMonitor, and the ServiceMonitor's `component`.
var targetLabels = []string{"instance", "job", "namespace", "pod", "service", "endpoint", "container", "component"}

// ruleFile is a Prometheus rule file, decoded into the operator's types:
// the same groups a PrometheusRule's spec carries.
type ruleFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

func readRuleFile(t *testing.T, path string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s: does not decode strictly into rule groups: %v", path, err)
	}
	return f
}

// TestAlertRules: deploy/alerts.yaml and the chart's copy are the same
// file; each rule is an alert with a severity, a summary and an expression
// that parses; and every series the expressions read is one the code
// exports, with labels it has.
func TestAlertRules(t *testing.T) {
	a, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(chartAlertsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s and %s differ: copy deploy/alerts.yaml into the chart (cp %s %s)", alertsFile, chartAlertsFile, "deploy/alerts.yaml", "charts/wanjia/files/alerts.yaml")
	}

	exported := exportedSeries(t)
	f := readRuleFile(t, alertsFile)
	if len(f.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	p := parser.NewParser(parser.Options{})
	seen := map[string]bool{}
	used := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: a rule that is not an alert (record %q)", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("alert %s defined twice", name)
			}
			seen[name] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q, want warning or critical", name, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: no summary or description", name)
			}
			if r.For != nil {
				if _, err := time.ParseDuration(string(*r.For)); err != nil {
					t.Errorf("alert %s: for %q: %v", name, *r.For, err)
				}
			}
			expr, err := p.ParseExpr(r.Expr.String())
			if err != nil {
				t.Errorf("alert %s: expression does not parse: %v\n%s", name, err, r.Expr.String())
				continue
			}
			if expr.Type() != parser.ValueTypeVector {
				t.Errorf("alert %s: expression is a %s, not an instant vector", name, expr.Type())
			}
			for _, m := range checkSeries(t, name, expr, exported) {
				used[m] = true
			}
		}
	}
	// The alerts the operations guide promises.
	for _, want := range []string{"wanjia_pending_work_oldest_seconds", "wanjia_queue_tasks", "wanjia_outreach_messages_total",
		"wanjia_audit_reads_dropped_total", "wanjia_scheduler_slots_total", "wanjia_tasks_processed_total", "wanjia_http_requests_total"} {
		if !used[want] {
			t.Errorf("no alert reads %s", want)
		}
	}
}

// checkSeries checks every selector and grouping of expr against the
// exported series and returns the metric names it reads.
func checkSeries(t *testing.T, alert string, expr parser.Expr, exported map[string][]string) []string {
	t.Helper()
	var names []string
	labelsOf := func(n parser.Node) []string {
		var out []string
		parser.Inspect(n, func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok {
				out = append(out, exported[vs.Name]...)
			}
			return nil
		})
		return out
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			names = append(names, n.Name)
			have, ok := exported[n.Name]
			if !ok {
				t.Errorf("alert %s reads %q, which no part exports (see the NewCounterVec, NewDesc, ... calls)", alert, n.Name)
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != "__name__" && !slices.Contains(have, m.Name) && !slices.Contains(targetLabels, m.Name) {
					t.Errorf("alert %s: %s has no label %q (it has %v)", alert, n.Name, m.Name, have)
				}
			}
		case *parser.AggregateExpr:
			have := labelsOf(n.Expr)
			for _, l := range n.Grouping {
				if !slices.Contains(have, l) && !slices.Contains(targetLabels, l) {
					t.Errorf("alert %s: groups by %q, which the series under %s do not have", alert, l, n.Op)
				}
			}
		}
		return nil
	})
	return names
}

var (
	// prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x", ...}, []string{"a", "b"})
	vecRe = regexp.MustCompile(`(?s)New(Counter|Gauge|Histogram|Summary)Vec\(prometheus\.\w+Opts\{.*?Name:\s*"(wanjia_\w+)".*?\},\s*\[\]string\{([^}]*)\}`)
	// prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", ...}, f) and the like: no labels.
	plainRe = regexp.MustCompile(`(?s)New(Counter|Gauge|Histogram|Summary)(?:Func)?\(prometheus\.\w+Opts\{\s*Name:\s*"(wanjia_\w+)"`)
	// prometheus.NewDesc("x", "help", []string{"a"}, nil), or nil labels.
	descRe = regexp.MustCompile(`NewDesc\(\s*"(wanjia_\w+)",\s*"(?:[^"\\]|\\.)*",\s*(?:\[\]string\{([^}]*)\}|nil)`)
	quoted = regexp.MustCompile(`"([^"]*)"`)
)

// exportedSeries reads the series the code exports, name → labels, from
// the Go sources (a histogram also as its _bucket, _sum and _count).
func exportedSeries(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(kind, name, labelList string) {
		var ls []string
		for _, m := range quoted.FindAllStringSubmatch(labelList, -1) {
			ls = append(ls, m[1])
		}
		out[name] = ls
		if kind == "Histogram" {
			out[name+"_bucket"] = append(slices.Clone(ls), "le")
			out[name+"_sum"], out[name+"_count"] = ls, ls
		}
	}
	for _, dir := range sourceDirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range vecRe.FindAllStringSubmatch(string(b), -1) {
				add(m[1], m[2], m[3])
			}
			for _, m := range plainRe.FindAllStringSubmatch(string(b), -1) {
				if _, ok := out[m[2]]; !ok {
					add(m[1], m[2], "")
				}
			}
			for _, m := range descRe.FindAllStringSubmatch(string(b), -1) {
				add("", m[1], m[2])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The series this test relies on most: if the patterns stop finding
	// them, the patterns are wrong, not the alerts.
	for name, labels := range map[string][]string{
		"wanjia_http_requests_total":          {"method", "route", "status"},
		"wanjia_queue_tasks":                  {"queue", "state"},
		"wanjia_pending_work_up":              nil,
		"wanjia_audit_reads_dropped_total":    nil,
		"wanjia_tasks_processed_total":        {"type", "status"},
		"wanjia_outreach_send_seconds_bucket": {"provider", "outcome", "le"},
	} {
		if got, ok := out[name]; !ok || !slices.Equal(got, labels) {
			t.Fatalf("the sources' scan finds %s with labels %v (found: %v), want %v", name, got, ok, labels)
		}
	}
	return out
}
