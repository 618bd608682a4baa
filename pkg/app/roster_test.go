package app_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
)

// validID builds an ID number with a correct GB 11643 check digit.
func validID(region, birth, seq string) string {
	body := region + birth + seq
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * w[i]
	}
	return body + string("10X98765432"[sum%11])
}

// demoApp is an app with the demo district, its parts running (so imports
// are processed by the real worker).
func demoApp(t *testing.T) *app.App {
	t.Helper()
	a := newDemoApp(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

type idView struct {
	ID          string   `json:"id"`
	Phone       string   `json:"phone"`
	IDNumber    string   `json:"id_number"`
	Grid        string   `json:"grid"`
	Tags        []string `json:"tags"`
	HouseholdID string   `json:"household_id"`
}

type page struct {
	Items      []idView `json:"items"`
	NextCursor string   `json:"next_cursor"`
}

func TestRosterEndToEnd(t *testing.T) {
	t.Parallel()
	a := demoApp(t)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	grid := login(t, h, "yucai.grid1", demoPassword)

	var (
		building, home idView
		id, resID      string
	)
	if !t.Run("the demo roster is there", func(t *testing.T) {
		// The demo roster is there: about 2,100 households in Yucai.
		all := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/households?limit=500", staff, nil).Body.Bytes())
		if len(all.Items) != 500 || all.NextCursor == "" {
			t.Fatalf("demo households page: %d items, cursor %q", len(all.Items), all.NextCursor)
		}
	}) {
		return
	}
	if !t.Run("a building and a household", func(t *testing.T) {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/buildings", staff, map[string]any{"grid": "yucai-g2", "name": "新楼", "address": "育才路200号"})
		if rec.Code != 201 {
			t.Fatalf("building: %d %s", rec.Code, rec.Body)
		}
		building = decode[idView](t, rec.Body.Bytes())
		rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/households", staff, map[string]any{
			"grid": "yucai-g2", "building_id": building.ID, "unit": "1单元", "room": "301", "phone": "+86 138-0013-8000", "tags": []string{"独居"}})
		if rec.Code != 201 {
			t.Fatalf("household: %d %s", rec.Code, rec.Body)
		}
		home = decode[idView](t, rec.Body.Bytes())
		if home.Phone != "13800138000" || len(home.Tags) != 1 || home.Tags[0] != "lives_alone" {
			t.Fatalf("household normalised: %+v", home)
		}
		// The same door again is a duplicate, named.
		rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/households", staff, map[string]any{"grid": "yucai-g2", "building_id": building.ID, "unit": "1", "room": "301室"})
		if rec.Code != 409 || !strings.Contains(rec.Body.String(), home.ID) {
			t.Fatalf("duplicate household: %d %s", rec.Code, rec.Body)
		}
	}) {
		return
	}
	if !t.Run("a resident, derived from its ID number", func(t *testing.T) {
		id = validID("450305", "19450601", "002")
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/residents", staff, map[string]any{
			"household_id": home.ID, "name": "王秀英", "phone": "13800138000", "id_number": id, "tags": []string{"elderly"}})
		if rec.Code != 201 {
			t.Fatalf("resident: %d %s", rec.Code, rec.Body)
		}
		res := decode[map[string]any](t, rec.Body.Bytes())
		if res["birth_year"] != float64(1945) || res["sex"] != "female" || res["id_number"] != id {
			t.Fatalf("resident derived from ID: %v", res)
		}
		resID = res["id"].(string)
	}) {
		return
	}
	if !t.Run("duplicates are named", func(t *testing.T) {
		dups := []map[string]any{
			{"household_id": home.ID, "name": "另一人", "id_number": id},
			{"household_id": home.ID, "name": "王秀英", "phone": "138 0013 8000"},
		}
		for _, d := range dups {
			rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/residents", staff, d)
			if rec.Code != 409 || !strings.Contains(rec.Body.String(), `"existing_id":"`+resID+`"`) {
				t.Fatalf("duplicate %v: %d %s", d, rec.Code, rec.Body)
			}
		}
	}) {
		return
	}
	if !t.Run("bad input is a 422 on its field", func(t *testing.T) {
		bad := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"household_id": home.ID, "name": "甲", "phone": "12345"}, "phone"},
			{map[string]any{"household_id": home.ID, "name": "甲", "id_number": id[:17] + map[bool]string{true: "1", false: "0"}[id[17] == '0']}, "id_number"},
			{map[string]any{"household_id": home.ID, "name": "甲", "birth_year": 1700}, "birth_year"},
			{map[string]any{"household_id": home.ID, "name": "甲", "sex": "x"}, "sex"},
			{map[string]any{"household_id": "nope", "name": "甲"}, "household_id"},
			{map[string]any{"household_id": home.ID, "name": ""}, "name"},
		}
		for _, b := range bad {
			rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/residents", staff, b.body)
			if rec.Code != 422 || !strings.Contains(rec.Body.String(), `"field":"`+b.field+`"`) {
				t.Fatalf("bad %v: %d %s", b.body, rec.Code, rec.Body)
			}
		}
		for _, b := range []map[string]any{{"grid": "nowhere", "address": "x"}, {"grid": "yucai-g1", "building_id": "nope"}, {"grid": "yucai-g1"}} {
			if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/households", staff, b); rec.Code != 422 {
				t.Fatalf("bad household %v: %d %s", b, rec.Code, rec.Body)
			}
		}
	}) {
		return
	}
	if !t.Run("search by phone ending, name start, tag", func(t *testing.T) {
		// Search: phone ending, name start, tag.
		for _, q := range []string{"q=8000", "q=" + "王秀", "tag=elderly&q=王秀英"} {
			got := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents?"+q, staff, nil).Body.Bytes())
			found := false
			for _, it := range got.Items {
				found = found || it.ID == resID
			}
			if !found {
				t.Errorf("search %s did not find the resident (%d items)", q, len(got.Items))
			}
		}
	}) {
		return
	}
	if !t.Run("masking and the audit of reads", func(t *testing.T) {
		// Masking: lists mask ID numbers; one record shows it to staff (audited);
		// the official sees masked phone and ID.
		list := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents?household_id="+home.ID, staff, nil).Body.Bytes())
		if len(list.Items) != 1 || list.Items[0].IDNumber != "4503**********"+id[14:] || list.Items[0].Phone != "13800138000" {
			t.Fatalf("staff list: %+v", list.Items)
		}
		one := decode[idView](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents/"+resID, staff, nil).Body.Bytes())
		if one.IDNumber != id {
			t.Fatalf("staff record: %+v", one)
		}
		off := decode[idView](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents/"+resID, official, nil).Body.Bytes())
		if off.Phone != "138****8000" || off.IDNumber != "4503**********"+id[14:] {
			t.Fatalf("official record: %+v", off)
		}
		if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/residents", official, map[string]any{"household_id": home.ID, "name": "x"}); rec.Code != 403 {
			t.Fatalf("official writing: %d", rec.Code)
		}
		admin := login(t, h, "yucai.admin", demoPassword)
		a.Reads.Flush(t.Context()) // reads are audited in batches
		auditBody := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/audit?action=view&limit=50", admin, nil).Body.String()
		if !strings.Contains(auditBody, resID) {
			t.Fatalf("the unmasked read is not audited: %s", auditBody)
		}
	}) {
		return
	}
	if !t.Run("grid workers see their grid only", func(t *testing.T) {
		// Grid workers see their grid only; another grid's record is 404.
		mine := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/households?limit=500", grid, nil).Body.Bytes())
		if len(mine.Items) == 0 {
			t.Fatal("grid worker sees no households")
		}
		for _, it := range mine.Items {
			if it.Grid != "yucai-g1" {
				t.Fatalf("grid worker sees %s", it.Grid)
			}
		}
		for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
			if rec := do(t, h, m, "/api/v1/orgs/yucai/households/"+home.ID, grid, map[string]any{"notes": "x"}); rec.Code != 404 {
				t.Fatalf("grid worker %s on another grid's household: %d", m, rec.Code)
			}
			if rec := do(t, h, m, "/api/v1/orgs/yucai/residents/"+resID, grid, map[string]any{"name": "x"}); rec.Code != 404 {
				t.Fatalf("grid worker %s on another grid's resident: %d", m, rec.Code)
			}
		}
		if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/residents.csv", grid, nil); rec.Code != 403 {
			t.Fatalf("grid worker export: %d", rec.Code)
		}
	}) {
		return
	}
	t.Run("patch and delete", func(t *testing.T) {
		// Patch and delete.
		if rec := do(t, h, http.MethodPatch, "/api/v1/orgs/yucai/residents/"+resID, staff, map[string]any{"tags": []string{"elderly", "chronic_illness"}}); rec.Code != 200 {
			t.Fatalf("patch: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, h, http.MethodDelete, "/api/v1/orgs/yucai/households/"+home.ID, staff, nil); rec.Code != 204 {
			t.Fatalf("delete: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents/"+resID, staff, nil); rec.Code != 404 {
			t.Fatalf("resident of a deleted household: %d", rec.Code)
		}
	})
}

func upload(t *testing.T, h http.Handler, token, kind, name string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("kind", kind)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/orgs/yucai/imports", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type importView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Rows    int    `json:"rows"`
	Created int    `json:"created"`
	Updated int    `json:"updated"`
	Errors  []struct {
		Row     int    `json:"row"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func waitImport(t *testing.T, h http.Handler, token, id string) importView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := decode[importView](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/imports/"+id, token, nil).Body.Bytes())
		if v.Status == "done" || v.Status == "failed" {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s still %s", id, v.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestImportResidents(t *testing.T) {
	t.Parallel()
	a := demoApp(t)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	id1 := validID("450305", "19500101", "001")
	csv := "姓名,电话,身份证号,网格,楼栋,单元,房号,标签\n" +
		"张三,13900001111," + id1 + ",yucai-g3,导入楼,1单元,101,独居 老人\n" +
		"李四,13900002222,,yucai-g3,导入楼,1单元,102,\n" +
		"坏电话,12345,,yucai-g3,导入楼,1单元,103,\n" +
		"坏网格,,,nowhere,,,,\n" +
		",13900003333,,yucai-g3,导入楼,1单元,104,\n" +
		"王五,13900004444,450305195001010010,yucai-g3,导入楼,1单元,105,\n"
	rec := upload(t, h, staff, "residents", "roster.csv", []byte(csv))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	v := waitImport(t, h, staff, decode[idView](t, rec.Body.Bytes()).ID)
	if v.Status != "done" || v.Rows != 6 || v.Created != 2 {
		t.Fatalf("import: %+v", v)
	}
	wantBad := map[string]bool{"4/phone": true, "5/grid": true, "6/name": true, "7/id_number": true}
	for _, e := range v.Errors {
		delete(wantBad, fmt.Sprintf("%d/%s", e.Row, e.Field))
		if e.Message == "" {
			t.Errorf("row %d %s: no message", e.Row, e.Field)
		}
	}
	if len(wantBad) > 0 {
		t.Fatalf("errors %+v lack %v", v.Errors, wantBad)
	}
	// The rejected rows come back as a file, for the uploader's office only.
	rejected := "/api/v1/orgs/yucai/imports/" + v.ID + "/rejected.csv"
	rec = do(t, h, http.MethodGet, rejected, staff, nil)
	if rec.Code != 200 || strings.Count(rec.Body.String(), "\n") != 5 || !strings.Contains(rec.Body.String(), "坏电话,12345,") {
		t.Fatalf("rejected rows: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodGet, rejected, login(t, h, "qixing.official", demoPassword), nil); rec.Code != 403 {
		t.Fatalf("official reads rejected rows: %d", rec.Code)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/imports/"+v.ID+"/rejected.pdf", staff, nil); rec.Code != 404 {
		t.Fatalf("rejected.pdf: %d", rec.Code)
	}
	// The same file again creates nothing.
	rec = upload(t, h, staff, "residents", "roster.csv", []byte(csv))
	again := waitImport(t, h, staff, decode[idView](t, rec.Body.Bytes()).ID)
	if again.Status != "done" || again.Created != 0 || again.Updated != 0 || again.Rows != v.Rows {
		t.Fatalf("re-import: %+v", again)
	}

	// Files refused at upload.
	for _, c := range []struct {
		name string
		data []byte
		code int
	}{
		{"empty.csv", nil, 422},
		{"scan.pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), 422},
		{"noname.csv", []byte("电话,地址\n13900001111,x\n"), 422},
	} {
		if rec := upload(t, h, staff, "residents", c.name, c.data); rec.Code != c.code {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
	if rec := upload(t, h, staff, "pets", "x.csv", []byte("姓名\n张三\n")); rec.Code != 422 {
		t.Errorf("bad kind: %d", rec.Code)
	}
	big := bytes.Repeat([]byte("x"), 33<<20)
	if rec := upload(t, h, staff, "residents", "big.csv", big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d %.200s", rec.Code, rec.Body)
	}

	// Export what is there, as CSV; the official's copy is masked.
	rec = do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/residents.csv", staff, nil)
	// Staff's export masks ID numbers as lists do (whole ones are the
	// community admin's, asked for with ?id_numbers=full).
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "张三,13900001111,"+id1[:4]+"**********"+id1[14:]) {
		t.Fatalf("export: %d %.300s", rec.Code, rec.Body)
	}
	official := login(t, h, "qixing.official", demoPassword)
	rec = do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/residents.xlsx", official, nil)
	if rec.Code != 200 || !bytes.HasPrefix(rec.Body.Bytes(), []byte("PK")) {
		t.Fatalf("official xlsx export: %d", rec.Code)
	}
	rec = do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/households.csv", official, nil)
	if strings.Contains(rec.Body.String(), "13900001111") {
		t.Fatal("official's export shows a full phone")
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/pets.csv", staff, nil); rec.Code != 404 {
		t.Fatalf("unknown export: %d", rec.Code)
	}
}

// TestUploadDuringRedisOutage: an upload stored while Redis is down is
// answered 202 (it will run: the reconciler queues stored uploads), not a
// 503 that would make the client upload it twice; once Redis is back the
// reconciler queues it.
func TestUploadDuringRedisOutage(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	a := newDemoApp(t, func(c *config.Config) { c.RedisURL = "redis://" + m.Addr() })
	staff := login(t, a.Engine, "yucai.staff", demoPassword)
	m.Close()
	rec := upload(t, a.Engine, staff, "households", "h.csv", []byte("网格,地址\nyucai-g1,育才路500号\n"))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload with Redis down: %d %s", rec.Code, rec.Body)
	}
	id := decode[importView](t, rec.Body.Bytes()).ID
	if v := decode[importView](t, do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/imports/"+id, staff, nil).Body.Bytes()); v.Status != "queued" {
		t.Fatalf("stored upload: %+v", v)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	n, err := a.Roster.RequeueStale(t.Context(), 0)
	if err != nil || n != 1 {
		t.Fatalf("reconciler after Redis came back: %d %v", n, err)
	}
}
