package charttest

import (
	"bytes"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// chartDir is the chart under test, relative to this package.
const chartDir = "../wanjia"

// kubeVersion is the cluster version given to `helm template`: a helm built
// by `go install` assumes v1.20 otherwise, and the api's preStop sleep
// (Kubernetes >= 1.30) would never be rendered.
const kubeVersion = "1.31.0"

// kinds maps each kind the chart may render to its API version and a new
// value of its k8s.io/api type. Anything else fails the test.
var kinds = map[string]struct {
	apiVersion string
	new        func() any
}{
	"ConfigMap":               {"v1", func() any { return &corev1.ConfigMap{} }},
	"Secret":                  {"v1", func() any { return &corev1.Secret{} }},
	"Service":                 {"v1", func() any { return &corev1.Service{} }},
	"ServiceAccount":          {"v1", func() any { return &corev1.ServiceAccount{} }},
	"Deployment":              {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"Job":                     {"batch/v1", func() any { return &batchv1.Job{} }},
	"Ingress":                 {"networking.k8s.io/v1", func() any { return &networkingv1.Ingress{} }},
	"HorizontalPodAutoscaler": {"autoscaling/v2", func() any { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	"PodDisruptionBudget":     {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"NetworkPolicy":           {"networking.k8s.io/v1", func() any { return &networkingv1.NetworkPolicy{} }},
	"CronJob":                 {"batch/v1", func() any { return &batchv1.CronJob{} }},
	"ServiceMonitor":          {"monitoring.coreos.com/v1", func() any { return &monitoringv1.ServiceMonitor{} }},
	"PrometheusRule":          {"monitoring.coreos.com/v1", func() any { return &monitoringv1.PrometheusRule{} }},
}

// A value set to render the chart with.
type valueSet struct {
	name string
	// Files under testdata/ and --set flags, in that order.
	files []string
	sets  []string
	// Secrets the chart is told exist (secrets.existingSecret, ...), which
	// it must not render but may refer to.
	external []string
	// What must be rendered, as "Kind/name" (release "wanjia", so the
	// fullname is "wanjia").
	want []string
	// What must not be rendered.
	wantNot []string
	// The Secret and key the migration Job must read WANJIA_DATABASE_URL
	// from, and, for a chart-made one, the URL it must hold.
	migrateSecret, migrateURL string
	// Extra checks.
	check func(t *testing.T, r *rendered)
}

const (
	appURL   = "postgres://wanjia_app:app-pass@db.example.org:5432/wanjia?sslmode=require"
	ownerURL = "postgres://wanjia_owner:owner-pass@db.example.org:5432/wanjia?sslmode=require"
)

var valueSets = []valueSet{
	{
		name:          "minimal",
		files:         []string{"minimal.yaml"},
		want:          []string{"ConfigMap/wanjia", "Secret/wanjia", "Secret/wanjia-migrate", "Service/wanjia-api", "Deployment/wanjia-api", "Deployment/wanjia-worker", "Deployment/wanjia-scheduler", "PodDisruptionBudget/wanjia-api", "Job/wanjia-migrate", "CronJob/wanjia-partitions", "Secret/wanjia-partitions"},
		wantNot:       []string{"HorizontalPodAutoscaler/wanjia-api", "Ingress/wanjia", "Service/wanjia-metrics", "ServiceMonitor/wanjia", "PrometheusRule/wanjia", "NetworkPolicy/wanjia-api"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    appURL, // no migrateDatabaseURL: the parts' URL
		check: func(t *testing.T, r *rendered) {
			sec := r.get(t, "Secret/wanjia").(*corev1.Secret)
			for _, k := range []string{"WANJIA_DATABASE_URL", "WANJIA_REDIS_URL", "WANJIA_SECRET_KEY"} {
				if len(sec.Data[k]) == 0 {
					t.Errorf("Secret/wanjia lacks %s", k)
				}
			}
			if _, ok := sec.Data["WANJIA_ADMIN_PASSWORD"]; ok {
				t.Error("Secret/wanjia has an empty WANJIA_ADMIN_PASSWORD; empty values are to be left out")
			}
			cm := r.get(t, "ConfigMap/wanjia").(*corev1.ConfigMap)
			if _, ok := cm.Data["WANJIA_TRUSTED_PROXIES"]; ok {
				t.Error("ConfigMap/wanjia has WANJIA_TRUSTED_PROXIES although config.trustedProxies is empty")
			}
			if got := cm.Data["WANJIA_BASE_URL"]; got != "https://wanjia.example.org" {
				t.Errorf("WANJIA_BASE_URL = %q", got)
			}
			api := r.get(t, "Deployment/wanjia-api").(*appsv1.Deployment)
			if c := container(t, &api.Spec.Template.Spec, "api"); c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != 5 {
				t.Errorf("api preStop = %+v, want a 5 s sleep on Kubernetes %s", c.Lifecycle, kubeVersion)
			}
		},
	},
	{
		name:          "existingSecret",
		files:         []string{"existing-secret.yaml"},
		external:      []string{"wanjia-env", "wanjia-migrate"},
		want:          []string{"ConfigMap/wanjia", "Service/wanjia-api", "Deployment/wanjia-api", "Deployment/wanjia-worker", "Deployment/wanjia-scheduler", "Job/wanjia-migrate", "CronJob/wanjia-partitions"},
		wantNot:       []string{"Secret/wanjia", "Secret/wanjia-migrate", "Secret/wanjia-partitions"},
		migrateSecret: "wanjia-migrate",
		check: func(t *testing.T, r *rendered) {
			for _, d := range r.deployments() {
				ps := d.Spec.Template.Spec
				if ps.ServiceAccountName != "wanjia" || len(ps.ImagePullSecrets) != 1 {
					t.Errorf("%s: serviceAccountName %q, imagePullSecrets %v", d.Name, ps.ServiceAccountName, ps.ImagePullSecrets)
				}
				if img := ps.Containers[0].Image; !strings.Contains(img, "@sha256:") {
					t.Errorf("%s: image %q does not use the digest", d.Name, img)
				}
			}
		},
	},
	{
		name:          "existingSecret without a migration Secret",
		sets:          []string{"secrets.existingSecret=wanjia-env"},
		external:      []string{"wanjia-env"},
		want:          []string{"Job/wanjia-migrate", "CronJob/wanjia-partitions"},
		wantNot:       []string{"Secret/wanjia", "Secret/wanjia-migrate", "Secret/wanjia-partitions"},
		migrateSecret: "wanjia-env",
	},
	{
		name:          "ingress, autoscaling and pdb",
		files:         []string{"full.yaml"},
		want:          []string{"ConfigMap/wanjia", "Secret/wanjia", "Secret/wanjia-migrate", "Service/wanjia-api", "Deployment/wanjia-api", "Deployment/wanjia-worker", "Deployment/wanjia-scheduler", "PodDisruptionBudget/wanjia-api", "HorizontalPodAutoscaler/wanjia-api", "Ingress/wanjia", "Job/wanjia-migrate"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    ownerURL,
		check: func(t *testing.T, r *rendered) {
			sec := r.get(t, "Secret/wanjia").(*corev1.Secret)
			if got := string(sec.Data["WANJIA_DATABASE_URL"]); got != appURL {
				t.Errorf("Secret/wanjia WANJIA_DATABASE_URL = %q, want the application role's", got)
			}
			for k, v := range sec.Data {
				if strings.Contains(string(v), "wanjia_owner") {
					t.Errorf("Secret/wanjia %s carries the owner's URL: it reaches every part", k)
				}
			}
			if got := string(sec.Data["WANJIA_TWILIO_TOKEN"]); got != "token" {
				t.Errorf("secrets.extra not in Secret/wanjia: %q", got)
			}
			cm := r.get(t, "ConfigMap/wanjia").(*corev1.ConfigMap)
			if got := cm.Data["WANJIA_TRUSTED_PROXIES"]; got != "10.244.0.0/16,192.0.2.10" {
				t.Errorf("WANJIA_TRUSTED_PROXIES = %q", got)
			}
			if got := cm.Data["WANJIA_BASE_URL"]; got != "https://wanjia.example.org" {
				t.Errorf("WANJIA_BASE_URL from the TLS ingress host = %q", got)
			}
			if got := cm.Data["WANJIA_KEY_ROTATION"]; got != "30d" {
				t.Errorf("config.extra not in the ConfigMap: %q", got)
			}
			api := r.get(t, "Deployment/wanjia-api").(*appsv1.Deployment)
			if api.Spec.Replicas != nil {
				t.Errorf("api replicas = %d with the HPA on; the HPA owns it", *api.Spec.Replicas)
			}
			hpa := r.get(t, "HorizontalPodAutoscaler/wanjia-api").(*autoscalingv2.HorizontalPodAutoscaler)
			if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != "wanjia-api" || hpa.Spec.ScaleTargetRef.APIVersion != "apps/v1" {
				t.Errorf("HPA targets %+v", hpa.Spec.ScaleTargetRef)
			}
			if len(hpa.Spec.Metrics) != 2 || *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 12 {
				t.Errorf("HPA: %d metrics, %d-%d replicas", len(hpa.Spec.Metrics), *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
			}
			pdb := r.get(t, "PodDisruptionBudget/wanjia-api").(*policyv1.PodDisruptionBudget)
			if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 || pdb.Spec.MaxUnavailable != nil {
				t.Errorf("PDB minAvailable %v maxUnavailable %v", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
			}
			ing := r.get(t, "Ingress/wanjia").(*networkingv1.Ingress)
			svc := r.get(t, "Service/wanjia-api").(*corev1.Service)
			for _, rule := range ing.Spec.Rules {
				for _, p := range rule.HTTP.Paths {
					b := p.Backend.Service
					if b == nil || b.Name != svc.Name || !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == b.Port.Name }) {
						t.Errorf("ingress path %s goes to %+v, not a port of Service/%s", p.Path, b, svc.Name)
					}
				}
			}
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.TLS) != 1 {
				t.Errorf("ingress class %v, tls %v", ing.Spec.IngressClassName, ing.Spec.TLS)
			}
		},
	},
	{
		name:          "scheduler disabled",
		files:         []string{"no-scheduler.yaml"},
		want:          []string{"ConfigMap/wanjia", "Secret/wanjia", "Deployment/wanjia-api", "Deployment/wanjia-worker", "Job/wanjia-migrate"},
		wantNot:       []string{"Deployment/wanjia-scheduler", "PodDisruptionBudget/wanjia-api"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    appURL,
		check: func(t *testing.T, r *rendered) {
			api := r.get(t, "Deployment/wanjia-api").(*appsv1.Deployment)
			if c := container(t, &api.Spec.Template.Spec, "api"); c.Lifecycle != nil {
				t.Errorf("api lifecycle %+v with preStopSleepSeconds 0", c.Lifecycle)
			}
		},
	},
	{
		name:          "metrics off",
		files:         []string{"minimal.yaml"},
		sets:          []string{"metrics.enabled=false"},
		want:          []string{"Deployment/wanjia-api", "Deployment/wanjia-worker", "Deployment/wanjia-scheduler"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    appURL,
		check: func(t *testing.T, r *rendered) {
			for _, d := range r.deployments() {
				if _, ok := d.Spec.Template.Annotations["prometheus.io/scrape"]; ok {
					t.Errorf("%s: scrape annotations with metrics off", d.Name)
				}
			}
		},
	},
	{
		name:    "migrations disabled, other release name",
		files:   []string{"minimal.yaml"},
		sets:    []string{"migrations.enabled=false", "fullnameOverride=wj"},
		want:    []string{"ConfigMap/wj", "Secret/wj", "Deployment/wj-api", "Deployment/wj-worker", "Deployment/wj-scheduler", "CronJob/wj-partitions", "Secret/wj-partitions"},
		wantNot: []string{"Job/wj-migrate", "Secret/wj-migrate"},
	},
	{
		name:          "partitions off",
		files:         []string{"minimal.yaml"},
		sets:          []string{"partitions.enabled=false"},
		want:          []string{"Job/wanjia-migrate"},
		wantNot:       []string{"CronJob/wanjia-partitions", "Secret/wanjia-partitions"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    appURL,
	},
	{
		name:  "monitoring and network policies",
		files: []string{"monitoring.yaml"},
		want: []string{"Service/wanjia-metrics", "ServiceMonitor/wanjia", "PrometheusRule/wanjia", "NetworkPolicy/wanjia-api", "NetworkPolicy/wanjia-worker",
			"NetworkPolicy/wanjia-scheduler", "NetworkPolicy/wanjia-jobs", "CronJob/wanjia-partitions", "Secret/wanjia-partitions"},
		migrateSecret: "wanjia-migrate",
		migrateURL:    ownerURL,
		check: func(t *testing.T, r *rendered) {
			checkServiceMonitor(t, r)
			checkPrometheusRule(t, r)
			checkNetworkPolicies(t, r, netWant{
				apiPort: 8080, metricsPort: 9090,
				apiFrom: "ingress-nginx", metricsFrom: "monitoring",
				egress: map[string][]egressWant{
					"database":  {{"10.0.5.10/32", 5432, "TCP"}},
					"redis":     {{"10.0.6.0/29", 6379, "TCP"}, {"10.0.6.0/29", 26379, "TCP"}},
					"dns":       {{"kube-system", 53, "UDP"}, {"kube-system", 53, "TCP"}},
					"providers": {{"0.0.0.0/0", 443, "TCP"}, {"2001:db8::/32", 443, "TCP"}},
				},
			})
			cj := r.get(t, "CronJob/wanjia-partitions").(*batchv1.CronJob)
			if cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Asia/Shanghai" || cj.Spec.Schedule != "30 2 * * *" {
				t.Errorf("CronJob schedule %q in %v", cj.Spec.Schedule, cj.Spec.TimeZone)
			}
			// The values' own affinity reaches every part; the api keeps its
			// anti-affinity beside it.
			for _, d := range r.deployments() {
				a := d.Spec.Template.Spec.Affinity
				if a == nil || a.NodeAffinity == nil {
					t.Errorf("%s: the values' nodeAffinity is lost: %+v", d.Name, a)
				}
			}
		},
	},
}

func TestChartRendersKubernetesTypes(t *testing.T) {
	helm := helmBinary(t)
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			out, err := helmTemplate(helm, vs.files, vs.sets)
			if err != nil {
				t.Fatal(err)
			}
			r := decode(t, out)
			for _, w := range vs.want {
				r.get(t, w)
			}
			for _, w := range vs.wantNot {
				if _, ok := r.objs[w]; ok {
					t.Errorf("%s is rendered; it should not be", w)
				}
			}
			checkReferences(t, r, vs.external)
			checkPods(t, r)
			checkMetrics(t, r)
			checkSelectors(t, r)
			if vs.migrateSecret != "" {
				checkMigrateJob(t, r, vs.migrateSecret, vs.migrateURL)
			}
			checkPartitions(t, r, vs.migrateSecret, vs.external)
			checkAntiAffinity(t, r)
			if vs.check != nil {
				vs.check(t, r)
			}
		})
	}
}

// The chart refuses to render what could not start, naming the value to set.
func TestChartRefuses(t *testing.T) {
	helm := helmBinary(t)
	for _, c := range []struct {
		name  string
		files []string
		sets  []string
		want  []string
	}{
		{"default values", nil, nil, []string{"secrets.databaseURL", "secrets.redisURL", "secrets.secretKey", "secrets.existingSecret"}},
		{"no secret key", nil, []string{"secrets.databaseURL=" + appURL, "secrets.redisURL=redis://r:6379/0"}, []string{"secrets.secretKey", "openssl rand -base64 32"}},
		{"no redis", nil, []string{"secrets.databaseURL=" + appURL, "secrets.secretKey=0123456789abcdef0123456789abcdef"}, []string{"secrets.redisURL"}},
		{"short secret key", []string{"minimal.yaml"}, []string{"secrets.secretKey=short"}, []string{"secrets.secretKey must have at least 32 characters"}},
		{"existingSecret with values", []string{"minimal.yaml"}, []string{"secrets.existingSecret=wanjia-env"}, []string{"secrets.existingSecret is set"}},
		{"two migration URLs", []string{"minimal.yaml"}, []string{"secrets.migrateDatabaseURL=" + ownerURL, "secrets.existingMigrateSecret=m"}, []string{"secrets.existingMigrateSecret and secrets.migrateDatabaseURL"}},
		{"grace period", []string{"minimal.yaml"}, []string{"config.shutdownTimeout=1m"}, []string{"api.terminationGracePeriodSeconds"}},
		{"metrics on the public port", []string{"minimal.yaml"}, []string{"metrics.port=8080"}, []string{"metrics.port (8080) must differ from api.containerPort"}},
		{"network policy without a database", []string{"minimal.yaml"}, []string{"networkPolicy.enabled=true", "networkPolicy.egress.redis.cidrs[0]=10.0.6.0/29"}, []string{"networkPolicy.egress.database: set cidrs"}},
		{"network policy without redis", []string{"minimal.yaml"}, []string{"networkPolicy.enabled=true", "networkPolicy.egress.database.cidrs[0]=10.0.5.10/32"}, []string{"networkPolicy.egress.redis: set cidrs"}},
		{"service monitor without metrics", []string{"minimal.yaml"}, []string{"metrics.enabled=false", "metrics.serviceMonitor.enabled=true"}, []string{"metrics.serviceMonitor.enabled needs metrics.enabled"}},
		{"rules without metrics", []string{"minimal.yaml"}, []string{"metrics.enabled=false", "metrics.prometheusRule.enabled=true"}, []string{"metrics.prometheusRule.enabled needs metrics.enabled"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := helmTemplate(helm, c.files, c.sets)
			if err == nil {
				t.Fatalf("rendered; want a failure naming %v. Output:\n%s", c.want, out)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the failure does not name %q:\n%v", w, err)
				}
			}
			// Only the missing values are named.
			if c.name == "no redis" && strings.Contains(err.Error(), "secrets.databaseURL (") {
				t.Errorf("the failure names secrets.databaseURL, which is set:\n%v", err)
			}
		})
	}
}

// helmBinary finds helm at $(go env GOPATH)/bin/helm (where `make
// chart-lint` installs it), else on PATH, else skips the test.
func helmBinary(t *testing.T) string {
	t.Helper()
	gopath := build.Default.GOPATH
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		gopath = strings.TrimSpace(string(out))
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "helm")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Skipf("SKIP: no helm binary in %s/bin or on PATH: run `make chart-lint` first (it installs helm: go install helm.sh/helm/v3/cmd/helm@v3.22.0)", gopath)
	return ""
}

// helmTemplate renders the chart as release "wanjia" in namespace "wanjia"
// with the hooks (the migration Job and its Secret).
func helmTemplate(helm string, files, sets []string) (string, error) {
	args := []string{"template", "wanjia", chartDir, "--namespace", "wanjia", "--kube-version", kubeVersion}
	for _, f := range files {
		args = append(args, "--values", filepath.Join("testdata", f))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// rendered holds the decoded manifests by "Kind/name".
type rendered struct {
	objs  map[string]any
	order []string
}

func (r *rendered) get(t *testing.T, key string) any {
	t.Helper()
	o, ok := r.objs[key]
	if !ok {
		t.Fatalf("%s is not rendered; rendered: %v", key, r.order)
	}
	return o
}

func (r *rendered) deployments() []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, k := range r.order {
		if d, ok := r.objs[k].(*appsv1.Deployment); ok {
			out = append(out, d)
		}
	}
	return out
}

// podSpecs returns every pod template: the Deployments' and the Jobs'.
func (r *rendered) podSpecs() map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for k, o := range r.objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			out[k] = &o.Spec.Template
		case *batchv1.Job:
			out[k] = &o.Spec.Template
		case *batchv1.CronJob:
			out[k] = &o.Spec.JobTemplate.Spec.Template
		}
	}
	return out
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decode splits helm's output into documents and decodes each strictly into
// the k8s.io/api type of its kind: an unknown field, a wrong type, a
// duplicate field, an unknown kind or API version fails the test.
func decode(t *testing.T, out string) *rendered {
	t.Helper()
	r := &rendered{objs: map[string]any{}}
	for i, doc := range docSep.Split(out, -1) {
		if isEmptyDoc(doc) {
			continue
		}
		source := fmt.Sprintf("document %d", i)
		if m := regexp.MustCompile(`(?m)^# Source: (.+)$`).FindStringSubmatch(doc); m != nil {
			source = m[1]
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: not YAML: %v\n%s", source, err, doc)
		}
		k, ok := kinds[tm.Kind]
		if !ok {
			t.Errorf("%s: kind %q (%s) is not one this test knows: add its k8s.io/api type to kinds", source, tm.Kind, tm.APIVersion)
			continue
		}
		if tm.APIVersion != k.apiVersion {
			t.Errorf("%s: %s has apiVersion %q, want %q", source, tm.Kind, tm.APIVersion, k.apiVersion)
			continue
		}
		obj := k.new()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s: does not decode strictly into %T: %v", source, obj, err)
			continue
		}
		meta := obj.(metav1.Object)
		if meta.GetName() == "" {
			t.Errorf("%s: %s without a name", source, tm.Kind)
			continue
		}
		key := tm.Kind + "/" + meta.GetName()
		if _, dup := r.objs[key]; dup {
			t.Errorf("%s: %s rendered twice", source, key)
		}
		r.objs[key] = obj
		r.order = append(r.order, key)
	}
	if len(r.objs) == 0 {
		t.Fatalf("helm rendered no manifest:\n%s", out)
	}
	return r
}

func isEmptyDoc(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// checkReferences: every Secret and ConfigMap a container reads (envFrom,
// env valueFrom, volumes) is rendered by the chart or declared external,
// and every key a non-optional reference names is in what the chart renders.
func checkReferences(t *testing.T, r *rendered, external []string) {
	t.Helper()
	secretKeys := func(name string) (map[string]bool, bool) {
		o, ok := r.objs["Secret/"+name]
		if !ok {
			return nil, false
		}
		s := o.(*corev1.Secret)
		keys := map[string]bool{}
		for k, v := range s.Data {
			keys[k] = len(v) > 0
		}
		for k, v := range s.StringData {
			keys[k] = v != ""
		}
		return keys, true
	}
	configKeys := func(name string) (map[string]bool, bool) {
		o, ok := r.objs["ConfigMap/"+name]
		if !ok {
			return nil, false
		}
		keys := map[string]bool{}
		for k, v := range o.(*corev1.ConfigMap).Data {
			keys[k] = v != ""
		}
		return keys, true
	}
	checkSecret := func(where, name, key string, optional *bool) {
		keys, ok := secretKeys(name)
		if !ok {
			if !slices.Contains(external, name) {
				t.Errorf("%s: refers to Secret %q, which the chart does not render and which is not an existing Secret of the values", where, name)
			}
			return
		}
		if key != "" && !keys[key] && (optional == nil || !*optional) {
			t.Errorf("%s: refers to key %s of Secret %q, which is missing or empty: the pod would stop at CreateContainerConfigError", where, key, name)
		}
	}
	checkConfigMap := func(where, name, key string, optional *bool) {
		keys, ok := configKeys(name)
		if !ok {
			t.Errorf("%s: refers to ConfigMap %q, which the chart does not render", where, name)
			return
		}
		if key != "" && !keys[key] && (optional == nil || !*optional) {
			t.Errorf("%s: refers to key %s of ConfigMap %q, which is missing or empty", where, key, name)
		}
	}
	pods := r.podSpecs()
	for _, k := range sortedKeys(pods) {
		ps := pods[k].Spec
		for _, c := range slices.Concat(ps.InitContainers, ps.Containers) {
			where := k + " container " + c.Name
			if len(c.EnvFrom) == 0 && len(c.Env) == 0 {
				t.Errorf("%s: no environment at all", where)
			}
			for _, ef := range c.EnvFrom {
				switch {
				case ef.SecretRef != nil:
					checkSecret(where+" envFrom", ef.SecretRef.Name, "", ef.SecretRef.Optional)
				case ef.ConfigMapRef != nil:
					checkConfigMap(where+" envFrom", ef.ConfigMapRef.Name, "", ef.ConfigMapRef.Optional)
				default:
					t.Errorf("%s: envFrom with neither a Secret nor a ConfigMap", where)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if s := e.ValueFrom.SecretKeyRef; s != nil {
					checkSecret(where+" env "+e.Name, s.Name, s.Key, s.Optional)
				}
				if cm := e.ValueFrom.ConfigMapKeyRef; cm != nil {
					checkConfigMap(where+" env "+e.Name, cm.Name, cm.Key, cm.Optional)
				}
			}
		}
		for _, v := range ps.Volumes {
			if v.Secret != nil {
				checkSecret(k+" volume "+v.Name, v.Secret.SecretName, "", v.Secret.Optional)
			}
			if v.ConfigMap != nil {
				checkConfigMap(k+" volume "+v.Name, v.ConfigMap.Name, "", v.ConfigMap.Optional)
			}
		}
	}
}

// checkPods: the api probes /healthz (startup, liveness) and /readyz
// (readiness) on a port it declares; every part of the app gets the
// database, Redis and the secret key; the hardening is there.
func checkPods(t *testing.T, r *rendered) {
	t.Helper()
	for _, d := range r.deployments() {
		ps := &d.Spec.Template.Spec
		if len(ps.Containers) != 1 {
			t.Errorf("%s: %d containers", d.Name, len(ps.Containers))
			continue
		}
		c := ps.Containers[0]
		if len(c.Args) != 1 {
			t.Errorf("%s: args %v", d.Name, c.Args)
			continue
		}
		for _, name := range []string{"WANJIA_DATABASE_URL", "WANJIA_REDIS_URL", "WANJIA_SECRET_KEY"} {
			if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
				return e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == name
			}) {
				t.Errorf("%s: no %s from a Secret", d.Name, name)
			}
		}
		if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
			t.Errorf("%s: the service account token is mounted", d.Name)
		}
		if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: root filesystem not read-only", d.Name)
		}
		if ps.TerminationGracePeriodSeconds == nil {
			t.Errorf("%s: no terminationGracePeriodSeconds", d.Name)
		}
		switch c.Args[0] {
		case "serve":
			probes := []struct {
				name string
				p    *corev1.Probe
				path string
			}{{"startupProbe", c.StartupProbe, "/healthz"}, {"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}}
			for _, pr := range probes {
				if pr.p == nil || pr.p.HTTPGet == nil {
					t.Errorf("%s: no HTTP %s", d.Name, pr.name)
					continue
				}
				if pr.p.HTTPGet.Path != pr.path {
					t.Errorf("%s: %s on %q, want %q", d.Name, pr.name, pr.p.HTTPGet.Path, pr.path)
				}
				port := pr.p.HTTPGet.Port
				if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
					return (port.StrVal != "" && p.Name == port.StrVal) || (port.StrVal == "" && p.ContainerPort == port.IntVal)
				}) {
					t.Errorf("%s: %s on port %s, which the container does not declare", d.Name, pr.name, port.String())
				}
			}
		case "worker", "scheduler":
			for _, p := range c.Ports {
				if p.Name != "metrics" {
					t.Errorf("%s: port %v on a part whose only HTTP is /metrics", d.Name, p)
				}
			}
		default:
			t.Errorf("%s: args %v: not serve, worker or scheduler", d.Name, c.Args)
		}
	}
}

// checkMetrics: with metrics on, every part (api, worker, scheduler)
// declares the port WANJIA_METRICS_ADDR names, as "metrics", and its pod's
// Prometheus annotations point at it; the Service exposes the api's public
// port only. With metrics off, no part listens for them.
func checkMetrics(t *testing.T, r *rendered) {
	t.Helper()
	var cm *corev1.ConfigMap
	for _, k := range r.order {
		if c, ok := r.objs[k].(*corev1.ConfigMap); ok && !strings.HasSuffix(k, "-migrate") {
			cm = c
		}
	}
	if cm == nil {
		t.Fatal("no ConfigMap")
	}
	addr, on := cm.Data["WANJIA_METRICS_ADDR"]
	for _, d := range r.deployments() {
		c := d.Spec.Template.Spec.Containers[0]
		i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" })
		if !on {
			if i >= 0 {
				t.Errorf("%s: a metrics port although WANJIA_METRICS_ADDR is not set", d.Name)
			}
			continue
		}
		if i < 0 {
			t.Errorf("%s: no metrics port; WANJIA_METRICS_ADDR is %q", d.Name, addr)
			continue
		}
		port := fmt.Sprint(c.Ports[i].ContainerPort)
		if addr != ":"+port {
			t.Errorf("%s: metrics port %s, but WANJIA_METRICS_ADDR is %q", d.Name, port, addr)
		}
		if a := d.Spec.Template.Annotations; a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/scrape"] != "true" {
			t.Errorf("%s: Prometheus annotations %v do not point at port %s", d.Name, a, port)
		}
	}
	for k, o := range r.objs {
		if svc, ok := o.(*corev1.Service); ok {
			for _, p := range svc.Spec.Ports {
				if p.TargetPort.StrVal == "metrics" || (on && ":"+fmt.Sprint(p.TargetPort.IntVal) == addr) {
					// Only the headless Service of the ServiceMonitor may
					// name it: it proxies nothing, it lists the pods.
					if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Ports) != 1 || !strings.HasSuffix(k, "-metrics") {
						t.Errorf("%s exposes the metrics port", k)
					}
				} else if strings.HasSuffix(k, "-metrics") {
					t.Errorf("%s: port %v besides the metrics port", k, p)
				}
			}
		}
	}
}

// checkSelectors: each Deployment's selector picks its own pods only; the
// Service and the PDB pick the api's pods.
func checkSelectors(t *testing.T, r *rendered) {
	t.Helper()
	deps := r.deployments()
	for _, d := range deps {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			t.Errorf("%s: selector: %v", d.Name, err)
			continue
		}
		for _, o := range deps {
			if m := sel.Matches(labels.Set(o.Spec.Template.Labels)); m != (o == d) {
				t.Errorf("%s's selector matches the pods of %s: %v", d.Name, o.Name, m)
			}
		}
	}
	apiPods := func() labels.Set {
		for _, d := range deps {
			if d.Spec.Template.Spec.Containers[0].Name == "api" {
				return d.Spec.Template.Labels
			}
		}
		t.Fatal("no api Deployment")
		return nil
	}()
	for _, k := range r.order {
		switch o := r.objs[k].(type) {
		case *corev1.Service:
			if len(o.Spec.Selector) == 0 || !labels.SelectorFromSet(o.Spec.Selector).Matches(apiPods) {
				t.Errorf("%s: selector %v does not pick the api pods", k, o.Spec.Selector)
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
			if err != nil || !sel.Matches(apiPods) {
				t.Errorf("%s: selector %v does not pick the api pods (%v)", k, o.Spec.Selector, err)
			}
		}
	}
}

// checkMigrateJob: the hook Job runs `migrate up` with WANJIA_DATABASE_URL
// from the expected Secret (the owner's URL when one is given), and gets
// neither Redis nor the secret key.
func checkMigrateJob(t *testing.T, r *rendered, secret, url string) {
	t.Helper()
	var job *batchv1.Job
	for _, k := range r.order {
		if j, ok := r.objs[k].(*batchv1.Job); ok {
			job = j
		}
	}
	if job == nil {
		t.Fatal("no migration Job")
	}
	if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("Job/%s hook %q", job.Name, job.Annotations["helm.sh/hook"])
	}
	c := container(t, &job.Spec.Template.Spec, "migrate")
	if !slices.Equal(c.Args, []string{"migrate", "up"}) {
		t.Errorf("Job/%s args %v", job.Name, c.Args)
	}
	var found bool
	for _, e := range c.Env {
		switch e.Name {
		case "WANJIA_DATABASE_URL":
			ref := e.ValueFrom
			if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != secret || ref.SecretKeyRef.Key != "WANJIA_DATABASE_URL" {
				t.Errorf("Job/%s WANJIA_DATABASE_URL from %+v, want key WANJIA_DATABASE_URL of Secret %s", job.Name, ref, secret)
			}
			found = true
		case "WANJIA_SECRET_KEY", "WANJIA_REDIS_URL":
			t.Errorf("Job/%s gets %s, which migrations do not need", job.Name, e.Name)
		}
	}
	if !found {
		t.Errorf("Job/%s has no WANJIA_DATABASE_URL: it would migrate an SQLite file in the pod", job.Name)
	}
	if len(c.EnvFrom) != 0 {
		t.Errorf("Job/%s envFrom %v: hooks run before the release's ConfigMap and Secret exist", job.Name, c.EnvFrom)
	}
	if url != "" {
		s, ok := r.objs["Secret/"+secret].(*corev1.Secret)
		if !ok {
			t.Fatalf("Secret/%s is not rendered", secret)
		}
		if got := string(s.Data["WANJIA_DATABASE_URL"]); got != url {
			t.Errorf("Secret/%s WANJIA_DATABASE_URL = %q, want %q", secret, got, url)
		}
		if s.Annotations["helm.sh/hook"] != job.Annotations["helm.sh/hook"] {
			t.Errorf("Secret/%s is not a hook like the Job: it would not exist when the Job runs on install", secret)
		}
		sw, err1 := strconv.Atoi(s.Annotations["helm.sh/hook-weight"])
		jw, err2 := strconv.Atoi(job.Annotations["helm.sh/hook-weight"])
		if err1 != nil || err2 != nil || sw >= jw {
			t.Errorf("Secret/%s hook weight %q is not before the Job's %q", secret, s.Annotations["helm.sh/hook-weight"], job.Annotations["helm.sh/hook-weight"])
		}
	}
}

func container(t *testing.T, ps *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range ps.Containers {
		if ps.Containers[i].Name == name {
			return &ps.Containers[i]
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
