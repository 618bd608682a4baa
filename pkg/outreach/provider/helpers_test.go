package provider

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	testID     = "01920f3e-7a4b-7c1d-9e2f-3a4b5c6d7e8f" // a UUIDv7
	testMobile = "13812345678"
	testMasked = "138****5678"
)

func smsMessage() Message {
	return Message{
		ID:           testID,
		Channel:      ChannelSMS,
		Phone:        testMobile,
		Body:         "【万家社区】张三您好，请于明日9点到社区卫生站复检。",
		TemplateCode: "SMS_270000001",
		Params:       map[string]string{"name": "张三", "time": "明日9点"},
	}
}

func voiceMessage() Message {
	m := smsMessage()
	m.Channel = ChannelVoice
	m.TemplateCode = "TTS_270000002"
	return m
}

// wantError checks err is a *Error with the classification given.
func wantError(t *testing.T, err error, code string, permanent, maybeSent bool) *Error {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *provider.Error", err, err)
	}
	if code != "" && pe.Code != code {
		t.Errorf("Code = %q, want %q (%v)", pe.Code, code, err)
	}
	if pe.Permanent != permanent || IsPermanent(err) != permanent {
		t.Errorf("Permanent = %v, want %v (%v)", pe.Permanent, permanent, err)
	}
	if pe.MaybeSent != maybeSent || MaybeSent(err) != maybeSent {
		t.Errorf("MaybeSent = %v, want %v (%v)", pe.MaybeSent, maybeSent, err)
	}
	return pe
}

// noLeak fails if s holds any of the values.
func noLeak(t *testing.T, what, s string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("%s leaks %q: %s", what, v, s)
		}
	}
}

// slowServer answers after the test ends, so that a client's timeout or
// cancellation is what ends the request.
func slowServer(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
