package authn_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
)

// auditEntries returns the log, oldest first.
func (e *env) auditEntries(t *testing.T) []audit.Entry {
	t.Helper()
	list, _, err := audit.List(context.Background(), e.db, audit.Filter{OrgPath: "/", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// Every login and every failed login is in the audit log, with who, from
// where and the request id. A failed login looks the same whether the
// username exists or not, so the log does not tell which usernames exist.
func TestLoginAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newServer(e)
	login := func(body, reqID string) {
		t.Helper()
		do(t, h, "POST", "/api/v1/auth/login", body, map[string]string{"X-Request-ID": reqID})
	}
	long := strings.Repeat("长", 100)
	login(`{"username":"alice","password":"`+alicePassword+`"}`, "req-ok")
	login(`{"username":"alice","password":"wrong-password"}`, "req-wrong")
	login(`{"username":"nobody","password":"wrong-password"}`, "req-unknown")
	login(`{"username":"`+long+`","password":"wrong-password"}`, "req-long")
	e.disable(t, e.bob)
	login(`{"username":"bob","password":"`+bobPassword+`"}`, "req-disabled")

	got := e.auditEntries(t)
	if len(got) != 5 {
		t.Fatalf("%d audit entries, want 5: %+v", len(got), got)
	}
	ok := got[0]
	if ok.Action != audit.ActionLogin || ok.Actor != "alice" || ok.ActorID != e.alice.ID ||
		ok.IP != "192.0.2.1" || ok.RequestID != "req-ok" || ok.Resource != "session" || ok.ResourceID == "" {
		t.Fatalf("login entry = %+v", ok)
	}
	for i, want := range []struct{ actor, req string }{
		{"alice", "req-wrong"}, {"nobody", "req-unknown"}, {strings.Repeat("长", 64), "req-long"}, {"bob", "req-disabled"},
	} {
		f := got[i+1]
		if f.Action != audit.ActionLoginFailed || f.Actor != want.actor || f.RequestID != want.req || f.IP != "192.0.2.1" {
			t.Errorf("failed login %d = %+v, want actor %q request %q", i, f, want.actor, want.req)
		}
		// Nothing in the entry differs between a user who exists and one
		// who does not: no user id, no resource id, no reason.
		if f.ActorID != "" || f.ResourceID != "" || f.Role != "" || len(f.Details) != 0 || f.OrgPath != "/" {
			t.Errorf("failed login %d tells more than the attempted name: %+v", i, f)
		}
	}
}

// A throttled attempt is a failed login too; it says it was throttled,
// which holds for unknown usernames alike.
func TestThrottledLoginAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for range e.svc.Throttle.FreeAttempts + 1 {
		_, _, _ = e.svc.Login(ctx, "nobody", "wrong-password", "198.51.100.1")
	}
	got := e.auditEntries(t)
	if len(got) != e.svc.Throttle.FreeAttempts+1 {
		t.Fatalf("%d entries", len(got))
	}
	last := got[len(got)-1]
	if last.Action != audit.ActionLoginFailed || last.Actor != "nobody" || last.Details["throttled"] != true {
		t.Fatalf("throttled attempt = %+v", last)
	}
}

// TestThrottledFloodCounted: a flood of attempts from one address under
// random names is refused once the address's limit is reached; the
// refusals are counted, and only the first of the window is in the audit
// log (each used to write a row). Attempts that reach the password check
// are still audited one by one. The same holds at one username from many
// addresses.
func TestThrottledFloodCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		attempt  func(i int) (username, ip string)
		tried    int // attempts that reach the password check
		refused  int
		throttle func(th *authn.Throttle)
	}{
		{"random names from one address", func(i int) (string, string) { return fmt.Sprintf("rnd%04d", i), "198.51.100.7" }, 10, 50,
			func(th *authn.Throttle) { th.MaxPerIP = 10 }},
		{"one name from many addresses", func(i int) (string, string) { return "alice", fmt.Sprintf("203.0.113.%d", i+1) }, 10, 50,
			func(th *authn.Throttle) { th.MaxPerUser = 10 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tt.throttle(e.svc.Throttle)
			ctx := context.Background()
			for i := range tt.tried + tt.refused {
				u, ip := tt.attempt(i)
				_, _, _ = e.svc.Login(ctx, u, "wrong-password", ip)
			}
			failed, throttled := 0, 0
			for _, en := range e.auditEntries(t) {
				if en.Action != audit.ActionLoginFailed {
					continue
				}
				if en.Details["throttled"] == true {
					throttled++
				} else {
					failed++
				}
			}
			if failed != tt.tried || throttled != 1 {
				t.Fatalf("%d failed and %d throttled entries, want %d and 1", failed, throttled, tt.tried)
			}
			if got := e.svc.ThrottledLogins(); got != int64(tt.refused) {
				t.Fatalf("%d throttled attempts counted, want %d", got, tt.refused)
			}
		})
	}
}
