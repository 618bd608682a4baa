package roster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// yucai is the demo roster of Yucai, as the app seeds it (app.demoRosters).
var yucai = roster.DemoSpec{Seed: 2020_02_10, Grids: []string{"yucai-g1", "yucai-g2", "yucai-g3", "yucai-g4", "yucai-g5"},
	Buildings: 144, Households: 2100, ElderlyShare: 0.18, Street: "育才路"}

// adminOf makes a community with the given grid slugs, in the database as
// community() does, and returns a context acting as its admin.
func adminOf(t *testing.T, db *store.DB, tenant string, grids []string) context.Context {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := db.NewRaw(`INSERT INTO orgs (id, slug, name, kind, path, timezone, settings, created_at, updated_at)
		VALUES (?, ?, ?, 'community', ?, 'Asia/Shanghai', '{}', ?, ?)`, tenant, tenant, tenant, "/"+tenant+"/", now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	err := db.AcrossTenants(ctx, "test fixture", []string{tenant}, func(ctx context.Context, tx bun.Tx) error {
		for i, slug := range grids {
			if _, err := tx.NewRaw(`INSERT INTO grids (id, tenant_id, slug, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				fmt.Sprintf("%s-g%d", tenant, i+1), tenant, slug, fmt.Sprintf("网格%d", i+1), now, now).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx = scope.With(ctx, scope.Tenant{TenantID: tenant})
	ctx = authz.WithCaller(ctx, authz.Caller{UserID: "u-" + tenant, Username: tenant + ".admin", Role: authz.RoleCommunityAdmin})
	return audit.WithActor(ctx, audit.Actor{UserID: "u-" + tenant, Username: tenant + ".admin", Role: authz.RoleCommunityAdmin,
		Org: tenant, OrgPath: "/" + tenant + "/"})
}

// live counts a community's records of table that are not deleted.
func live(t *testing.T, db *store.DB, tenant, table string) int {
	t.Helper()
	var n int
	err := db.AcrossTenants(context.Background(), "test count", []string{tenant}, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("SELECT count(*) FROM ? WHERE tenant_id = ? AND deleted_at IS NULL", bun.Ident(table), tenant).Scan(ctx, &n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDemoRoundTrip: the whole demo roster of Yucai, exported as XLSX and
// as CSV, residents and households, imports into an empty community with
// the same grids as it is: every row created, nothing refused, and the new
// community exports the same file. Imported again, nothing changes.
func TestDemoRoundTrip(t *testing.T) {
	db := storetest.New(t)
	src := adminOf(t, db, "t-yucai", yucai.Grids)
	s := &roster.Service{DB: db}
	homes, people, err := s.SeedDemo(src, yucai)
	if err != nil {
		t.Fatal(err)
	}
	export := func(ctx context.Context, kind, format string) []byte {
		t.Helper()
		var file bytes.Buffer
		if err := s.ExportWith(ctx, kind, format, roster.ExportOptions{FullIDNumbers: kind == roster.KindResidents}, &file); err != nil {
			t.Fatal(err)
		}
		return file.Bytes()
	}

	// The demo has what the API allows and an import refused before: two
	// residents of one name in one household, without ID numbers.
	rows := readCSV(t, export(src, roster.KindResidents, "csv"))
	twins := 0
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		k := r[0] + "|" + r[10]
		if seen[k] {
			twins++
		}
		seen[k] = true
	}
	if len(rows) != people+1 || twins == 0 {
		t.Fatalf("demo roster: %d rows for %d residents, %d residents sharing a name and a household", len(rows)-1, people, twins)
	}
	t.Logf("demo roster: %d households, %d residents, %d of them sharing a name and a household with another", homes, people, twins)

	for i, c := range []struct {
		kind, table string
		n           int
	}{
		{roster.KindResidents, "residents", people},
		{roster.KindHouseholds, "households", homes},
	} {
		for j, format := range []string{"xlsx", "csv"} {
			t.Run(c.kind+"."+format, func(t *testing.T) {
				file := export(src, c.kind, format)
				tenant := fmt.Sprintf("t-copy-%d", 2*i+j)
				dst := adminOf(t, db, tenant, yucai.Grids)
				imp, err := s.ImportNow(dst, c.kind, "export."+format, file)
				if err != nil {
					t.Fatal(err)
				}
				if imp.Status != "done" || imp.Rows != c.n || imp.Created != c.n || imp.ErrorCount != 0 || imp.Updated+imp.Unchanged != 0 {
					t.Fatalf("import into an empty community: status %s rows %d created %d updated %d unchanged %d, %d errors %v",
						imp.Status, imp.Rows, imp.Created, imp.Updated, imp.Unchanged, imp.ErrorCount, imp.Errors[:min(5, len(imp.Errors))])
				}
				if got := live(t, db, tenant, c.table); got != c.n {
					t.Fatalf("%d %s on the new roster, want %d", got, c.table, c.n)
				}
				if !bytes.Equal(export(dst, c.kind, "csv"), export(src, c.kind, "csv")) {
					t.Errorf("the new community's %s export differs from the demo's", c.kind)
				}
				again, err := s.ImportNow(dst, c.kind, "export."+format, file)
				if err != nil {
					t.Fatal(err)
				}
				if again.Status != "done" || again.Rows != c.n || again.Unchanged != c.n || again.Created+again.Updated+again.ErrorCount != 0 {
					t.Fatalf("imported again: status %s rows %d created %d updated %d unchanged %d, %d errors %v",
						again.Status, again.Rows, again.Created, again.Updated, again.Unchanged, again.ErrorCount, again.Errors[:min(5, len(again.Errors))])
				}
			})
		}
	}
}

// namesYears lists a household's residents as "name year" in the order of
// their ids.
func namesYears(t *testing.T, s *roster.Service, ctx context.Context, household string) string {
	t.Helper()
	list, _, err := s.ListResidents(ctx, roster.Filter{HouseholdID: household, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list {
		y := "-"
		if r.BirthYear != nil {
			y = itoa(*r.BirthYear)
		}
		out = append(out, r.Name+" "+y)
	}
	return strings.Join(out, ", ")
}

// counts is an import's outcome as "created/updated/unchanged/errors".
func counts(imp *roster.Import) string {
	return fmt.Sprintf("%d/%d/%d/%d", imp.Created, imp.Updated, imp.Unchanged, imp.ErrorCount)
}

func importText(t *testing.T, s *roster.Service, ctx context.Context, text string) *roster.Import {
	t.Helper()
	imp, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "done" {
		t.Fatalf("import %s: %+v", imp.Status, imp)
	}
	return imp
}

// TestSameNameResidents: the importer holds residents to the API's rules.
// Two residents of one name in one household are allowed, and import as
// two; a name and phone that another resident has are refused, on a new
// resident as on a change; the n-th row of a household and name is the
// n-th such resident, in the order of their ids.
func TestSameNameResidents(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	const head = "姓名,电话,出生年份,网格,地址\n"
	file := head +
		"张伟,,1950,g1,七星路1号\n" +
		"张伟,,1980,g1,七星路1号\n" +
		"张伟,13900001111,2010,g1,七星路1号\n" +
		"李娜,13900002222,1990,g1,七星路1号\n" +
		"李娜,13900002222,1991,g1,七星路1号\n" // the API refuses it: same name and phone
	imp := importText(t, s, ctx, file)
	if counts(imp) != "4/0/0/1" || !errorSet(imp)["6/name/resident_same_name_phone"] {
		t.Fatalf("first import: %s %v", counts(imp), imp.Errors)
	}
	homes, _, err := s.ListHouseholds(ctx, roster.Filter{Limit: 10})
	if err != nil || len(homes) != 1 {
		t.Fatalf("households: %d %v", len(homes), err)
	}
	home := homes[0].ID
	if got := namesYears(t, s, ctx, home); got != "张伟 1950, 张伟 1980, 张伟 2010, 李娜 1990" {
		t.Fatalf("household: %s", got)
	}
	var conflict *errs.Error
	if _, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: home, Name: "李娜", Phone: "13900002222"}); !errors.As(err, &conflict) || conflict.Kind != errs.KindConflict {
		t.Fatalf("the API took a second 李娜 of the same phone: %v", err)
	}
	if imp := importText(t, s, ctx, file); counts(imp) != "0/0/4/1" {
		t.Fatalf("imported again: %s %v", counts(imp), imp.Errors)
	}

	// The API adds a fourth 张伟; a file listing four imports unchanged.
	if _, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: home, Name: "张伟"}); err != nil {
		t.Fatal(err)
	}
	four := head + "张伟,,1950,g1,七星路1号\n张伟,,1980,g1,七星路1号\n张伟,13900001111,2010,g1,七星路1号\n张伟,,,g1,七星路1号\n"
	if imp := importText(t, s, ctx, four); counts(imp) != "0/0/4/0" {
		t.Fatalf("four 张伟: %s %v", counts(imp), imp.Errors)
	}
	// The n-th row is the n-th resident: changed rows change their own.
	changed := head + "张伟,,1951,g1,七星路1号\n张伟,,1981,g1,七星路1号\n"
	if imp := importText(t, s, ctx, changed); counts(imp) != "0/2/0/0" {
		t.Fatalf("changed rows: %s %v", counts(imp), imp.Errors)
	}
	if got := namesYears(t, s, ctx, home); got != "张伟 1951, 张伟 1981, 张伟 2010, 李娜 1990, 张伟 -" {
		t.Fatalf("after the change: %s", got)
	}
	// Rows the roster holds match what they are, in any order.
	shuffled := head + "张伟,,,g1,七星路1号\n张伟,13900001111,2010,g1,七星路1号\n张伟,,1981,g1,七星路1号\n张伟,,1951,g1,七星路1号\n"
	if imp := importText(t, s, ctx, shuffled); counts(imp) != "0/0/4/0" {
		t.Fatalf("shuffled rows: %s %v", counts(imp), imp.Errors)
	}

	// A change to a name and phone another resident has is refused, as
	// the API refuses it; a phone this batch frees is free.
	other, err := s.CreateHousehold(ctx, roster.HouseholdInput{Grid: "g2", Address: "七星路2号"})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: other.ID, Name: "李娜", Phone: "13900003333"})
	if err != nil {
		t.Fatal(err)
	}
	p := "13900002222"
	if _, err := s.UpdateResident(ctx, moved.ID, roster.ResidentPatch{Phone: &p}); !errors.As(err, &conflict) || conflict.Kind != errs.KindConflict {
		t.Fatalf("the API gave 李娜 another 李娜's phone: %v", err)
	}
	imp = importText(t, s, ctx, head+"李娜,13900002222,,g2,七星路2号\n")
	if counts(imp) != "0/0/0/1" || !errorSet(imp)["2/name/resident_same_name_phone"] {
		t.Fatalf("a change to another's name and phone: %s %v", counts(imp), imp.Errors)
	}
	imp = importText(t, s, ctx, head+"李娜,13900004444,1990,g1,七星路1号\n李娜,13900002222,,g2,七星路2号\n")
	if counts(imp) != "0/2/0/0" {
		t.Fatalf("a phone freed earlier in the file: %s %v", counts(imp), imp.Errors)
	}
	// A row without a phone keeps the resident's: renamed by its ID number
	// to a name that another resident has with that phone, it is refused.
	id := idNumber("45030519700101003")
	wang, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: other.ID, Name: "王芳", Phone: "13900005555", IDNumber: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: home, Name: "李强", Phone: "13900005555"}); err != nil {
		t.Fatal(err)
	}
	name := "李强"
	if _, err := s.UpdateResident(ctx, wang.ID, roster.ResidentPatch{Name: &name}); !errors.As(err, &conflict) || conflict.Kind != errs.KindConflict {
		t.Fatalf("the API renamed 王芳 to 李强 of the same phone: %v", err)
	}
	imp = importText(t, s, ctx, "姓名,身份证号,网格,地址\n李强,"+id+",g2,七星路2号\n")
	if counts(imp) != "0/0/0/1" || !errorSet(imp)["2/name/resident_same_name_phone"] {
		t.Fatalf("a rename to another's name and phone: %s %v", counts(imp), imp.Errors)
	}
}

// TestSameNameResidentsByID: the n-th row of a household and name is the
// n-th resident in the order of ids, not of how the database returns them.
func TestSameNameResidentsByID(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	h, err := s.CreateHousehold(ctx, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	// Saved in the reverse order of their ids.
	for _, r := range []struct {
		id   string
		year int
	}{{"00000000-0000-7000-8000-000000000002", 1980}, {"00000000-0000-7000-8000-000000000001", 1970}} {
		if err := fixtureExec(ctx, db, `INSERT INTO residents (id, tenant_id, household_id, grid_id, name, phone, phone_rev, birth_year, sex, tags, created_at, updated_at)
			VALUES (?, ?, ?, (SELECT grid_id FROM households WHERE tenant_id = ? AND id = ?), '张伟', '', '', ?, '', '[]', ?, ?)`,
			r.id, tenantOf(ctx), h.ID, tenantOf(ctx), h.ID, r.year, now, now); err != nil {
			t.Fatal(err)
		}
	}
	imp := importText(t, s, ctx, "姓名,出生年份,网格,地址\n张伟,1971,g1,七星路1号\n张伟,1981,g1,七星路1号\n张伟,1991,g1,七星路1号\n")
	if counts(imp) != "1/2/0/0" {
		t.Fatalf("import: %s %v", counts(imp), imp.Errors)
	}
	if got := namesYears(t, s, ctx, h.ID); got != "张伟 1971, 张伟 1981, 张伟 1991" {
		t.Fatalf("household: %s", got)
	}
}

// TestSameNameResidentsWithIDNumbers: one household has three residents of
// one name, one of them with an ID number. Its exports, ID numbers whole or
// masked, import again without a change, and so does a file that lists
// them in another order.
func TestSameNameResidentsWithIDNumbers(t *testing.T) {
	db := storetest.New(t)
	admin := community(t, db)
	admin = as(admin, "admin", authz.RoleCommunityAdmin)
	staff := as(admin, "staff", authz.RoleCommunityStaff)
	s := &roster.Service{DB: db}
	h, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
	if err != nil {
		t.Fatal(err)
	}
	id := idNumber("45030519800101001")
	y1, y3 := 1950, 2010
	for _, in := range []roster.ResidentInput{
		{HouseholdID: h.ID, Name: "张伟", BirthYear: &y1},
		{HouseholdID: h.ID, Name: "张伟", IDNumber: id},
		{HouseholdID: h.ID, Name: "张伟", BirthYear: &y3},
	} {
		if _, err := s.CreateResident(staff, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		who  string
		ctx  context.Context
		full bool
	}{{"admin", admin, true}, {"staff", staff, false}} {
		for _, format := range []string{"csv", "xlsx"} {
			var file bytes.Buffer
			if err := s.ExportWith(c.ctx, roster.KindResidents, format, roster.ExportOptions{FullIDNumbers: c.full}, &file); err != nil {
				t.Fatal(err)
			}
			imp, err := s.ImportNow(c.ctx, roster.KindResidents, "export."+format, file.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if counts(imp) != "0/0/3/0" {
				t.Errorf("%s's %s export imported again: %s %v", c.who, format, counts(imp), imp.Errors)
			}
		}
	}
	imp := importText(t, s, staff, "姓名,身份证号,出生年份,网格,地址\n张伟,,2010,g1,七星路1号\n张伟,,1950,g1,七星路1号\n张伟,"+id+",,g1,七星路1号\n")
	if counts(imp) != "0/0/3/0" {
		t.Errorf("in another order: %s %v", counts(imp), imp.Errors)
	}
	// The same ID number twice is one person listed twice.
	imp = importText(t, s, staff, "姓名,身份证号,网格,地址\n张伟,"+id+",g1,七星路1号\n张伟,"+id+",g1,七星路1号\n")
	if counts(imp) != "0/0/1/1" || !errorSet(imp)["3/id_number/repeated_in_file"] {
		t.Errorf("an ID number twice: %s %v", counts(imp), imp.Errors)
	}
	// So is a resident whom a row without the number matched already.
	other, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g2", Address: "七星路2号"})
	if err != nil {
		t.Fatal(err)
	}
	id2 := idNumber("45030519700101003")
	if _, err := s.CreateResident(staff, roster.ResidentInput{HouseholdID: other.ID, Name: "王芳", IDNumber: id2}); err != nil {
		t.Fatal(err)
	}
	imp = importText(t, s, staff, "姓名,身份证号,出生年份,性别,网格,地址\n王芳,,1970,男,g2,七星路2号\n王芳,"+id2+",1970,男,g2,七星路2号\n")
	if counts(imp) != "0/0/1/1" || !errorSet(imp)["3/id_number/repeated_in_file"] {
		t.Errorf("a resident matched twice: %s %v", counts(imp), imp.Errors)
	}
}

// TestSameNamesAcrossBatches: two rows of one name in one household, in
// two batches, are two residents, whether the import runs through or
// crashes between the batches and resumes; every row is counted once.
func TestSameNamesAcrossBatches(t *testing.T) {
	defer roster.SetImportBatch(2)()
	// Two batches (rows 2-5), then the last row.
	file := "姓名,电话,出生年份,网格,地址\n李四,,1960,g1,七星路1号\n赵六,12345,1960,g1,七星路1号\n" +
		"张伟,,1950,g1,七星路1号\n王五,,1970,g1,七星路1号\n张伟,,1980,g1,七星路1号\n"
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "through", true: "resumed"}[crash], func(t *testing.T) {
			db := storetest.New(t)
			ctx := community(t, db)
			s := &roster.Service{DB: db}
			h, err := s.CreateHousehold(ctx, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
			if err != nil {
				t.Fatal(err)
			}
			born := 1970
			if _, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: h.ID, Name: "王五", BirthYear: &born}); err != nil {
				t.Fatal(err)
			}
			var imp *roster.Import
			if !crash {
				imp = importText(t, s, ctx, file)
			} else {
				restore := roster.CrashAfterBatches(2)
				_, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(file))
				restore()
				if err == nil {
					t.Fatal("the simulated crash did not stop the import")
				}
				// An edit between the crash and the resumption stays: the
				// rows saved before the crash are not applied again.
				li, _, err := s.ListResidents(ctx, roster.Filter{Q: "李四", Limit: 1})
				if err != nil || len(li) != 1 {
					t.Fatalf("李四: %v %v", li, err)
				}
				y := 1961
				if _, err := s.UpdateResident(ctx, li[0].ID, roster.ResidentPatch{BirthYear: &y}); err != nil {
					t.Fatal(err)
				}
				var id string
				err = db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
					return tx.NewSelect().TableExpr("imports").Column("id").Scan(ctx, &id)
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.RunImport(ctx, id); err != nil {
					t.Fatal(err)
				}
				if imp, err = s.GetImport(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if imp.Status != "done" || imp.Rows != 5 || counts(imp) != "3/0/1/1" {
				t.Fatalf("import: %s rows %d, %s %v", imp.Status, imp.Rows, counts(imp), imp.Errors)
			}
			want := "王五 1970, 李四 1960, 张伟 1950, 张伟 1980"
			if crash {
				want = strings.Replace(want, "1960", "1961", 1)
			}
			if got := namesYears(t, s, ctx, h.ID); got != want {
				t.Fatalf("household: %s, want %s", got, want)
			}
		})
	}
}
