package provider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testWebhookSecret = "webhook-secret-0123456789abcdef"

// gateway is a deployment's SMS gateway: it checks our signature with the
// reference implementation and answers with respond.
func gateway(t *testing.T, respond func(w http.ResponseWriter, msg map[string]any)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, err := strconv.ParseInt(r.Header.Get(TimestampHeader), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
			t.Errorf("gateway: timestamp %q", r.Header.Get(TimestampHeader))
		}
		if got, want := r.Header.Get(SignatureHeader), refSign(testWebhookSecret, ts, body); got != want {
			t.Errorf("gateway: signature %s, want %s", got, want)
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("gateway: %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		var msg map[string]any
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("gateway: %v", err)
		}
		if r.Header.Get("Idempotency-Key") != msg["id"] {
			t.Errorf("gateway: Idempotency-Key %q for %v", r.Header.Get("Idempotency-Key"), msg["id"])
		}
		respond(w, msg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func webhookAt(t *testing.T, u string, timeout time.Duration) *Webhook {
	t.Helper()
	p, err := NewWebhook(Config{WebhookURL: u, WebhookSecret: testWebhookSecret, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWebhookSend(t *testing.T) {
	var got map[string]any
	srv := gateway(t, func(w http.ResponseWriter, msg map[string]any) {
		got = msg
		io.WriteString(w, `{"id":"gw-7"}`)
	})
	p := webhookAt(t, srv.URL+"/send?token=abc", 0)
	m := smsMessage()
	m.SignName = "万家社区"
	sent, err := p.Send(ctxTimeout(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderID != "gw-7" || sent.At.IsZero() {
		t.Errorf("Sent = %+v", sent)
	}
	want := map[string]any{
		"id": testID, "channel": "sms", "phone": testMobile, "body": m.Body,
		"template_code": "SMS_270000001", "sign_name": "万家社区",
		"params": map[string]any{"name": "张三", "time": "明日9点"},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("posted\n %s\nwant\n %s", gotJSON, wantJSON)
	}

	// A 2xx without an ID: the gateway's ID is ours.
	srv = gateway(t, func(w http.ResponseWriter, _ map[string]any) { w.WriteHeader(http.StatusAccepted) })
	sent, err = webhookAt(t, srv.URL, 0).Send(ctxTimeout(t), voiceMessage())
	if err != nil || sent.ProviderID != testID {
		t.Errorf("Send = %+v, %v", sent, err)
	}
}

func TestWebhookSendFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		code       string
		reason     string
		permanent  bool
		maybeSent  bool
		retryAfter time.Duration
	}{
		{"refused with JSON", 400, nil, `{"error":"number 13812345678 is blocked","code":"blocked"}`, "blocked", "number " + testMasked + " is blocked", true, false, 0},
		{"refused with text", 422, nil, "template not approved\n", "http_422", "template not approved", true, false, 0},
		{"throttled", 429, map[string]string{"Retry-After": "30"}, "slow down", "http_429", "slow down", false, false, 30 * time.Second},
		{"request timeout", 408, nil, "", "http_408", "Request Timeout", false, true, 0},
		{"our credentials", 401, nil, "bad signature", "http_401", "bad signature", false, false, 0},
		{"server error", 500, nil, "boom", "http_500", "boom", false, true, 0},
		{"unavailable", 503, map[string]string{"Retry-After": "5"}, "", "http_503", "Service Unavailable", false, false, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gateway(t, func(w http.ResponseWriter, _ map[string]any) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := webhookAt(t, srv.URL, 0).Send(ctxTimeout(t), smsMessage())
			e := wantError(t, err, tt.code, tt.permanent, tt.maybeSent)
			if e.Reason != tt.reason || e.RetryAfter != tt.retryAfter {
				t.Errorf("Reason %q RetryAfter %v, want %q %v", e.Reason, e.RetryAfter, tt.reason, tt.retryAfter)
			}
			noLeak(t, "error", err.Error(), testMobile, testWebhookSecret)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		srv := slowServer(t)
		_, err := webhookAt(t, srv.URL+"/x?token=tok-in-url", 100*time.Millisecond).Send(context.Background(), smsMessage())
		wantError(t, err, "network", false, true)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		noLeak(t, "error", err.Error(), "tok-in-url")
	})
	t.Run("nothing listens", func(t *testing.T) {
		_, err := webhookAt(t, closedURL(t), 0).Send(ctxTimeout(t), smsMessage())
		wantError(t, err, "network", false, false)
	})
}

// TestWebhookQuery: the status query by our ID, signed over the ID; only
// the contract's not_received naming our message is "never received".
func TestWebhookQuery(t *testing.T) {
	notFound := StateNotFound
	tests := []struct {
		name   string
		status int
		body   string
		want   Status
		err    error  // errors.Is
		code   string // a *Error's
	}{
		{"received", 200, `{"id":"` + testID + `","status":"received"}`, Status{State: StateSent}, nil, ""},
		{"sent", 200, `{"id":"` + testID + `","status":"sent","provider_id":"gw-1"}`, Status{State: StateSent}, nil, ""},
		{"delivered", 200, `{"id":"` + testID + `","status":"delivered","at":"2020-02-03T10:00:00+08:00"}`,
			Status{State: StateDelivered, At: time.Date(2020, 2, 3, 2, 0, 0, 0, time.UTC)}, nil, ""},
		{"failed", 200, `{"id":"` + testID + `","status":"failed","code":"UNDELIV","reason":"13812345678 off"}`,
			Status{State: StateFailed, Code: "UNDELIV", Reason: testMasked + " off"}, nil, ""},
		{"a state of its own", 200, `{"id":"` + testID + `","status":"queued_at_carrier"}`, Status{State: StateSent}, nil, ""},
		{"never received", 404, `{"id":"` + testID + `","status":"not_received"}`, Status{State: notFound}, nil, ""},
		{"a router's 404", 404, "404 page not found\n", Status{}, ErrCannotQuery, ""},
		{"not_received for another id", 404, `{"id":"other","status":"not_received"}`, Status{}, ErrCannotQuery, ""},
		{"a 404 JSON without the status", 404, `{"id":"` + testID + `","error":"no such route"}`, Status{}, ErrCannotQuery, ""},
		{"no GET here", 405, "", Status{}, ErrCannotQuery, ""},
		{"not implemented", 501, "", Status{}, ErrCannotQuery, ""},
		{"a catch-all 200", 200, "<html>ok</html>", Status{}, ErrCannotQuery, ""},
		{"our credentials", 401, "bad signature", Status{}, nil, "http_401"},
		{"down", 503, "", Status{}, nil, "http_503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ts, _ := strconv.ParseInt(r.Header.Get(TimestampHeader), 10, 64)
				if r.Method != http.MethodGet || r.URL.Path != "/send/"+testID || r.URL.Query().Get("token") != "abc" {
					t.Errorf("gateway: %s %s", r.Method, r.URL)
				}
				if got, want := r.Header.Get(SignatureHeader), refSign(testWebhookSecret, ts, []byte(testID)); got != want {
					t.Errorf("gateway: signature %s, want %s (over the message id)", got, want)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			got, err := webhookAt(t, srv.URL+"/send?token=abc", 0).Query(ctxTimeout(t), smsMessage(), Sent{})
			switch {
			case tt.code != "":
				wantError(t, err, tt.code, false, tt.status >= 500 && tt.status != 503)
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if !got.At.Equal(tt.want.At) || got.State != tt.want.State || got.Code != tt.want.Code || got.Reason != tt.want.Reason {
				t.Errorf("Query = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("nothing listens", func(t *testing.T) {
		_, err := webhookAt(t, closedURL(t), 0).Query(ctxTimeout(t), smsMessage(), Sent{})
		wantError(t, err, "network", false, false)
	})
}

func signedRequest(body string, ts time.Time, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks/webhook/receipts", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(TimestampHeader, strconv.FormatInt(ts.Unix(), 10))
	r.Header.Set(SignatureHeader, refSign(secret, ts.Unix(), []byte(body)))
	return r
}

func TestWebhookCallbacks(t *testing.T) {
	p := webhookAt(t, "https://gw.example/send", 0)
	now := time.Now()
	receipts := `[{"id":"` + testID + `","provider_id":"gw-7","channel":"sms","status":"failed","code":"blocked",` +
		`"reason":"13812345678 blocked","at":"2024-03-02T10:00:05+08:00"},{"provider_id":"gw-8","status":"delivered"}]`
	got, err := p.Receipts(signedRequest(receipts, now, testWebhookSecret))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MessageID != testID || got[0].Status.State != StateFailed ||
		got[0].Status.Reason != testMasked+" blocked" || !got[0].Status.At.Equal(time.Date(2024, 3, 2, 2, 0, 5, 0, time.UTC)) ||
		got[1].ProviderID != "gw-8" || got[1].Status.State != StateDelivered {
		t.Errorf("Receipts = %+v", got)
	}
	one, err := p.Receipts(signedRequest(`{"id":"a","status":"sent"}`, now, testWebhookSecret))
	if err != nil || len(one) != 1 {
		t.Errorf("single object: %+v, %v", one, err)
	}
	replies, err := p.Inbound(signedRequest(`[{"from":"+86 138-1234-5678","text":"好的","at":"2024-03-02T02:00:00Z","provider_id":"up-1"}]`, now, testWebhookSecret))
	if err != nil || len(replies) != 1 || replies[0].From != testMobile || replies[0].Text != "好的" {
		t.Errorf("Inbound = %+v, %v", replies, err)
	}
	rec := httptest.NewRecorder()
	p.Ack(rec)
	if rec.Code != http.StatusNoContent {
		t.Errorf("Ack = %d", rec.Code)
	}

	bad := []struct {
		name string
		req  *http.Request
	}{
		{"wrong secret", signedRequest(receipts, now, "another-secret-0123456789")},
		{"5 minutes and a bit old", signedRequest(receipts, now.Add(-5*time.Minute-2*time.Second), testWebhookSecret)},
		{"from the future", signedRequest(receipts, now.Add(6*time.Minute), testWebhookSecret)},
		{"no signature", func() *http.Request {
			r := signedRequest(receipts, now, testWebhookSecret)
			r.Header.Del(SignatureHeader)
			return r
		}()},
		{"no timestamp", func() *http.Request {
			r := signedRequest(receipts, now, testWebhookSecret)
			r.Header.Del(TimestampHeader)
			return r
		}()},
		{"old request, new timestamp", func() *http.Request {
			r := signedRequest(receipts, now.Add(-time.Hour), testWebhookSecret)
			r.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
			return r
		}()},
		{"tampered", func() *http.Request {
			r := signedRequest(receipts, now, testWebhookSecret)
			r.Body = httptestBody(strings.Replace(receipts, "failed", "delivered", 1))
			return r
		}()},
		{"signature not hex", func() *http.Request {
			r := signedRequest(receipts, now, testWebhookSecret)
			r.Header.Set(SignatureHeader, "sha256=zz")
			return r
		}()},
	}
	for _, tt := range bad {
		if _, err := p.Receipts(tt.req); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", tt.name, err)
		}
	}
	for _, body := range []string{``, `null`, `[{}]`, `[{"id":"a","status":"lost"}]`, `[{"id":"a","status":"sent","channel":"fax"}]`, `[{"id":"a","status":"sent"}] x`, `"x"`} {
		if got, err := p.Receipts(signedRequest(body, now, testWebhookSecret)); err == nil || errors.Is(err, ErrBadSignature) {
			t.Errorf("Receipts(%s) = %+v, %v", body, got, err)
		}
	}
	if got, err := p.Inbound(signedRequest(`[{"text":"x"}]`, now, testWebhookSecret)); err == nil {
		t.Errorf("Inbound without from = %+v", got)
	}
}

func TestNewWebhookChecksConfig(t *testing.T) {
	_, err := NewWebhook(Config{WebhookURL: "gw.example/send?token=leaky", WebhookSecret: "short"})
	if err == nil || !strings.Contains(err.Error(), EnvWebhookURL) || !strings.Contains(err.Error(), EnvWebhookSecret) {
		t.Errorf("err = %v", err)
	}
	if err != nil {
		noLeak(t, "error", err.Error(), "leaky", "short")
	}
}

func FuzzWebhookCallbacks(f *testing.F) {
	f.Add([]byte(`[{"id":"a","provider_id":"b","status":"delivered","at":"2024-03-02T10:00:05+08:00"}]`))
	f.Add([]byte(`{"from":"13812345678","text":"好"}`))
	f.Add([]byte(`[{"id":1}]`))
	f.Add([]byte(`  [ ] `))
	p, err := NewWebhook(Config{WebhookURL: "https://gw.example/send", WebhookSecret: testWebhookSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		now := time.Now()
		receipts, err := p.Receipts(signedRequest(string(body), now, testWebhookSecret))
		if errors.Is(err, ErrBadSignature) {
			t.Fatalf("signed request refused: %v", err)
		}
		if err == nil {
			checkReceipts(t, receipts)
		}
		if replies, err := p.Inbound(signedRequest(string(body), now, testWebhookSecret)); err == nil {
			for _, in := range replies {
				if in.From == "" {
					t.Fatalf("reply without From: %+v", in)
				}
			}
		}
	})
}
