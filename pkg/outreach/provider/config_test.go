package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func files(contents map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if c, ok := contents[name]; ok {
			return []byte(c), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func TestConfigFromEnv(t *testing.T) {
	vars := map[string]string{
		EnvAliyunAccessKeyID:               "LTAI-id",
		EnvAliyunAccessKeySecret + "_FILE": "/run/secrets/aliyun",
		EnvAliyunSignName:                  " 万家社区 ",
		EnvTwilioAccountSID:                testAccountSID,
		EnvTwilioFrom:                      testFrom,
		EnvTwilioAuthToken + "_FILE":       "/run/secrets/twilio",
		EnvWebhookURL:                      "https://gw.example/send",
		EnvWebhookSecret:                   testWebhookSecret,
		EnvPublicURL:                       "https://wanjia.example.gov.cn",
		EnvTimeout:                         "3s",
	}
	c, err := ConfigFromEnv(env(vars), files(map[string]string{
		"/run/secrets/aliyun": "aliyun-secret-from-file\n",
		"/run/secrets/twilio": testAuthToken,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AliyunAccessKeyID.Reveal() != "LTAI-id" || c.AliyunAccessKeySecret.Reveal() != "aliyun-secret-from-file" ||
		c.AliyunSignName != "万家社区" || c.TwilioAuthToken.Reveal() != testAuthToken || c.WebhookSecret.Reveal() != testWebhookSecret ||
		c.Timeout != 3*time.Second || c.PublicURL != "https://wanjia.example.gov.cn" {
		t.Errorf("Config = %#v (secrets redacted)", c)
	}
	for _, name := range []string{"aliyun", "twilio", "webhook", "log"} {
		p, err := New(name, c, slog.New(slog.DiscardHandler))
		if err != nil || p == nil || p.Name() != name {
			t.Errorf("New(%s) = %v, %v", name, p, err)
		}
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		files map[string]string
		want  []string
	}{
		{"both the value and the file", map[string]string{
			EnvWebhookSecret: "value-s3cr3t", EnvWebhookSecret + "_FILE": "/f",
		}, map[string]string{"/f": "file-s3cr3t"}, []string{EnvWebhookSecret + " and " + EnvWebhookSecret + "_FILE are both set"}},
		{"missing file", map[string]string{EnvTwilioAuthToken + "_FILE": "/nope"}, nil,
			[]string{EnvTwilioAuthToken + "_FILE", "/nope"}},
		{"empty file", map[string]string{EnvAliyunAccessKeySecret + "_FILE": "/empty"}, map[string]string{"/empty": " \n"},
			[]string{EnvAliyunAccessKeySecret + "_FILE", "is empty"}},
		{"bad URL", map[string]string{EnvWebhookURL: "gw.example/send?token=url-s3cr3t"}, nil, []string{EnvWebhookURL}},
		{"bad timeout", map[string]string{EnvTimeout: "soon"}, nil, []string{EnvTimeout}},
		{"negative timeout", map[string]string{EnvTimeout: "-1s"}, nil, []string{EnvTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConfigFromEnv(env(tt.vars), files(tt.files))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			noLeak(t, "error", err.Error(), "s3cr3t")
		})
	}
}

// Every way a Config or a Secret could reach a log, an error or a response
// hides the secrets.
func TestSecretsNeverPrint(t *testing.T) {
	secrets := []string{"aliyun-key-id-value", "aliyun-secret-value", "aliyun-callback-value", "twilio-token-value", "webhook-secret-value", "url-token-value"}
	c := Config{
		AliyunAccessKeyID:       Secret(secrets[0]),
		AliyunAccessKeySecret:   Secret(secrets[1]),
		AliyunCallbackSecret:    Secret(secrets[2]),
		TwilioAccountSID:        testAccountSID,
		TwilioAuthToken:         Secret(secrets[3]),
		WebhookSecret:           Secret(secrets[4]),
		WebhookURL:              "https://user:pw-value@gw.example/send?token=" + secrets[5],
		TwilioStatusCallbackURL: "https://wanjia.example.gov.cn/hooks?key=" + secrets[5],
		AliyunSignName:          "万家社区",
	}
	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outputs = append(outputs, fmt.Sprintf(format, c), fmt.Sprintf(format, &c), fmt.Sprintf(format, c.TwilioAuthToken))
	}
	outputs = append(outputs, c.String(), fmt.Sprint(c.AliyunAccessKeySecret), fmt.Sprintln(c))
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("config", "cfg", c, "token", c.TwilioAuthToken, slog.Any("ptr", &c))
		outputs = append(outputs, b.String())
	}
	for _, out := range outputs {
		noLeak(t, "output", out, append(secrets, "pw-value")...)
	}
	// Still useful: what is set shows, and so do the plain settings.
	if s := c.String(); !strings.Contains(s, "[redacted]") || !strings.Contains(s, "万家社区") || !strings.Contains(s, testAccountSID) {
		t.Errorf("String() = %s", s)
	}
	if fmt.Sprint(Secret("")) != "" {
		t.Error("an empty secret prints as set")
	}
}

func TestNewErrors(t *testing.T) {
	if p, err := New("carrier-pigeon", Config{}, nil); err == nil || p != nil {
		t.Errorf("New(unknown) = %v, %v", p, err)
	}
	for name, want := range map[string]string{
		"aliyun":  EnvAliyunAccessKeyID,
		"twilio":  EnvTwilioAccountSID,
		"webhook": EnvWebhookURL,
	} {
		p, err := New(name, Config{WebhookSecret: "tiny-s3cr3t"}, nil)
		if p != nil {
			t.Errorf("New(%s) returned a provider with its error: a nil pointer in a non-nil interface", name)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%s) err = %v, want it to name %s", name, err, want)
		} else {
			noLeak(t, "error", err.Error(), "tiny-s3cr3t")
		}
	}
	if p, err := New("", Config{}, nil); err != nil || p.Name() != "log" {
		t.Errorf("New(\"\") = %v, %v", p, err)
	}
}

func TestLogProvider(t *testing.T) {
	var b bytes.Buffer
	p := NewLog(slog.New(slog.NewJSONHandler(&b, nil)))
	m := smsMessage()
	sent, err := p.Send(ctxTimeout(t), m)
	if err != nil || sent.ProviderID != "log-"+testID || sent.At.IsZero() {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["phone"] != testMasked || line["message_id"] != testID || line["body_chars"] != float64(len([]rune(m.Body))) {
		t.Errorf("logged %s", b.String())
	}
	noLeak(t, "log", b.String(), testMobile, "张三", "复检", "明日9点")

	st, err := p.Query(ctxTimeout(t), m, sent)
	if err != nil || st.State != StateDelivered {
		t.Errorf("Query = %+v, %v", st, err)
	}
	// The log provider checks messages as the real ones do.
	m.Phone = "0773-2851234"
	if _, err := p.Send(ctxTimeout(t), m); !IsPermanent(err) {
		t.Errorf("SMS to a landline: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Send(ctx, voiceMessage()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, ok := Provider(p).(Callbacks); ok {
		t.Error("the log provider has no callbacks")
	}
}

func TestErrorHelpers(t *testing.T) {
	e := &Error{Permanent: true, Code: "21211", Reason: "invalid To", Err: errors.New("raw 13812345678")}
	wrapped := fmt.Errorf("outreach: send: %w", e)
	if !IsPermanent(wrapped) || MaybeSent(wrapped) || RetryAfter(wrapped) != 0 {
		t.Error("helpers do not see through wrapping")
	}
	if e.Error() != "provider: permanent: 21211: invalid To" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(&Error{Err: context.DeadlineExceeded}, context.DeadlineExceeded) {
		t.Error("Unwrap")
	}
	for _, err := range []error{nil, context.Canceled, errors.New("?"), ErrCannotQuery} {
		if IsPermanent(err) || MaybeSent(err) {
			t.Errorf("%v classified", err)
		}
	}
	if RetryAfter(&Error{RetryAfter: time.Minute}) != time.Minute {
		t.Error("RetryAfter")
	}
	if !StateDelivered.Final() || !StateFailed.Final() || StateSent.Final() || StateUnknown.Final() {
		t.Error("Final")
	}
}

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"To +8613812345678 invalid":   "To +" + testMasked + " invalid",
		"13812345678":                 testMasked,
		"call 0773-2851234 busy":      "call 0773-****234 busy",
		"code 21211, id 9006197469^0": "code 21211, id 9*****7469^0",
		"key LTAI-secret-x here":      "key [redacted] here",
		"bad \xff utf8":               "bad � utf8",
	} {
		if got := scrub(in, "LTAI-secret-x"); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("疫", 400)
	if got := scrub(long); len([]rune(got)) != maxReason+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("long reason: %d runes", len([]rune(got)))
	}
}
