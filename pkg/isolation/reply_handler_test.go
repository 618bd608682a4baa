package isolation_test

import (
	"context"
	"testing"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestHandleReply: a temperature from the phone of one live case is its
// check-in (source sms, the reply's id kept), once per reply id; a fever
// raises the alert; a phone two live cases share, a phone with no case,
// another community's case and text that is no temperature stay replies.
func TestHandleReply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	one := w.resident(t, "c1", "c1-g1")
	_, pair := w.household(t, "c1", "c1-g2", 2)
	other := w.resident(t, "c2", "c2-g1")
	for id, phone := range map[string]string{one: "13800000001", pair[0]: "13800000002", pair[1]: "13800000002", other: "13800000003"} {
		w.exec(t, `UPDATE residents SET phone = ? WHERE id = ?`, phone, id)
	}
	c := w.open(t, "c1", one, "")
	w.open(t, "c1", pair[0], "")
	w.open(t, "c1", pair[1], "")
	w.open(t, "c2", other, "")
	c1 := scope.With(context.Background(), scope.Tenant{TenantID: w.District.Org(t, "c1").ID})
	reply := func(id, phone, text string) bool {
		t.Helper()
		var handled bool
		err := w.DB.InTenantTx(c1, func(ctx context.Context, tx *store.TenantTx) error {
			var err error
			handled, err = w.Isolation.HandleReply(ctx, tx, outreach.Reply{TenantID: tx.Tenant(), ID: id, Phone: phone, Text: text})
			return err
		})
		if err != nil {
			t.Fatalf("reply %q: %v", text, err)
		}
		return handled
	}
	for _, tc := range []struct {
		id, phone, text string
		handled         bool
	}{
		{"r1", "13800000001", "体温37.5 咳嗽", true},
		{"r1", "13800000001", "体温37.5 咳嗽", true}, // the same reply again: taken, not recorded twice
		{"r2", "13800000002", "36.6", false},     // two cases on one phone
		{"r3", "13800000003", "36.6", false},     // c2's case, a reply in c1
		{"r4", "13900000009", "36.6", false},     // no case
		{"r5", "13800000001", "谢谢", false},
	} {
		if got := reply(tc.id, tc.phone, tc.text); got != tc.handled {
			t.Errorf("%s %q from %s: handled %v, want %v", tc.id, tc.text, tc.phone, got, tc.handled)
		}
	}
	v, err := w.Isolation.GetCase(w.as(t, "c1.staff", "c1"), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Checkins) != 1 || v.Checkins[0].Source != isolation.SourceSMS || v.Checkins[0].Temperature != 37.5 || len(v.Alerts) != 1 {
		t.Fatalf("check-ins %+v alerts %+v; want one sms check-in of 37.5 and its alert", v.Checkins, v.Alerts)
	}
	if n := w.count(t, "isolation_checkins"); n != 1 {
		t.Fatalf("%d check-ins stored, want 1", n)
	}
}
