package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/audit"
)

// TestAuditLogIsMasked: the audit log is read by the community's admin and
// by the officials above it, who see phones and ID numbers masked
// everywhere else. After staff search the roster by a phone and by an ID
// number, open the record, import a file named after a phone and list the
// opt-outs, neither reader finds a whole phone or ID number in the log,
// in any entry, under any filter; and a row written before the rule (the
// search stored in clear) is masked when read.
func TestAuditLogIsMasked(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	const base = "/api/v1/orgs/yucai"

	const phone = "13800138000"
	id := validID("450305", "19450601", "002")
	homes := decode[page](t, do(t, h, http.MethodGet, base+"/households?limit=1", staff, nil).Body.Bytes())
	if len(homes.Items) != 1 {
		t.Fatal("no demo household")
	}
	rec := do(t, h, http.MethodPost, base+"/residents", staff, map[string]any{
		"household_id": homes.Items[0].ID, "name": "王秀英", "phone": phone, "id_number": id})
	if rec.Code != http.StatusCreated {
		t.Fatalf("resident: %d %s", rec.Code, rec.Body)
	}
	resID := decode[idView](t, rec.Body.Bytes()).ID

	// What staff and the admin do that leaves personal data in reach of
	// the log.
	for _, c := range []struct {
		who, token, method, path string
		body                     any
		want                     int
	}{
		{"staff searches by phone", staff, http.MethodGet, base + "/residents?q=" + phone, nil, 200},
		{"staff searches by phone, spaced", staff, http.MethodGet, base + "/residents?q=138%200013%208000", nil, 200},
		{"staff searches by ID number", staff, http.MethodGet, base + "/residents?q=" + id, nil, 200},
		{"the admin searches by ID number", admin, http.MethodGet, base + "/residents?q=" + id, nil, 200},
		{"the admin searches households by phone", admin, http.MethodGet, base + "/households?q=" + phone, nil, 200},
		{"staff opens the record", staff, http.MethodGet, base + "/residents/" + resID, nil, 200},
		{"staff edits the phone", staff, http.MethodPatch, base + "/residents/" + resID, map[string]any{"phone": "13900139000"}, 200},
		{"staff adds an opt-out", staff, http.MethodPost, base + "/opt-outs", map[string]any{"phone": phone}, 201},
		{"staff lists the opt-outs", staff, http.MethodGet, base + "/opt-outs", nil, 200},
	} {
		if rec := do(t, h, c.method, c.path, c.token, c.body); rec.Code != c.want {
			t.Fatalf("%s: %d %s", c.who, rec.Code, rec.Body)
		}
	}
	if rec := upload(t, h, staff, "residents", "王秀英"+phone+id+".csv", []byte("姓名,电话\n张三,13700137000\n")); rec.Code != http.StatusAccepted && rec.Code != http.StatusCreated {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}

	// A row from before the rule: the search in clear, as it was stored.
	org, _ := a.Authz.Org("yucai")
	old := audit.Entry{ID: uuid.Must(uuid.NewV7()).String(), OrgPath: org.Path, At: time.Now().UTC(), ActorID: "u", Actor: "yucai.staff",
		Role: "community_staff", Org: "yucai", Action: audit.ActionView, Resource: "residents", ResourceID: "list",
		Details: map[string]any{"q": id, "phones": []string{phone}, "note": "138 0013 8000"}}
	if _, err := a.DB.NewInsert().Model(&old).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Reads.Flush(t.Context()) // reads are audited in batches

	for _, c := range []struct{ who, token, path string }{
		{"the official, the community's reads", official, base + "/audit?action=view&limit=200"},
		{"the official, the community's log", official, base + "/audit?limit=200"},
		{"the official, the sub-district's log", official, "/api/v1/orgs/qixing/audit?limit=200"},
		{"the official, staff's entries", official, base + "/audit?actor=yucai.staff&limit=200"},
		{"the admin, the community's reads", admin, base + "/audit?action=view&limit=200"},
		{"the admin, the community's log", admin, base + "/audit?limit=200"},
	} {
		t.Run(c.who, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, c.path, c.token, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			for _, leak := range []string{phone, "13900139000", "13700137000", id, id[6:14], "0013 8000"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s in the log", leak)
				}
			}
			if m := fullMobile.FindString(body); m != "" {
				t.Errorf("a whole phone in the log: %s", m)
			}
			if m := fullIDNumber.FindString(body); m != "" {
				t.Errorf("a whole ID number in the log: %s", m)
			}
			// Not vacuous: the searches are there, masked.
			if !strings.Contains(c.path, "action=") || strings.Contains(c.path, "action=view") {
				for _, want := range []string{`"q":"138****8000"`, `"q":"4503**********` + id[14:] + `"`} {
					if !strings.Contains(body, want) {
						t.Errorf("no %s in the log", want)
					}
				}
			}
		})
	}
}
