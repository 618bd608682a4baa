package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testWeComKey is shaped like the key in WeCom's documentation.
const testWeComKey = "693a91f6-7d2c-4bc4-97a0-0ec2b1fa5aaa"

// fakeWeCom is the robot endpoint: it checks that a request is one the
// robot takes, records the body, and answers with respond.
func fakeWeCom(t *testing.T, respond func(w http.ResponseWriter)) (*httptest.Server, *[]string) {
	t.Helper()
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("wecom: method %s", r.Method)
		}
		if r.URL.Path != "/cgi-bin/webhook/send" {
			t.Errorf("wecom: path %q", r.URL.Path)
		}
		if r.URL.RawQuery != "key="+testWeComKey {
			t.Errorf("wecom: query %q", r.URL.RawQuery)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("wecom: Content-Type %q", ct)
		}
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		respond(w)
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func answer(body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		io.WriteString(w, body)
	}
}

func TestWeComPost(t *testing.T) {
	// The documentation's examples, with the mentions we send (@all only).
	const markdown = "实时新增用户反馈<font color=\"warning\">132例</font>，请相关同事注意。\n" +
		">类型:<font color=\"comment\">用户反馈</font>\n" +
		">普通用户反馈:<font color=\"comment\">117例</font>\n" +
		">VIP用户反馈:<font color=\"comment\">15例</font>"
	tests := []struct {
		name string
		post WeComPost
		want string
	}{
		{
			"text mentioning all",
			WeComPost{Format: WeComText, Content: "广州今日天气：29度，大部分多云，降雨概率：60%", MentionAll: true},
			`{"msgtype":"text","text":{"content":"广州今日天气：29度，大部分多云，降雨概率：60%","mentioned_list":["@all"]}}`,
		},
		{
			"text",
			WeComPost{Format: WeComText, Content: "hello world"},
			`{"msgtype":"text","text":{"content":"hello world"}}`,
		},
		{
			"markdown",
			WeComPost{Format: WeComMarkdown, Content: markdown},
			`{"msgtype":"markdown","markdown":{"content":"实时新增用户反馈<font color=\"warning\">132例</font>，请相关同事注意。\n>类型:<font color=\"comment\">用户反馈</font>\n>普通用户反馈:<font color=\"comment\">117例</font>\n>VIP用户反馈:<font color=\"comment\">15例</font>"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bodies := fakeWeCom(t, answer(`{"errcode":0,"errmsg":"ok"}`))
			if err := NewWeCom(srv.URL, nil).Post(ctxTimeout(t), testWeComKey, tt.post); err != nil {
				t.Fatal(err)
			}
			if len(*bodies) != 1 || (*bodies)[0] != tt.want {
				t.Errorf("posted\n %q\nwant\n %q", *bodies, tt.want)
			}
		})
	}
}

func TestWeComPostFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		code       string
		reason     string // a part of it
		permanent  bool
		maybeSent  bool
		retryAfter time.Duration
	}{
		{"invalid key", 200, nil, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1712345678_12_abcdef], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}`,
			"wecom_93000", "机器人地址无效", true, false, 0},
		{"throttled", 200, nil, `{"errcode":45009,"errmsg":"api freq out of limit"}`,
			"wecom_45009", "发送过于频繁", false, false, time.Minute},
		{"invalid message type", 200, nil, `{"errcode":40008,"errmsg":"invalid message type"}`,
			"wecom_40008", "消息类型无效", true, false, 0},
		{"empty content", 200, nil, `{"errcode":44004,"errmsg":"empty content"}`,
			"wecom_44004", "内容为空", true, false, 0},
		{"too long", 200, nil, `{"errcode":40058,"errmsg":"invalid parameter"}`,
			"wecom_40058", "内容过长", true, false, 0},
		{"system busy", 200, nil, `{"errcode":-1,"errmsg":"system busy"}`,
			"wecom_-1", "系统繁忙", false, false, 0},
		{"other errcode", 200, nil, `{"errcode":48002,"errmsg":"api forbidden"}`,
			"wecom_48002", "错误码 48002", true, false, 0},
		{"errmsg repeating the key", 200, nil, `{"errcode":93000,"errmsg":"invalid webhook url key=` + testWeComKey + `"}`,
			"wecom_93000", "机器人地址无效", true, false, 0},
		{"no errcode", 200, nil, `{"errmsg":"ok"}`, "bad_answer", "无法识别", false, true, 0},
		{"not JSON", 200, nil, `<html>portal</html>`, "bad_answer", "无法识别", false, true, 0},
		{"answer too long", 200, nil, `{"errcode":0,"errmsg":"` + strings.Repeat("x", maxWeComResponse) + `"}`,
			"bad_answer", "无法识别", false, true, 0},
		{"HTTP 429", 429, nil, "", "http_429", "发送过于频繁", false, false, time.Minute},
		{"HTTP 429 asking longer", 429, map[string]string{"Retry-After": "90"}, "", "http_429", "发送过于频繁", false, false, 90 * time.Second},
		{"HTTP 429 asking shorter", 429, map[string]string{"Retry-After": "5"}, "", "http_429", "发送过于频繁", false, false, time.Minute},
		{"HTTP 500", 500, nil, "boom", "http_500", "暂时不可用", false, true, 0},
		{"HTTP 502", 502, nil, "", "http_502", "暂时不可用", false, true, 0},
		{"HTTP 503", 503, map[string]string{"Retry-After": "7"}, "", "http_503", "暂时不可用", false, false, 7 * time.Second},
		{"HTTP 408", 408, nil, "", "http_408", "超时", false, true, 0},
		{"HTTP 400", 400, nil, `{"errcode":40058,"errmsg":"x"}`, "http_400", "HTTP 400", true, false, 0},
		{"HTTP 403", 403, nil, "forbidden", "http_403", "HTTP 403", true, false, 0},
		{"HTTP 404", 404, nil, "", "http_404", "HTTP 404", true, false, 0},
		{"redirect", 302, map[string]string{"Location": "https://evil.example/?key=" + testWeComKey}, "", "http_302", "HTTP 302", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bodies := fakeWeCom(t, func(w http.ResponseWriter) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			err := NewWeCom(srv.URL, nil).Post(ctxTimeout(t), testWeComKey, WeComPost{Format: WeComText, Content: "测试"})
			e := wantError(t, err, tt.code, tt.permanent, tt.maybeSent)
			if !strings.Contains(e.Reason, tt.reason) || e.RetryAfter != tt.retryAfter || RetryAfter(err) != tt.retryAfter {
				t.Errorf("Reason %q RetryAfter %v, want %q in it and %v", e.Reason, e.RetryAfter, tt.reason, tt.retryAfter)
			}
			if len(*bodies) != 1 {
				t.Errorf("%d requests, want 1 (a redirect must not be followed)", len(*bodies))
			}
			noLeak(t, "error", err.Error(), testWeComKey)
			if e.Err != nil {
				noLeak(t, "wrapped error", e.Err.Error(), testWeComKey)
			}
		})
	}
}

func TestWeComPostNoAnswer(t *testing.T) {
	post := WeComPost{Format: WeComText, Content: "测试"}
	t.Run("nothing listens", func(t *testing.T) {
		err := NewWeCom(closedURL(t), nil).Post(ctxTimeout(t), testWeComKey, post)
		e := wantError(t, err, "network", false, false)
		if !strings.Contains(e.Reason, "连接企业微信失败") {
			t.Errorf("Reason = %q", e.Reason)
		}
		noLeak(t, "error", err.Error(), testWeComKey)
		noLeak(t, "wrapped error", e.Err.Error(), testWeComKey)
	})
	t.Run("client timeout", func(t *testing.T) {
		srv := slowServer(t)
		err := NewWeCom(srv.URL, &http.Client{Timeout: 100 * time.Millisecond}).Post(context.Background(), testWeComKey, post)
		e := wantError(t, err, "network", false, true)
		noLeak(t, "error", err.Error(), testWeComKey)
		noLeak(t, "wrapped error", e.Err.Error(), testWeComKey)
	})
	t.Run("context deadline", func(t *testing.T) {
		srv := slowServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := NewWeCom(srv.URL, nil).Post(ctx, testWeComKey, post)
		wantError(t, err, "network", false, true)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded in it", err)
		}
		noLeak(t, "error", err.Error(), testWeComKey)
	})
	t.Run("cancelled before", func(t *testing.T) {
		srv, bodies := fakeWeCom(t, answer(`{"errcode":0,"errmsg":"ok"}`))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := NewWeCom(srv.URL, nil).Post(ctx, testWeComKey, post)
		if !errors.Is(err, context.Canceled) || len(*bodies) != 0 {
			t.Errorf("err = %v after %d requests", err, len(*bodies))
		}
		noLeak(t, "error", err.Error(), testWeComKey)
	})
	t.Run("bad base", func(t *testing.T) {
		err := NewWeCom("qyapi.example", nil).Post(ctxTimeout(t), testWeComKey, post)
		wantError(t, err, "bad_config", false, false)
	})
}

func TestWeComPostRefusesBeforeSending(t *testing.T) {
	srv, bodies := fakeWeCom(t, answer(`{"errcode":0,"errmsg":"ok"}`))
	w := NewWeCom(srv.URL, nil)
	tests := []struct {
		name string
		key  string
		post WeComPost
		code string
	}{
		{"empty key", "", WeComPost{Format: WeComText, Content: "x"}, "invalid_key"},
		{"key adding a parameter", testWeComKey + "&debug=1", WeComPost{Format: WeComText, Content: "x"}, "invalid_key"},
		{"whole URL as key", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, WeComPost{Format: WeComText, Content: "x"}, "invalid_key"},
		{"too long", testWeComKey, WeComPost{Format: WeComText, Content: strings.Repeat("a", 2049)}, "invalid_post"},
		{"no format", testWeComKey, WeComPost{Content: "x"}, "invalid_post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.Post(ctxTimeout(t), tt.key, tt.post)
			wantError(t, err, tt.code, true, false)
			noLeak(t, "error", err.Error(), testWeComKey)
		})
	}
	if len(*bodies) != 0 {
		t.Errorf("%d requests sent, want none", len(*bodies))
	}
}

func TestNewWeComDefaults(t *testing.T) {
	w := NewWeCom("", nil)
	if w.base.String() != "https://qyapi.weixin.qq.com" || w.client.Timeout != 10*time.Second || w.client.CheckRedirect == nil {
		t.Errorf("NewWeCom(\"\", nil) = base %v, timeout %v", w.base, w.client.Timeout)
	}
	// The caller's client is copied, not changed.
	mine := &http.Client{Timeout: time.Second}
	w = NewWeCom("", mine)
	if mine.CheckRedirect != nil || w.client == mine || w.client.Timeout != time.Second {
		t.Errorf("caller's client changed, or its settings lost")
	}
}

func TestCheckWeComPost(t *testing.T) {
	han := strings.Repeat("汉", 682) // 2046 bytes
	tests := []struct {
		name string
		post WeComPost
		ok   bool
		want string // in the error
	}{
		{"text at the limit", WeComPost{Format: WeComText, Content: strings.Repeat("a", 2048)}, true, ""},
		{"text over the limit", WeComPost{Format: WeComText, Content: strings.Repeat("a", 2049)}, false, "2048"},
		{"Chinese text at the limit", WeComPost{Format: WeComText, Content: han + "ab"}, true, ""},
		{"Chinese text counted in bytes", WeComPost{Format: WeComText, Content: han + "汉"}, false, "2049"},
		{"683 characters are too many", WeComPost{Format: WeComText, Content: strings.Repeat("汉", 683)}, false, "2048"},
		{"markdown at the limit", WeComPost{Format: WeComMarkdown, Content: strings.Repeat("a", 4096)}, true, ""},
		{"markdown over the limit", WeComPost{Format: WeComMarkdown, Content: strings.Repeat("a", 4097)}, false, "4096"},
		{"markdown twice the text limit in Chinese", WeComPost{Format: WeComMarkdown, Content: strings.Repeat("汉", 1365)}, true, ""},
		{"markdown in Chinese over the limit", WeComPost{Format: WeComMarkdown, Content: strings.Repeat("汉", 1366)}, false, "4096"},
		{"text mentioning all", WeComPost{Format: WeComText, Content: "x", MentionAll: true}, true, ""},
		{"markdown mentioning all", WeComPost{Format: WeComMarkdown, Content: "x", MentionAll: true}, false, "@所有人"},
		{"empty", WeComPost{Format: WeComText}, false, "为空"},
		{"blank", WeComPost{Format: WeComMarkdown, Content: " \n\t"}, false, "为空"},
		{"invalid UTF-8", WeComPost{Format: WeComText, Content: "a\xffb"}, false, "UTF-8"},
		{"no format", WeComPost{Content: "x"}, false, "text"},
		{"unknown format", WeComPost{Format: "image", Content: "x"}, false, "markdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWeComPost(tt.post)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckWeComPost = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want %q in it", err, tt.want)
			}
		})
	}
}

func TestParseWeComKey(t *testing.T) {
	const u = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey
	tests := []struct {
		name string
		in   string
		want string // "" for an error
	}{
		{"bare key", testWeComKey, testWeComKey},
		{"bare key with spaces", "  " + testWeComKey + "\n", testWeComKey},
		{"full URL", u, testWeComKey},
		{"full URL with spaces", "\t" + u + " ", testWeComKey},
		{"host in capitals", "https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, testWeComKey},
		{"scheme in capitals", "HTTPS://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, testWeComKey},
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"http", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"no scheme", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"scheme-relative", "//qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"other host", "https://evil.example/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"lookalike host", "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"host with a dot", "https://qyapi.weixin.qq.com./cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"user info", "https://qyapi.weixin.qq.com@evil.example/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"user info on the right host", "https://evil.example@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"port", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"port 443", "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"backslash", "https://evil.example\\@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"fragment", "https://evil.example#@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"fragment at the end", u + "#x", ""},
		{"IP address", "https://203.0.113.7/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"wrong path", "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media?key=" + testWeComKey, ""},
		{"path with a slash more", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send/?key=" + testWeComKey, ""},
		{"path climbing", "https://qyapi.weixin.qq.com/x/../cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"encoded path", "https://qyapi.weixin.qq.com/cgi-bin%2Fwebhook/send?key=" + testWeComKey, ""},
		{"no key", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", ""},
		{"empty key", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", ""},
		{"two keys", u + "&key=other", ""},
		{"key with other characters", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc%26debug%3D1", ""},
		{"bare key with other characters", "abc_def", ""},
		{"key of 64", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"key of 65", strings.Repeat("a", 65), ""},
		{"URL key of 65", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + strings.Repeat("a", 65), ""},
		{"other parameters", u + "&debug=1", testWeComKey},
		{"opaque", "https:qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey, ""},
		{"javascript", "javascript:alert(1)//?key=" + testWeComKey, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWeComKey(tt.in)
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Fatalf("ParseWeComKey(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if err != nil {
				noLeak(t, "error", err.Error(), testWeComKey, "evil")
			}
		})
	}
}

func TestMaskWeComKey(t *testing.T) {
	for in, want := range map[string]string{
		testWeComKey:            "****5aaa",
		"":                      "",
		"abc":                   "****",
		"0123456789abcde":       "****",
		"0123456789abcdef":      "****cdef",
		strings.Repeat("k", 64): "****kkkk",
		"汉汉汉汉汉汉汉汉汉汉汉汉汉汉汉汉汉": "****汉汉汉汉",
	} {
		if got := MaskWeComKey(in); got != want {
			t.Errorf("MaskWeComKey(%q) = %q, want %q", in, got, want)
		}
	}
}

var weComKeyShape = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func FuzzParseWeComKey(f *testing.F) {
	for _, s := range []string{
		testWeComKey,
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey,
		"https://qyapi.weixin.qq.com@evil.example/cgi-bin/webhook/send?key=k",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a&key=b",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=%zz",
		"http://[::1]:80/cgi-bin/webhook/send?key=k",
		" \t",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseWeComKey(s)
		if err != nil {
			if key != "" {
				t.Fatalf("ParseWeComKey(%q) = %q with error %v", s, key, err)
			}
			return
		}
		if !weComKeyShape.MatchString(key) {
			t.Fatalf("ParseWeComKey(%q) = %q: not a key", s, key)
		}
		// A key is its own canonical form.
		if again, err := ParseWeComKey(key); err != nil || again != key {
			t.Fatalf("ParseWeComKey(%q) = %q, %v; want the key back", key, again, err)
		}
		if !strings.Contains(s, key) && !strings.Contains(s, "%") && !strings.Contains(s, "+") {
			t.Fatalf("ParseWeComKey(%q) = %q: not taken from the input", s, key)
		}
	})
}

// weComTransport answers every request itself and records its URL.
type weComTransport struct{ urls []string }

func (tr *weComTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr.urls = append(tr.urls, r.URL.String())
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"errcode":0,"errmsg":"ok"}`)),
		Request:    r,
	}, nil
}

func TestWeComPostsToQyapi(t *testing.T) {
	tr := &weComTransport{}
	err := NewWeCom("", &http.Client{Transport: tr}).Post(ctxTimeout(t), testWeComKey, WeComPost{Format: WeComText, Content: "x"})
	want := "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + testWeComKey
	if err != nil || len(tr.urls) != 1 || tr.urls[0] != want {
		t.Errorf("Post = %v, requests %q, want one to %s", err, tr.urls, want)
	}
}
