package app_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// post sends body (JSON text, as a client would resend it byte for byte)
// with an Idempotency-Key.
func post(t *testing.T, h http.Handler, path, token, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestIdempotentCreate: a grid worker's retry of a household (same key, same
// body) stores it once and answers the first answer again; the same key
// with anything else about the request changed is a 422 on the header.
func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)
	const (
		path = "/api/v1/orgs/yucai/households"
		key  = "0b9f6c1e-7d2a-4e8b-a1c3-5f4e3d2c1b0a"
		body = `{"grid":"yucai-g2","address":"幂等路9号","phone":"13800138009"}`
	)

	first := post(t, h, path, staff, key, body)
	again := post(t, h, path, staff, key, body)
	if first.Code != http.StatusCreated || again.Code != http.StatusCreated {
		t.Fatalf("first %d %s, again %d %s; want 201 twice", first.Code, first.Body, again.Code, again.Body)
	}
	if first.Body.String() != again.Body.String() {
		t.Fatalf("the retry answered\n%s\nnot\n%s", again.Body, first.Body)
	}
	found := decode[page](t, do(t, h, http.MethodGet, path+"?q="+url.QueryEscape("幂等路9号"), staff, nil).Body.Bytes())
	if len(found.Items) != 1 || found.Items[0].ID != decode[idView](t, first.Body.Bytes()).ID {
		t.Fatalf("households at the address: %+v, want the one created", found.Items)
	}

	for _, c := range []struct {
		name, path, token, body string
	}{
		{"another body", path, staff, `{"grid":"yucai-g2","address":"幂等路10号"}`},
		{"another user", path, admin, body},
		{"another route", "/api/v1/orgs/yucai/buildings", staff, `{"grid":"yucai-g2","name":"幂等楼"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := post(t, h, c.path, c.token, key, c.body)
			e := decode[struct {
				Error struct {
					Code    string `json:"code"`
					Details []struct {
						Field string `json:"field"`
					} `json:"details"`
				} `json:"error"`
			}](t, rec.Body.Bytes()).Error
			if rec.Code != http.StatusUnprocessableEntity || e.Code != "validation_failed" || len(e.Details) != 1 || e.Details[0].Field != "Idempotency-Key" {
				t.Fatalf("%d %s; want 422 on Idempotency-Key", rec.Code, rec.Body)
			}
		})
	}
	found = decode[page](t, do(t, h, http.MethodGet, path+"?q="+url.QueryEscape("幂等路"), staff, nil).Body.Bytes())
	if len(found.Items) != 1 {
		t.Fatalf("%d households on 幂等路 after the refused requests, want 1", len(found.Items))
	}
}
