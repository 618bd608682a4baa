{{/*
The chart's name, truncated to 63 characters (a DNS label).
*/}}
{{- define "wanjia.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified app name, truncated to 63 characters. When the release
name already contains the chart name it is used as is.
*/}}
{{- define "wanjia.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart-version, for the helm.sh/chart label.
*/}}
{{- define "wanjia.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Call with the root context.
*/}}
{{- define "wanjia.labels" -}}
helm.sh/chart: {{ include "wanjia.chart" . }}
app.kubernetes.io/name: {{ include "wanjia.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wanjia
{{- end }}

{{/*
Selector labels of one part. Call with (dict "ctx" $ "component" "api").
*/}}
{{- define "wanjia.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wanjia.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Common labels plus the part's selector labels. Call like wanjia.selectorLabels.
*/}}
{{- define "wanjia.componentLabels" -}}
{{ include "wanjia.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The image reference: repository@digest, or repository:tag (tag defaults to
the chart's appVersion).
*/}}
{{- define "wanjia.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
The name of the Secret holding WANJIA_DATABASE_URL, WANJIA_REDIS_URL, ...
*/}}
{{- define "wanjia.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "wanjia.fullname" . }}
{{- end }}
{{- end }}

{{/*
The name of the Secret whose key WANJIA_DATABASE_URL the migration Job uses:
secrets.existingMigrateSecret, else secrets.existingSecret, else the hook
Secret made for the Job (secrets.migrateDatabaseURL, else
secrets.databaseURL; see migrate-job.yaml).
*/}}
{{- define "wanjia.migrateSecretName" -}}
{{- if .Values.secrets.existingMigrateSecret }}
{{- .Values.secrets.existingMigrateSecret }}
{{- else if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "wanjia.fullname" . }}-migrate
{{- end }}
{{- end }}

{{/*
WANJIA_BASE_URL: config.baseURL, else the first ingress host when the
ingress is on (https when that host has TLS), else nothing (the binary's
default).
*/}}
{{- define "wanjia.baseURL" -}}
{{- if .Values.config.baseURL }}
{{- .Values.config.baseURL }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- $scheme := "http" }}
{{- range .Values.ingress.tls }}
{{- if has $host (.hosts | default list) }}
{{- $scheme = "https" }}
{{- end }}
{{- end }}
{{- if $host }}
{{- printf "%s://%s" $scheme $host }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The non-secret environment, as a YAML map NAME: "value". Rendered into the
ConfigMap, and inline into the migration hook Job (which runs before the
ConfigMap exists on a first install). Empty values are left out: an empty
variable means the default anyway.
*/}}
{{- define "wanjia.configEnv" -}}
{{- $env := dict
  "WANJIA_ADDR" (printf ":%v" .Values.api.containerPort)
  "WANJIA_DATA_DIR" "/data"
  "WANJIA_BASE_URL" (include "wanjia.baseURL" .)
  "WANJIA_SMS_PROVIDER" .Values.config.smsProvider
  "WANJIA_SMS_RATE" (.Values.config.smsRate | default "")
  "WANJIA_SMS_DAILY_CAP" (.Values.config.smsDailyCap | default "")
  "WANJIA_VOICE_RATE" (.Values.config.voiceRate | default "")
  "WANJIA_VOICE_DAILY_CAP" (.Values.config.voiceDailyCap | default "")
  "WANJIA_WECOM_URL" (.Values.config.wecomURL | default "")
  "WANJIA_LOG_LEVEL" .Values.config.logLevel
  "WANJIA_LOG_FORMAT" .Values.config.logFormat
  "WANJIA_SHUTDOWN_TIMEOUT" .Values.config.shutdownTimeout
  "WANJIA_TRUSTED_PROXIES" (.Values.config.trustedProxies | default "")
  "WANJIA_METRICS_ADDR" (ternary (printf ":%v" .Values.metrics.port) "" (.Values.metrics.enabled | default false))
}}
{{- range $k, $v := .Values.config.extra }}
{{- $_ := set $env $k $v }}
{{- end }}
{{- range $k, $v := $env }}
{{- if not (eq (toString $v) "") }}
{{ $k }}: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The secret environment, as a YAML map NAME: "value", for the Secret the
chart makes when no existingSecret is given.
*/}}
{{- define "wanjia.secretEnv" -}}
{{- $env := dict
  "WANJIA_DATABASE_URL" .Values.secrets.databaseURL
  "WANJIA_REDIS_URL" .Values.secrets.redisURL
  "WANJIA_SECRET_KEY" .Values.secrets.secretKey
  "WANJIA_ADMIN_PASSWORD" .Values.secrets.adminPassword
}}
{{- range $k, $v := .Values.secrets.extra }}
{{- $_ := set $env $k $v }}
{{- end }}
{{- range $k, $v := $env }}
{{- if not (eq (toString $v) "") }}
{{ $k }}: {{ toString $v | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment of a long-running part: everything from the ConfigMap and the
Secret (so also WANJIA_ADMIN_PASSWORD, which only the api uses, on its first
start, and any provider credentials), and the two URLs and the
secret key again by explicit reference, which is NOT optional: an
existingSecret without them keeps the pod from starting
(CreateContainerConfigError naming the key) instead of letting wanjia fall
back to its embedded mode. (The Secret the chart makes always has them: the
render fails without them, see wanjia.validateSecrets.)
Call with (dict "ctx" $ "extraEnv" .Values.api.extraEnv).
*/}}
{{- define "wanjia.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "wanjia.fullname" .ctx }}
  - secretRef:
      name: {{ include "wanjia.secretName" .ctx }}
env:
  - name: WANJIA_DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "wanjia.secretName" .ctx }}
        key: WANJIA_DATABASE_URL
  - name: WANJIA_REDIS_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "wanjia.secretName" .ctx }}
        key: WANJIA_REDIS_URL
  - name: WANJIA_SECRET_KEY
    valueFrom:
      secretKeyRef:
        name: {{ include "wanjia.secretName" .ctx }}
        key: WANJIA_SECRET_KEY
  {{- with .ctx.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with .extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Pod-level settings shared by every part. Call with the root context.
*/}}
{{- define "wanjia.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
A part's affinity: the values' affinity, and for the api a preferred pod
anti-affinity on the node (api.podAntiAffinity: preferred), so that losing a
node takes one api replica, not all, when there are nodes enough. A
podAntiAffinity of the values' own wins. Call with (dict "ctx" $
"component" "api").
*/}}
{{- define "wanjia.affinity" -}}
{{- $aff := deepCopy (.ctx.Values.affinity | default dict) }}
{{- if and (eq .component "api") (eq (toString .ctx.Values.api.podAntiAffinity) "preferred") (not (hasKey $aff "podAntiAffinity")) }}
{{- $selector := include "wanjia.selectorLabels" (dict "ctx" .ctx "component" "api") | fromYaml }}
{{- $term := dict "weight" 100 "podAffinityTerm" (dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $selector)) }}
{{- $_ := set $aff "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list $term)) }}
{{- end }}
{{- with $aff }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The writable /tmp every container gets (the root filesystem is read-only).
*/}}
{{- define "wanjia.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      {{- with .Values.tmpSizeLimit }}
      sizeLimit: {{ . }}
      {{- end }}
{{- end }}

{{- define "wanjia.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/*
config.shutdownTimeout in whole seconds, for the forms Ns, Nm and NmMs;
-1 for any other form (then the grace periods are not checked).
*/}}
{{- define "wanjia.shutdownSeconds" -}}
{{- $d := toString .Values.config.shutdownTimeout }}
{{- if regexMatch "^[0-9]+s$" $d }}
{{- trimSuffix "s" $d | atoi }}
{{- else if regexMatch "^[0-9]+m$" $d }}
{{- mul (trimSuffix "m" $d | atoi) 60 }}
{{- else if regexMatch "^[0-9]+m[0-9]+s$" $d }}
{{- $parts := regexSplit "m" (trimSuffix "s" $d) -1 }}
{{- add (mul (index $parts 0 | atoi) 60) (index $parts 1 | atoi) }}
{{- else }}
{{- -1 }}
{{- end }}
{{- end }}

{{/*
Fails the render when a part's terminationGracePeriodSeconds does not leave
room for the graceful shutdown: Kubernetes would SIGKILL in-flight work.
*/}}
{{- define "wanjia.validate" -}}
{{- $shutdown := include "wanjia.shutdownSeconds" . | atoi }}
{{- if ge $shutdown 0 }}
{{- $apiNeed := add $shutdown (int (.Values.api.preStopSleepSeconds | default 0)) }}
{{- if le (int .Values.api.terminationGracePeriodSeconds) $apiNeed }}
{{- fail (printf "api.terminationGracePeriodSeconds (%v) must be more than config.shutdownTimeout + api.preStopSleepSeconds (%v s)" .Values.api.terminationGracePeriodSeconds $apiNeed) }}
{{- end }}
{{- if le (int .Values.worker.terminationGracePeriodSeconds) $shutdown }}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must be more than config.shutdownTimeout (%v s)" .Values.worker.terminationGracePeriodSeconds $shutdown) }}
{{- end }}
{{- if le (int .Values.scheduler.terminationGracePeriodSeconds) $shutdown }}
{{- fail (printf "scheduler.terminationGracePeriodSeconds (%v) must be more than config.shutdownTimeout (%v s)" .Values.scheduler.terminationGracePeriodSeconds $shutdown) }}
{{- end }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.api.containerPort)) }}
{{- fail (printf "metrics.port (%v) must differ from api.containerPort: metrics are kept off the public port" .Values.metrics.port) }}
{{- end }}
{{- include "wanjia.validateSecrets" . }}
{{- end }}

{{/*
The metrics port of a part's container (WANJIA_METRICS_ADDR), when metrics
are on. Every part has one: the worker's task series and the scheduler's
slots are there only.
*/}}
{{- define "wanjia.metricsPort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{/*
A part's pod annotations: Prometheus's pod discovery annotations pointing
at the metrics port (when metrics.podAnnotations), then the part's own
podAnnotations, which win. Call with (dict "ctx" . "extra" .Values.api.podAnnotations).
*/}}
{{- define "wanjia.podAnnotations" -}}
{{- $ann := dict }}
{{- $m := .ctx.Values.metrics }}
{{- if and $m.enabled $m.podAnnotations }}
{{- $_ := set $ann "prometheus.io/scrape" "true" }}
{{- $_ := set $ann "prometheus.io/port" (toString $m.port) }}
{{- $_ := set $ann "prometheus.io/path" "/metrics" }}
{{- end }}
{{- range $k, $v := .extra }}
{{- $_ := set $ann $k $v }}
{{- end }}
{{- if $ann }}
{{- toYaml $ann }}
{{- end }}
{{- end }}

{{/*
Fails the render when the pods could not start for want of a secret: without
secrets.existingSecret, the Secret the chart makes must carry the two URLs
and the secret key (the parts reference them and would stop at
CreateContainerConfigError, and the migration hook would wait out its
deadline). `required`, so that `helm lint` (which renders the defaults and
only reports missing required values) stays clean; one `required` (`and`
gives the first empty value) with one message naming every missing value.
*/}}
{{- define "wanjia.validateSecrets" -}}
{{- $s := .Values.secrets }}
{{- if $s.existingSecret }}
{{- if or $s.databaseURL $s.redisURL $s.secretKey $s.adminPassword $s.migrateDatabaseURL }}
{{- fail "secrets.existingSecret is set: leave secrets.databaseURL, secrets.redisURL, secrets.secretKey, secrets.adminPassword and secrets.migrateDatabaseURL empty (put them in that Secret; the owner's URL for migrations in secrets.existingMigrateSecret)" }}
{{- end }}
{{- else }}
{{- $missing := list }}
{{- if not $s.databaseURL }}
{{- $missing = append $missing "secrets.databaseURL (WANJIA_DATABASE_URL of the parts, the application role: postgres://wanjia_app:PASSWORD@HOST:5432/wanjia?sslmode=require)" }}
{{- end }}
{{- if not $s.redisURL }}
{{- $missing = append $missing "secrets.redisURL (WANJIA_REDIS_URL: redis://:PASSWORD@HOST:6379/0)" }}
{{- end }}
{{- if not $s.secretKey }}
{{- $missing = append $missing "secrets.secretKey (WANJIA_SECRET_KEY, at least 32 characters: openssl rand -base64 32)" }}
{{- end }}
{{- $msg := printf "secrets.existingSecret is empty, so the chart makes the Secret and needs: %s. Set them (--set secrets.databaseURL=...), or set secrets.existingSecret to a Secret holding WANJIA_DATABASE_URL, WANJIA_REDIS_URL and WANJIA_SECRET_KEY" (join "; " $missing) }}
{{- $_ := required $msg (and $s.databaseURL $s.redisURL $s.secretKey) }}
{{- end }}
{{- if and $s.secretKey (not (regexMatch "(?s)^.{32,}$" (toString $s.secretKey))) }}
{{- fail "secrets.secretKey must have at least 32 characters (make one with `openssl rand -base64 32`): wanjia refuses a shorter WANJIA_SECRET_KEY" }}
{{- end }}
{{- if and $s.existingMigrateSecret $s.migrateDatabaseURL }}
{{- fail "secrets.existingMigrateSecret and secrets.migrateDatabaseURL are both set: set one" }}
{{- end }}
{{- end }}

{{/*
Whether the cluster supports the preStop sleep action (Kubernetes >= 1.30).
*/}}
{{- define "wanjia.preStopSleep" -}}
{{- if and (gt (int (.Values.api.preStopSleepSeconds | default 0)) 0) (semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version) -}}
true
{{- end -}}
{{- end }}

{{/*
The label of the pods that serve /metrics (every long-running part, when
metrics are on): the headless metrics Service selects them, and a PodMonitor
of your own can. The Jobs' pods do not carry it.
*/}}
{{- define "wanjia.metricsPodLabel" -}}
{{- if .Values.metrics.enabled }}
wanjia/metrics: "true"
{{- end }}
{{- end }}

{{/*
The name of the Secret whose key WANJIA_DATABASE_URL the partition CronJob
uses: like the migration Job's (the owner's URL), but a lasting Secret of
its own when the chart makes it, since the migration Job's is a hook that
Helm deletes once the hook is done.
*/}}
{{- define "wanjia.partitionsSecretName" -}}
{{- if .Values.secrets.existingMigrateSecret }}
{{- .Values.secrets.existingMigrateSecret }}
{{- else if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "wanjia.fullname" . }}-partitions
{{- end }}
{{- end }}

{{/*
One egress rule of the NetworkPolicy: to the rule's CIDRs (0.0.0.0/0 and ::/0
less its except list) and peers, on its TCP ports (and UDP too when udp is
true). Call with (dict "name" "database" "rule" .Values.networkPolicy.egress.database).
An empty destination would open the rule to everything, so it fails the
render instead, naming the value to set.
*/}}
{{- define "wanjia.egressRule" -}}
{{- $r := .rule }}
{{- if not (or $r.cidrs $r.peers) }}
{{- fail (printf "networkPolicy.egress.%s: set cidrs (e.g. [10.0.5.10/32]) or peers (NetworkPolicyPeers): an empty destination would allow every address" .name) }}
{{- end }}
{{- if not $r.ports }}
{{- fail (printf "networkPolicy.egress.%s.ports is empty" .name) }}
{{- end }}
- to:
    {{- range $r.cidrs }}
    - ipBlock:
        cidr: {{ . | quote }}
        {{- $v6 := contains ":" (toString .) }}
        {{- $except := list }}
        {{- range $r.except }}{{ if eq (contains ":" (toString .)) $v6 }}{{ $except = append $except . }}{{ end }}{{ end }}
        {{- if and $except (has (toString .) (list "0.0.0.0/0" "::/0")) }}
        except:
          {{- range $except }}
          - {{ . | quote }}
          {{- end }}
        {{- end }}
    {{- end }}
    {{- with $r.peers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    {{- range $r.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- if $r.udp }}
    - port: {{ . }}
      protocol: UDP
    {{- end }}
    {{- end }}
{{- end }}

{{/*
The NetworkPolicy of some pods. Call with (dict "ctx" $ "name" "api"
"components" (list "api") "ingress" RULES "egress" (list "database" ...)),
RULES a list of (dict "ports" (list N) "from" PEERS): empty from = any source.
*/}}
{{- define "wanjia.networkPolicy" -}}
{{- $np := .ctx.Values.networkPolicy }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "wanjia.fullname" .ctx }}-{{ .name }}
  labels:
    {{- include "wanjia.labels" .ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ include "wanjia.name" .ctx }}
      app.kubernetes.io/instance: {{ .ctx.Release.Name }}
    matchExpressions:
      - key: app.kubernetes.io/component
        operator: In
        values:
          {{- toYaml .components | nindent 10 }}
  policyTypes:
    - Ingress
    - Egress
  {{- if .ingress }}
  ingress:
    {{- range .ingress }}
    - ports:
        {{- range .ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with .from }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
  {{- else }}
  ingress: []
  {{- end }}
  egress:
    {{- range .egress }}
    {{- $rule := get $np.egress . }}
    {{- if or (ne . "providers") $rule.cidrs $rule.peers }}
    {{- include "wanjia.egressRule" (dict "name" . "rule" $rule) | trim | nindent 4 }}
    {{- end }}
    {{- end }}
{{- end }}
