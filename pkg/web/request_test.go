package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type bindTarget struct {
	Name      string `json:"name"`
	BirthYear int    `json:"birth_year"`
	Symptoms  bool   `json:"symptoms"`
	Audience  struct {
		Grids []string `json:"grids"`
	} `json:"audience"`
	At *time.Time `json:"at"`
}

func TestBindJSON(t *testing.T) {
	s := newTestServer(t, 256)
	s.engine.POST("/bind", func(c *gin.Context) {
		var v bindTarget
		if err := BindJSON(c, &v); err != nil {
			Fail(c, err)
			return
		}
		OK(c, http.StatusCreated, v)
	})
	s.engine.POST("/bind-nonpointer", func(c *gin.Context) {
		var v bindTarget
		Fail(c, BindJSON(c, v))
	})
	tests := []struct {
		name    string
		path    string
		body    string
		lang    string
		status  int
		code    string
		details string // JSON of the details, "" for none
	}{
		{"valid", "/bind", `{"name":"李四","birth_year":1950}`, "", 201, "", ""},
		{"unknown fields ignored", "/bind", `{"name":"x","extra":{"a":1}}`, "", 201, "", ""},
		{"trailing whitespace", "/bind", "{\"name\":\"x\"}\n\n", "", 201, "", ""},
		{"empty", "/bind", ``, "", 400, "bad_request", ""},
		{"whitespace only", "/bind", "  \n", "", 400, "bad_request", ""},
		{"syntax", "/bind", `{"name":}`, "", 400, "bad_request", ""},
		{"truncated", "/bind", `{"name":"x"`, "", 400, "bad_request", ""},
		{"two values", "/bind", `{"name":"x"}{"name":"y"}`, "", 400, "bad_request", ""},
		{"trailing garbage", "/bind", `{"name":"x"} nope`, "", 400, "bad_request", ""},
		{"wrong type zh", "/bind", `{"birth_year":"1950"}`, "", 400, "bad_request", `[{"field":"birth_year","message":"应为整数"}]`},
		{"wrong type en", "/bind", `{"birth_year":"1950"}`, "en", 400, "bad_request", `[{"field":"birth_year","message":"Must be an integer"}]`},
		{"fraction for int", "/bind", `{"birth_year":1950.5}`, "en", 400, "bad_request", `[{"field":"birth_year","message":"Must be an integer"}]`},
		{"nested field", "/bind", `{"audience":{"grids":"g1"}}`, "en", 400, "bad_request", `[{"field":"audience.grids","message":"Must be an array"}]`},
		{"bool", "/bind", `{"symptoms":"yes"}`, "en", 400, "bad_request", `[{"field":"symptoms","message":"Must be true or false"}]`},
		{"top-level array", "/bind", `[1,2]`, "", 400, "bad_request", ""},
		{"bad time", "/bind", `{"at":"yesterday"}`, "", 400, "bad_request", ""},
		{"too large", "/bind", `{"name":"` + strings.Repeat("x", 300) + `"}`, "", 413, "too_large", ""},
		{"non-pointer is our bug", "/bind-nonpointer", `{}`, "", 500, "internal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, tt.path, strings.NewReader(tt.body), map[string]string{"Accept-Language": tt.lang})
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.code == "" {
				return
			}
			obj := errorObject(t, r)
			if obj["code"] != tt.code {
				t.Errorf("code = %v, want %s", obj["code"], tt.code)
			}
			got := ""
			if d, ok := obj["details"]; ok {
				b, _ := json.Marshal(d)
				got = string(b)
			}
			if got != tt.details {
				t.Errorf("details = %s, want %s", got, tt.details)
			}
		})
	}
}

func TestParsePage(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/list", func(c *gin.Context) {
		p, err := ParsePage(c)
		if err != nil {
			Fail(c, err)
			return
		}
		OK(c, 200, gin.H{"limit": p.Limit, "cursor": p.Cursor})
	})
	tests := []struct {
		query  string
		status int
		limit  float64
		cursor string
		field  string
	}{
		{"", 200, 50, "", ""},
		{"limit=", 200, 50, "", ""},
		{"limit=1", 200, 1, "", ""},
		{"limit=500&cursor=abc", 200, 500, "abc", ""},
		{"limit=501", 422, 0, "", "limit"},
		{"limit=0", 422, 0, "", "limit"},
		{"limit=-3", 422, 0, "", "limit"},
		{"limit=ten", 422, 0, "", "limit"},
		{"limit=1e2", 422, 0, "", "limit"},
		{"cursor=" + strings.Repeat("c", 600), 422, 0, "", "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/list?"+tt.query, nil, nil)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.status == 200 {
				if r.Body["limit"] != tt.limit || r.Body["cursor"] != tt.cursor {
					t.Errorf("got %s", r.Raw)
				}
				return
			}
			d, _ := errorObject(t, r)["details"].([]any)
			if len(d) != 1 || d[0].(map[string]any)["field"] != tt.field {
				t.Errorf("details = %v, want field %s", d, tt.field)
			}
		})
	}
	r := s.do(t, http.MethodGet, "/list?limit=9999", nil, map[string]string{"Accept-Language": "en"})
	d := errorObject(t, r)["details"].([]any)[0].(map[string]any)
	if d["message"] != "Must be an integer from 1 to 500" {
		t.Errorf("message = %v", d["message"])
	}
}

func TestListEncoding(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil items", NewList[string](nil, ""), `{"items":[],"next_cursor":""}`},
		{"pointer", &List[int]{Items: []int{1, 2}, NextCursor: "n"}, `{"items":[1,2],"next_cursor":"n"}`},
		{"structs", NewList[struct {
			ID string `json:"id"`
		}](nil, ""), `{"items":[],"next_cursor":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}

	// Through gin's renderer too, which is what handlers use.
	s := newTestServer(t, 0)
	s.engine.GET("/empty", All(func(c *gin.Context) ([]string, error) { return nil, nil }))
	r := s.do(t, http.MethodGet, "/empty", nil, nil)
	if strings.TrimSpace(r.Raw) != `{"items":[],"next_cursor":""}` {
		t.Errorf("gin rendered %s", r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestLang(t *testing.T) {
	s := newTestServer(t, 0)
	s.engine.GET("/lang", func(c *gin.Context) { OK(c, 200, gin.H{"lang": Lang(c), "again": Lang(c)}) })
	for header, want := range map[string]string{"": "zh-CN", "en-GB": "en", "fr, en;q=0.1": "en", "de": "zh-CN"} {
		r := s.do(t, http.MethodGet, "/lang", nil, map[string]string{"Accept-Language": header})
		if r.Body["lang"] != want || r.Body["again"] != want {
			t.Errorf("%q: got %s, want %s", header, r.Raw, want)
		}
	}
}

// labelled is embedded unexported, as handlers sometimes do: encoding/json
// fills its fields, so they are checked too.
type labelled struct {
	Labels map[string]string `json:"labels"`
}

// A NUL in a query string or a JSON body reached PostgreSQL, which refuses
// it in text, and came back as a 500. The engine now refuses it (and
// invalid UTF-8) with a 422 naming the field, for every handler.
func TestInvalidTextRefused(t *testing.T) {
	s := newTestServer(t, 0)
	reached := 0
	s.engine.POST("/bind", func(c *gin.Context) {
		var v struct {
			bindTarget
			labelled
			Tags  map[string]string `json:"tags"`
			Extra any               `json:"extra"`
			Raw   json.RawMessage   `json:"raw"`
			Items []struct {
				Note *string `json:"note"`
			} `json:"items"`
		}
		if err := BindJSON(c, &v); err != nil {
			Fail(c, err)
			return
		}
		reached++
		OK(c, http.StatusOK, gin.H{"ok": true})
	})
	s.engine.GET("/orgs/:org/search", func(c *gin.Context) {
		reached++
		OK(c, http.StatusOK, gin.H{"q": c.Query("q")})
	})
	tests := []struct {
		name, method, target, body string
		status                     int
		field                      string
	}{
		{"query NUL", "GET", "/orgs/yucai/search?q=a%00b", "", 422, "q"},
		{"query invalid UTF-8", "GET", "/orgs/yucai/search?q=%ff%fe", "", 422, "q"},
		{"query key NUL", "GET", "/orgs/yucai/search?q%00=x", "", 422, "q"},
		{"query second value", "GET", "/orgs/yucai/search?q=ok&q=%00", "", 422, "q"},
		{"path NUL", "GET", "/orgs/yu%00cai/search?q=x", "", 422, "org"},
		{"body NUL", "POST", "/bind", `{"name":"李\u0000四"}`, 422, "name"},
		{"body nested NUL", "POST", "/bind", `{"audience":{"grids":["g1","g\u0000"]}}`, 422, "audience.grids[1]"},
		{"body map value", "POST", "/bind", `{"tags":{"k":"\u0000"}}`, 422, "tags.k"},
		{"body map key", "POST", "/bind", `{"tags":{"\u0000":"v"}}`, 422, "tags"},
		{"body any", "POST", "/bind", `{"extra":{"a":["\u0000"]}}`, 422, "extra.a[0]"},
		{"body pointer in slice", "POST", "/bind", `{"items":[{"note":"ok"},{"note":"x\u0000"}]}`, 422, "items[1].note"},
		{"map in an embedded unexported struct", "POST", "/bind", `{"labels":{"a":"\u0000"}}`, 422, "labels.a"},
		{"raw NUL byte is not JSON", "POST", "/bind", "{\"name\":\"a\x00b\"}", 400, ""},
		{"fine", "GET", "/orgs/yucai/search?q=%E6%9D%8E", "", 200, ""},
		{"fine body", "POST", "/bind", `{"name":"李四","raw":"\u0000","tags":{"k":"v"},"items":[{"note":null}]}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reached
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := s.do(t, tt.method, tt.target, body, map[string]string{"Accept-Language": "en"})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.status == 200 {
				return
			}
			if tt.method == "GET" && reached != before {
				t.Fatal("the handler ran")
			}
			obj := errorObject(t, r)
			if tt.field == "" {
				return
			}
			details, _ := obj["details"].([]any)
			if obj["code"] != "validation_failed" || len(details) != 1 {
				t.Fatalf("error = %s", r.Raw)
			}
			d := details[0].(map[string]any)
			if d["field"] != tt.field || d["message"] != "Contains a character that is not allowed (such as NUL)" {
				t.Fatalf("detail = %v, want field %s", d, tt.field)
			}
		})
	}
}
