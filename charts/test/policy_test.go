package charttest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// checkPartitions: the partition CronJob runs `migrate partitions` daily,
// never two at once, as the owner: WANJIA_DATABASE_URL from the migration
// Job's Secret, or, when the chart makes that one (a hook Helm deletes once
// the hook is done), from a lasting Secret of its own with the same URL.
// It gets neither Redis nor the secret key.
func checkPartitions(t *testing.T, r *rendered, migrateSecret string, external []string) {
	t.Helper()
	var cj *batchv1.CronJob
	for _, k := range r.order {
		if c, ok := r.objs[k].(*batchv1.CronJob); ok {
			cj = c
		}
	}
	if cj == nil {
		return
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("CronJob/%s concurrencyPolicy %q, want Forbid", cj.Name, cj.Spec.ConcurrencyPolicy)
	}
	if f := strings.Fields(cj.Spec.Schedule); len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		t.Errorf("CronJob/%s schedule %q is not daily", cj.Name, cj.Spec.Schedule)
	}
	ps := &cj.Spec.JobTemplate.Spec.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever || ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Errorf("CronJob/%s restartPolicy %q, token mounted %v", cj.Name, ps.RestartPolicy, ps.AutomountServiceAccountToken)
	}
	c := container(t, ps, "partitions")
	if !slices.Equal(c.Args, []string{"migrate", "partitions"}) {
		t.Errorf("CronJob/%s args %v", cj.Name, c.Args)
	}
	// The migration Job's Secret when it is an existing one; else the
	// CronJob's own (the chart-made hook Secret does not last).
	hook, chartMade := r.objs["Secret/"+migrateSecret].(*corev1.Secret)
	want := migrateSecret
	if chartMade || migrateSecret == "" {
		want = cj.Name
	}
	var found bool
	for _, e := range c.Env {
		switch e.Name {
		case "WANJIA_DATABASE_URL":
			found = true
			ref := e.ValueFrom
			if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != want || ref.SecretKeyRef.Key != "WANJIA_DATABASE_URL" {
				t.Errorf("CronJob/%s WANJIA_DATABASE_URL from %+v, want key WANJIA_DATABASE_URL of Secret %s", cj.Name, ref, want)
			}
		case "WANJIA_SECRET_KEY", "WANJIA_REDIS_URL":
			t.Errorf("CronJob/%s gets %s, which it does not need", cj.Name, e.Name)
		}
	}
	if !found || len(c.EnvFrom) != 0 {
		t.Errorf("CronJob/%s: WANJIA_DATABASE_URL set %v, envFrom %v (the app Secret's URL would be the wrong role)", cj.Name, found, c.EnvFrom)
	}
	if s, ok := r.objs["Secret/"+want].(*corev1.Secret); ok {
		if _, isHook := s.Annotations["helm.sh/hook"]; isHook {
			t.Errorf("Secret/%s is a hook: Helm deletes it, and the CronJob's runs would not start", want)
		}
		url := string(s.Data["WANJIA_DATABASE_URL"])
		if url == "" || (chartMade && url != string(hook.Data["WANJIA_DATABASE_URL"])) {
			t.Errorf("Secret/%s holds %q, not the migration Job's URL", want, url)
		}
	} else if !slices.Contains(external, want) {
		t.Errorf("CronJob/%s reads Secret %s, which is neither rendered nor external", cj.Name, want)
	}
	// Only the CronJob reads that Secret: the parts must not get the owner.
	for k, tpl := range r.podSpecs() {
		if strings.HasPrefix(k, "CronJob/") || strings.HasPrefix(k, "Job/") || want == migrateSecret {
			continue
		}
		for _, c := range tpl.Spec.Containers {
			for _, ef := range c.EnvFrom {
				if ef.SecretRef != nil && ef.SecretRef.Name == want {
					t.Errorf("%s reads the partition Secret %s", k, want)
				}
			}
		}
	}
}

// checkAntiAffinity: the api prefers nodes without another api replica
// (api.podAntiAffinity: preferred); the other parts carry no such term.
func checkAntiAffinity(t *testing.T, r *rendered) {
	t.Helper()
	for _, d := range r.deployments() {
		a := d.Spec.Template.Spec.Affinity
		var terms []corev1.WeightedPodAffinityTerm
		if a != nil && a.PodAntiAffinity != nil {
			terms = a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
			if len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 {
				t.Errorf("%s: a required anti-affinity: replicas beyond the node count would never schedule", d.Name)
			}
		}
		if d.Spec.Template.Spec.Containers[0].Name != "api" {
			if len(terms) > 0 {
				t.Errorf("%s: pod anti-affinity %+v on a part that is not the api", d.Name, terms)
			}
			continue
		}
		if len(terms) != 1 {
			t.Errorf("%s: %d preferred anti-affinity terms, want 1", d.Name, len(terms))
			continue
		}
		term := terms[0].PodAffinityTerm
		sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
		if err != nil || term.TopologyKey != "kubernetes.io/hostname" || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: anti-affinity %+v does not keep api replicas on separate nodes (%v)", d.Name, term, err)
		}
		for _, o := range r.deployments() {
			if o != d && sel.Matches(labels.Set(o.Spec.Template.Labels)) {
				t.Errorf("%s: anti-affinity also repels %s's pods", d.Name, o.Name)
			}
		}
	}
}

// checkServiceMonitor: the ServiceMonitor picks the headless metrics
// Service by its labels and scrapes its named port; that Service lists the
// pods of every part (api, worker, scheduler) and no Job's; the operator's
// selector label from the values is there.
func checkServiceMonitor(t *testing.T, r *rendered) {
	t.Helper()
	sm := r.get(t, "ServiceMonitor/wanjia").(*monitoringv1.ServiceMonitor)
	svc := r.get(t, "Service/wanjia-metrics").(*corev1.Service)
	if sm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack the values' release label", sm.Labels)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not pick Service/%s (%v)", sm.Spec.Selector, svc.Name, err)
	}
	for k, o := range r.objs {
		if s, ok := o.(*corev1.Service); ok && s != svc && sel.Matches(labels.Set(s.Labels)) {
			t.Errorf("ServiceMonitor also picks %s", k)
		}
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{"wanjia"}) {
		t.Errorf("ServiceMonitor namespaces %v, want the release's", sm.Spec.NamespaceSelector.MatchNames)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints %v", sm.Spec.Endpoints)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != "metrics" || ep.Path != "/metrics" || ep.Interval != "15s" {
		t.Errorf("ServiceMonitor endpoint port %q path %q interval %q", ep.Port, ep.Path, ep.Interval)
	}
	if !slices.ContainsFunc(ep.RelabelConfigs, func(rc monitoringv1.RelabelConfig) bool {
		return rc.TargetLabel == "component" && slices.Contains(rc.SourceLabels, "__meta_kubernetes_pod_label_app_kubernetes_io_component")
	}) {
		t.Errorf("ServiceMonitor does not label series with the part (component): %+v", ep.RelabelConfigs)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != ep.Port || svc.Spec.Ports[0].TargetPort.StrVal != "metrics" {
		t.Errorf("Service/%s: clusterIP %q, ports %+v", svc.Name, svc.Spec.ClusterIP, svc.Spec.Ports)
	}
	picked := labels.SelectorFromSet(svc.Spec.Selector)
	for k, tpl := range r.podSpecs() {
		isPart := strings.HasPrefix(k, "Deployment/")
		if picked.Matches(labels.Set(tpl.Labels)) != isPart {
			t.Errorf("Service/%s picks %s: %v", svc.Name, k, !isPart)
		}
		if isPart && !slices.ContainsFunc(tpl.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" }) {
			t.Errorf("%s: picked by Service/%s without a metrics port", k, svc.Name)
		}
	}
}

// checkPrometheusRule: the chart's rules are deploy/alerts.yaml's.
func checkPrometheusRule(t *testing.T, r *rendered) {
	t.Helper()
	pr := r.get(t, "PrometheusRule/wanjia").(*monitoringv1.PrometheusRule)
	if pr.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule labels %v lack the values' release label", pr.Labels)
	}
	want := readRuleFile(t, alertsFile)
	if !reflect.DeepEqual(pr.Spec.Groups, want.Groups) {
		t.Errorf("the PrometheusRule's groups are not deploy/alerts.yaml's:\n got %+v\nwant %+v", pr.Spec.Groups, want.Groups)
	}
	if n := len(pr.Spec.Groups); n == 0 || len(pr.Spec.Groups[0].Rules) < 10 {
		t.Errorf("PrometheusRule: %d groups", n)
	}
}

type netWant struct {
	apiPort, metricsPort int
	// The namespaces (kubernetes.io/metadata.name) the values let reach the
	// api's port and the metrics port.
	apiFrom, metricsFrom string
	// Each destination the values name, by rule: a CIDR or a namespace, a
	// port and a protocol.
	egress map[string][]egressWant
}

type egressWant struct {
	to    string
	port  int
	proto string
}

// checkNetworkPolicies: every pod of the release is selected by exactly one
// policy, which governs both directions; only the api takes traffic on its
// port, from where the values say; the worker and the scheduler take only
// scrapes, the Jobs nothing; egress goes only where the values say, on
// their ports, never to an empty (= any) destination; only the api and the
// workers reach the providers.
func checkNetworkPolicies(t *testing.T, r *rendered, w netWant) {
	t.Helper()
	var pols []*networkingv1.NetworkPolicy
	for _, k := range r.order {
		if p, ok := r.objs[k].(*networkingv1.NetworkPolicy); ok {
			pols = append(pols, p)
		}
	}
	partOf := func(tpl *corev1.PodTemplateSpec) string { return tpl.Labels["app.kubernetes.io/component"] }
	for k, tpl := range r.podSpecs() {
		var mine []*networkingv1.NetworkPolicy
		for _, p := range pols {
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			if err != nil {
				t.Fatalf("NetworkPolicy/%s: %v", p.Name, err)
			}
			if sel.Matches(labels.Set(tpl.Labels)) {
				mine = append(mine, p)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%s is selected by %d NetworkPolicies, want 1", k, len(mine))
			continue
		}
		p := mine[0]
		if !slices.Equal(p.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			t.Errorf("NetworkPolicy/%s policyTypes %v: both directions must be governed", p.Name, p.Spec.PolicyTypes)
		}
		part := partOf(tpl)
		// Ingress: port → where from.
		in := map[int]string{}
		for _, rule := range p.Spec.Ingress {
			for _, port := range rule.Ports {
				if port.Port == nil || port.Port.IntValue() == 0 {
					t.Errorf("NetworkPolicy/%s: an ingress rule without a numbered port opens every port", p.Name)
					continue
				}
				in[port.Port.IntValue()] = peersString(rule.From)
			}
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy/%s: an ingress rule on every port", p.Name)
			}
		}
		switch part {
		case "api":
			if in[w.apiPort] != w.apiFrom || in[w.metricsPort] != w.metricsFrom || len(in) != 2 {
				t.Errorf("NetworkPolicy/%s ingress %v, want port %d from %s and %d from %s", p.Name, in, w.apiPort, w.apiFrom, w.metricsPort, w.metricsFrom)
			}
		case "worker", "scheduler":
			if in[w.metricsPort] != w.metricsFrom || len(in) != 1 {
				t.Errorf("NetworkPolicy/%s ingress %v, want only the metrics port %d from %s", p.Name, in, w.metricsPort, w.metricsFrom)
			}
		case "migrate", "partitions":
			if len(p.Spec.Ingress) != 0 {
				t.Errorf("NetworkPolicy/%s admits %v to the Jobs", p.Name, in)
			}
		default:
			t.Errorf("%s: pods of part %q", k, part)
		}
		// Egress: every (destination, port, protocol) allowed.
		got := map[egressWant]bool{}
		for _, rule := range p.Spec.Egress {
			if len(rule.To) == 0 || len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy/%s: an egress rule to every address or on every port: %+v", p.Name, rule)
				continue
			}
			for _, peer := range rule.To {
				to := peerString(peer)
				if b := peer.IPBlock; b != nil {
					v6 := strings.Contains(b.CIDR, ":")
					for _, e := range b.Except {
						if strings.Contains(e, ":") != v6 {
							t.Errorf("NetworkPolicy/%s: %s excepts %s, of the other IP family", p.Name, b.CIDR, e)
						}
					}
					if (b.CIDR == "0.0.0.0/0" || b.CIDR == "::/0") && len(b.Except) == 0 {
						t.Errorf("NetworkPolicy/%s: %s without the private networks excepted", p.Name, b.CIDR)
					}
				}
				for _, port := range rule.Ports {
					proto := "TCP"
					if port.Protocol != nil {
						proto = string(*port.Protocol)
					}
					got[egressWant{to, port.Port.IntValue(), proto}] = true
				}
			}
		}
		var wantRules []string
		switch part {
		case "api", "worker":
			wantRules = []string{"dns", "database", "redis", "providers"}
		case "scheduler":
			wantRules = []string{"dns", "database", "redis"}
		default:
			wantRules = []string{"dns", "database"}
		}
		want := map[egressWant]bool{}
		for _, name := range wantRules {
			for _, e := range w.egress[name] {
				want[e] = true
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("NetworkPolicy/%s (%s) egress:\n got %v\nwant %v", p.Name, part, sortedKeys(toStrings(got)), sortedKeys(toStrings(want)))
		}
	}
	// The public port is reachable on the api's pods only.
	for _, d := range r.deployments() {
		if d.Spec.Template.Spec.Containers[0].Name != "api" {
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, p := range c.Ports {
					if int(p.ContainerPort) == w.apiPort {
						t.Errorf("%s listens on the api's port", d.Name)
					}
				}
			}
		}
	}
}

func toStrings(m map[egressWant]bool) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[fmt.Sprintf("%s:%d/%s", k.to, k.port, k.proto)] = true
	}
	return out
}

// peerString names a peer by its CIDR or its namespace; "" for no peers
// (from anywhere).
func peerString(p networkingv1.NetworkPolicyPeer) string {
	switch {
	case p.IPBlock != nil:
		return p.IPBlock.CIDR
	case p.NamespaceSelector != nil:
		if n := p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; n != "" {
			return n
		}
		return "any namespace"
	default:
		return "pods of this namespace"
	}
}

func peersString(ps []networkingv1.NetworkPolicyPeer) string {
	var out []string
	for _, p := range ps {
		out = append(out, peerString(p))
	}
	return strings.Join(out, ",")
}
