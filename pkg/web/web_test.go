package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/observe"
)

// syncBuffer lets the test read logs written by the server under -race.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	engine  *gin.Engine
	logs    *syncBuffer
	metrics *observe.Metrics
}

func newTestServer(t *testing.T, limit int64) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	m := observe.NewMetrics()
	e := NewEngine(Options{Logger: observe.NewLogger(logs, true, slog.LevelDebug), Metrics: m, BodyLimit: limit})
	return &testServer{engine: e, logs: logs, metrics: m}
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (s *testServer) do(t *testing.T, method, target string, body io.Reader, header map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	r := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.Body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q: %v", method, target, rec.Body.String(), err)
		}
	}
	return r
}

// errorObject returns the "error" object of an error answer, failing if the
// shape is not the contract's.
func errorObject(t *testing.T, r response) map[string]any {
	t.Helper()
	obj, ok := r.Body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %q", r.Raw)
	}
	if _, ok := obj["code"].(string); !ok {
		t.Fatalf("error.code missing in %q", r.Raw)
	}
	if _, ok := obj["message"].(string); !ok {
		t.Fatalf("error.message missing in %q", r.Raw)
	}
	return obj
}

func TestErrorStatuses(t *testing.T) {
	secret := "pq: password authentication failed for user secret_admin"
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		zh, en string
	}{
		{"bad request", errs.BadRequest(""), 400, "bad_request", "请求格式有误", "The request is malformed"},
		{"unauthenticated", errs.Unauthenticated(), 401, "unauthenticated", "请先登录", "Please sign in"},
		{"forbidden", errs.Forbidden(), 403, "forbidden", "无权执行此操作", "You are not allowed to do this"},
		{"not found", errs.NotFound(), 404, "not_found", "记录不存在", "No such record"},
		{"method not allowed", errs.New(errs.KindMethodNotAllowed, "", nil), 405, "method_not_allowed", "不支持该请求方法", "Method not allowed"},
		{"conflict", errs.Conflict("", nil), 409, "conflict", "操作与当前状态冲突", "The request conflicts with the current state"},
		{"too large", errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": 10}), 413, "too_large", "请求内容过大，上限 10 字节", "The request body is too large (limit 10 bytes)"},
		{"validation", errs.Validation(errs.Field("name", "required", nil)), 422, "validation_failed", "提交的内容有误，请检查", "Some fields are invalid"},
		{"rate limited", errs.RateLimited(), 429, "rate_limited", "请求过于频繁，请稍后再试", "Too many requests, please try again later"},
		{"unavailable", errs.Unavailable("unavailable_database", errors.New("dial tcp: refused")), 503, "unavailable", "数据库暂时不可用，请稍后再试", "The database is temporarily unavailable, please try again later"},
		{"raw outage", fmt.Errorf("query: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}), 503, "unavailable", "服务暂时不可用，请稍后再试", "The service is temporarily unavailable, please try again later"},
		{"internal", errors.New(secret), 500, "internal", "服务器内部错误，请稍后再试", "Internal server error, please try again later"},
		{"internal app error hides its key", errs.New(errs.KindInternal, "too_long", map[string]any{"max": 1}).WithData("leak", secret), 500, "internal", "服务器内部错误，请稍后再试", "Internal server error, please try again later"},
		{"code override", errs.Conflict("", nil).WithCode("duplicate"), 409, "duplicate", "操作与当前状态冲突", "The request conflicts with the current state"},
	}
	s := newTestServer(t, 0)
	byName := map[string]error{}
	for _, tt := range tests {
		byName[tt.name] = tt.err
	}
	s.engine.GET("/fail/:name", func(c *gin.Context) { Fail(c, byName[c.Param("name")]) })

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []struct{ header, want string }{{"", tt.zh}, {"zh-CN", tt.zh}, {"en-US,en;q=0.9", tt.en}} {
				r := s.do(t, http.MethodGet, "/fail/"+url.PathEscape(tt.name), nil, map[string]string{"Accept-Language": lang.header})
				if r.Status != tt.status {
					t.Fatalf("status = %d, want %d (%s)", r.Status, tt.status, r.Raw)
				}
				obj := errorObject(t, r)
				if obj["code"] != tt.code {
					t.Errorf("code = %v, want %s", obj["code"], tt.code)
				}
				if obj["message"] != lang.want {
					t.Errorf("Accept-Language %q: message = %v, want %s", lang.header, obj["message"], lang.want)
				}
				if tt.status == 500 {
					if strings.Contains(r.Raw, "secret_admin") || len(obj) != 2 {
						t.Errorf("500 leaks more than code and message: %s", r.Raw)
					}
				}
				if _, ok := obj["details"]; ok && tt.code != "validation_failed" {
					t.Errorf("details present though empty: %s", r.Raw)
				}
			}
		})
	}

	t.Run("500 cause logged with request id", func(t *testing.T) {
		r := s.do(t, http.MethodGet, "/fail/internal", nil, map[string]string{HeaderRequestID: "req-500"})
		if r.Status != 500 {
			t.Fatalf("status %d", r.Status)
		}
		var found bool
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(line, `"request failed"`) && strings.Contains(line, "req-500") && strings.Contains(line, "secret_admin") {
				found = true
			}
		}
		if !found {
			t.Errorf("no log line with the cause and request id:\n%s", s.logs.String())
		}
	})
}

func TestEveryKindHasStatusAndMessage(t *testing.T) {
	seen := map[int]bool{}
	for _, k := range errs.Kinds() {
		st := Status(k)
		if k != errs.KindInternal && (st == 500 || seen[st]) {
			t.Errorf("kind %v: status %d is 500 or shared", k, st)
		}
		seen[st] = true
		if _, ok := i18n.Lookup(k.String()); !ok {
			t.Errorf("kind %v: no message for code %q", k, k.String())
		}
	}
	for _, key := range i18n.Keys() {
		m, _ := i18n.Lookup(key)
		if m.ZH == "" || m.EN == "" {
			t.Errorf("message %q lacks a translation", key)
		}
	}
}

func TestValidationDetails(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.POST("/residents", func(c *gin.Context) {
		Fail(c, errs.Validation(
			errs.Field("name", "required", nil),
			errs.Field("phone", "invalid_format", nil),
			errs.Field("notes", "too_long", map[string]any{"max": 200}),
		))
	})
	tests := []struct {
		lang string
		want []map[string]any
	}{
		{"", []map[string]any{
			{"field": "name", "message": "必填"},
			{"field": "phone", "message": "格式不正确"},
			{"field": "notes", "message": "不能超过 200 个字符"},
		}},
		{"en", []map[string]any{
			{"field": "name", "message": "Required"},
			{"field": "phone", "message": "Invalid format"},
			{"field": "notes", "message": "Must be at most 200 characters"},
		}},
	}
	for _, tt := range tests {
		t.Run("lang="+tt.lang, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/residents", strings.NewReader("{}"), map[string]string{"Accept-Language": tt.lang})
			if r.Status != 422 {
				t.Fatalf("status %d", r.Status)
			}
			got, _ := json.Marshal(errorObject(t, r)["details"])
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Errorf("details = %s, want %s", got, want)
			}
		})
	}
}

func TestDataMergedAndHeaders(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/dup", func(c *gin.Context) {
		Fail(c, errs.Conflict("", nil).WithCode("duplicate").WithData("existing_id", "0190-abc").WithData("code", "spoofed"))
	})
	s.engine.GET("/slow-down", func(c *gin.Context) {
		Fail(c, errs.RateLimited().WithData("retry_after", 61))
	})
	s.engine.GET("/who", func(c *gin.Context) { Fail(c, errs.Unauthenticated()) })

	r := s.do(t, http.MethodGet, "/dup", nil, nil)
	obj := errorObject(t, r)
	if r.Status != 409 || obj["existing_id"] != "0190-abc" || obj["code"] != "duplicate" {
		t.Errorf("got %d %s", r.Status, r.Raw)
	}
	r = s.do(t, http.MethodGet, "/slow-down", nil, nil)
	if r.Status != 429 || r.Header.Get("Retry-After") != "61" || errorObject(t, r)["retry_after"] != float64(61) {
		t.Errorf("got %d Retry-After=%q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
	}
	r = s.do(t, http.MethodGet, "/who", nil, nil)
	if r.Status != 401 || r.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("got %d WWW-Authenticate=%q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/api/v1/things", func(c *gin.Context) { OK(c, 200, gin.H{}) })
	tests := []struct {
		method, path, lang string
		status             int
		code, message      string
	}{
		{http.MethodGet, "/api/v1/nothing", "", 404, "not_found", "接口不存在"},
		{http.MethodGet, "/api/v1/nothing", "en", 404, "not_found", "No such endpoint"},
		{http.MethodDelete, "/api/v1/things", "", 405, "method_not_allowed", "不支持该请求方法"},
		{http.MethodDelete, "/api/v1/things", "en", 405, "method_not_allowed", "Method not allowed"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.method, tt.path, tt.lang), func(t *testing.T) {
			r := s.do(t, tt.method, tt.path, nil, map[string]string{"Accept-Language": tt.lang})
			obj := errorObject(t, r)
			if r.Status != tt.status || obj["code"] != tt.code || obj["message"] != tt.message {
				t.Errorf("got %d %s", r.Status, r.Raw)
			}
			if tt.status == 405 && !strings.Contains(r.Header.Get("Allow"), "GET") {
				t.Errorf("Allow = %q", r.Header.Get("Allow"))
			}
			if r.Header.Get(HeaderRequestID) == "" {
				t.Error("no request id on an unrouted answer")
			}
		})
	}
}

func TestPanic(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/boom", func(c *gin.Context) { panic("secret panic value: token=abc123") })
	s.engine.GET("/boom-after-write", func(c *gin.Context) {
		c.String(200, "partial")
		panic("late")
	})
	for _, lang := range []string{"", "en"} {
		r := s.do(t, http.MethodGet, "/boom", nil, map[string]string{"Accept-Language": lang})
		obj := errorObject(t, r)
		if r.Status != 500 || obj["code"] != "internal" {
			t.Errorf("got %d %s", r.Status, r.Raw)
		}
		if strings.Contains(r.Raw, "secret") || strings.Contains(r.Raw, "abc123") {
			t.Errorf("panic value leaked: %s", r.Raw)
		}
		id := r.Header.Get(HeaderRequestID)
		if id == "" {
			t.Fatal("no request id header")
		}
		logs := s.logs.String()
		if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, id) ||
			!strings.Contains(logs, "abc123") || !strings.Contains(logs, "goroutine") {
			t.Errorf("panic not logged with value, stack and request id %s:\n%s", id, logs)
		}
	}
	if got := counter(t, s.metrics, "GET", "/boom", "500"); got != 2 {
		t.Errorf("panics counted %v times as 500, want 2", got)
	}
	r := s.do(t, http.MethodGet, "/boom-after-write", nil, nil)
	if r.Status != 200 || r.Raw != "partial" {
		t.Errorf("a panic after writing must not append an error body: %d %q", r.Status, r.Raw)
	}
}

func TestBodyLimit(t *testing.T) {
	s := newTestServer(t, 64)
	echo := func(c *gin.Context) {
		var v map[string]any
		if err := BindJSON(c, &v); err != nil {
			Fail(c, err)
			return
		}
		OK(c, 200, v)
	}
	raw := func(c *gin.Context) {
		// A handler using its own reader and returning the raw error still
		// gets a 413, not a 500.
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			Fail(c, fmt.Errorf("read upload: %w", err))
			return
		}
		OK(c, 200, gin.H{})
	}
	s.engine.POST("/small", echo)
	s.engine.POST("/raw", raw)
	big := s.engine.Group("/big", BodyLimit(4096))
	big.POST("/echo", echo)
	tiny := s.engine.Group("/tiny", BodyLimit(8))
	tiny.POST("/echo", echo)

	body := `{"notes":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		path   string
		body   string
		status int
		code   string
	}{
		{"/small", body, 413, "too_large"},
		{"/small", `{"a":1}`, 200, ""},
		{"/raw", body, 413, "too_large"},
		{"/big/echo", body, 200, ""},
		{"/big/echo", body + strings.Repeat(" ", 5000), 413, "too_large"},
		{"/tiny/echo", `{"a":12345}`, 413, "too_large"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d bytes", tt.path, len(tt.body)), func(t *testing.T) {
			r := s.do(t, http.MethodPost, tt.path, strings.NewReader(tt.body), nil)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.code != "" && errorObject(t, r)["code"] != tt.code {
				t.Errorf("code: %s", r.Raw)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/id", func(c *gin.Context) {
		// The id must reach code that only sees a context.Context, whether
		// it is handed c itself or the request's context.
		OK(c, 200, gin.H{"gin": RequestID(c), "ctx": observe.RequestID(c.Request.Context()), "fallback": observe.RequestID(c)})
	})
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tests := []struct {
		name, incoming string
		kept           bool
	}{
		{"none", "", false},
		{"sane", "abc-DEF_123.x", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"65 chars", strings.Repeat("a", 65), false},
		{"space", "abc def", false},
		{"header injection", "abc\"}<script>", false},
		{"non-ascii", "请求", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/id", nil, map[string]string{HeaderRequestID: tt.incoming})
			got := r.Header.Get(HeaderRequestID)
			if tt.kept && got != tt.incoming {
				t.Errorf("id %q replaced by %q", tt.incoming, got)
			}
			if !tt.kept && !uuidRE.MatchString(got) {
				t.Errorf("id %q not replaced by a uuid v7: %q", tt.incoming, got)
			}
			for _, k := range []string{"gin", "ctx"} {
				if r.Body[k] != got {
					t.Errorf("%s id = %v, header %q", k, r.Body[k], got)
				}
			}
		})
	}
}

func counter(t *testing.T, m *observe.Metrics, labels ...string) float64 {
	t.Helper()
	var d dto.Metric
	var c prometheus.Counter = m.HTTPRequests.WithLabelValues(labels...)
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/api/v1/items/:id", func(c *gin.Context) { OK(c, 200, gin.H{"id": c.Param("id")}) })
	for _, id := range []string{"a", "b", "c"} {
		s.do(t, http.MethodGet, "/api/v1/items/"+id, nil, nil)
	}
	s.do(t, http.MethodGet, "/nope/1", nil, nil)
	s.do(t, http.MethodGet, "/nope/2", nil, nil)
	s.do(t, "BREW", "/api/v1/items/a", nil, nil)

	tests := []struct {
		labels []string
		want   float64
	}{
		{[]string{"GET", "/api/v1/items/:id", "200"}, 3},
		{[]string{"GET", "unmatched", "404"}, 2},
		{[]string{"OTHER", "unmatched", "405"}, 1},
	}
	for _, tt := range tests {
		if got := counter(t, s.metrics, tt.labels...); got != tt.want {
			t.Errorf("requests%v = %v, want %v", tt.labels, got, tt.want)
		}
	}
	mfs, err := s.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "wanjia_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.HasPrefix(l.GetValue(), "/nope") {
					t.Errorf("raw path used as route label: %s", l.GetValue())
				}
			}
		}
	}
}

func TestAccessLog(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/r/:token", func(c *gin.Context) { OK(c, 200, gin.H{"ok": true}) })
	s.do(t, http.MethodGet, "/r/sekrit-token-value?q=13800138000", nil, map[string]string{HeaderRequestID: "log-1"})
	var rec map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		if strings.Contains(line, `"http request"`) {
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{"method": "GET", "route": "/r/:token", "path": "/r/***", "status": float64(200), "request_id": "log-1", "client_ip": "192.0.2.1", "level": "INFO"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (%v)", k, rec[k], v, rec)
		}
	}
	if _, ok := rec["duration"]; !ok {
		t.Error("no duration")
	}
	if b, _ := rec["bytes"].(float64); b <= 0 {
		t.Errorf("bytes = %v", rec["bytes"])
	}
	if strings.Contains(s.logs.String(), "sekrit") || strings.Contains(s.logs.String(), "13800138000") {
		t.Errorf("secret or query in logs: %s", s.logs.String())
	}

	// A scanner's huge path is cut short in the log.
	before := len(s.logs.String())
	s.do(t, http.MethodGet, "/"+strings.Repeat("a", 100_000), nil, nil)
	if n := len(s.logs.String()) - before; n > 2000 {
		t.Errorf("a 100 KB path made a %d-byte log line", n)
	}
}

// X-Forwarded-For is believed only from the proxies named: by default
// none, so someone on an office LAN cannot pick the IP that the login
// throttle and the audit log see.
func TestClientIPTrustsOnlyNamedProxies(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		remote  string
		want    string
	}{
		{"default: a private peer is not believed", nil, "10.1.2.3:5000", "10.1.2.3"},
		{"default: loopback is not believed", nil, "127.0.0.1:5000", "127.0.0.1"},
		{"default: a public peer is not believed", nil, "198.51.100.7:5000", "198.51.100.7"},
		{"named CIDR is believed", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "203.0.113.9"},
		{"named IP is believed", []string{"192.0.2.1"}, "192.0.2.1:5000", "203.0.113.9"},
		{"other peers still are not", []string{"10.0.0.0/8"}, "192.168.1.20:5000", "192.168.1.20"},
		{"a bad list trusts none", []string{"not-an-ip"}, "10.1.2.3:5000", "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(Options{Logger: slog.New(slog.DiscardHandler), TrustedProxies: tt.proxies})
			e.GET("/ip", func(c *gin.Context) { OK(c, 200, gin.H{"ip": c.ClientIP()}) })
			req := httptest.NewRequest(http.MethodGet, "/ip", nil)
			req.RemoteAddr = tt.remote
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Real-IP", "203.0.113.9")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), `"`+tt.want+`"`) {
				t.Errorf("got %s, want %s", rec.Body.String(), tt.want)
			}
		})
	}
}
