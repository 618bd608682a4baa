package roster_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// as is ctx acting as user with role, for the service and the audit log.
func as(ctx context.Context, user, role string) context.Context {
	ctx = authz.WithCaller(ctx, authz.Caller{UserID: "u-" + user, Username: user, Role: role})
	return audit.WithActor(ctx, audit.Actor{UserID: "u-" + user, Username: user, Role: role, Org: "bench", OrgPath: "/bench/"})
}

// idNumber is a valid ID number: 17 digits and their check digit.
func idNumber(body17 string) string { return body17 + string(pii.CheckDigit(body17)) }

// formulaLead reports a cell a spreadsheet program would run as a formula.
func formulaLead(cell string) bool {
	return cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0]))
}

// readCSV parses an export as a spreadsheet program would see it.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestExportsNeutraliseFormulas: names, addresses, notes, tags and
// building names that look like formulas are written to CSV exports and
// rejected-row files with a leading apostrophe, and to XLSX as plain
// string cells; either file imports back onto the roster unchanged.
func TestExportsNeutraliseFormulas(t *testing.T) {
	db := storetest.New(t)
	staff := community(t, db)
	admin := as(staff, "admin", authz.RoleCommunityAdmin)
	s := &roster.Service{DB: db}

	values := []string{"=1+2", "-5", "@x", "+86 138 0013 8000", "=HYPERLINK(\"http://evil\",\"点我\")", "@SUM(A1:A2)", "-2+3"}
	b, err := s.CreateBuilding(staff, roster.BuildingInput{Grid: "g1", Name: "=楼栋", Address: "@七星路"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, v := range values {
		// Tags are joined with commas in one cell, whose first character
		// is the one that matters.
		in := roster.HouseholdInput{Grid: "g1", Address: v, Notes: v, Tags: []string{"=t", "@t"}}
		if i%2 == 1 { // some in the building, by unit and room
			in = roster.HouseholdInput{Grid: "g1", BuildingID: b.ID, Unit: "-" + itoa(i), Room: "+" + itoa(i), Notes: v}
		}
		h, err := s.CreateHousehold(staff, in)
		if err != nil {
			t.Fatalf("household %q: %v", v, err)
		}
		r := roster.ResidentInput{HouseholdID: h.ID, Name: v, Phone: "+86138000012" + itoa(10+i), Tags: []string{"-t", "+t"}}
		if i%2 == 0 {
			r.IDNumber = idNumber("45030519500101" + itoa(100+i))
		}
		if _, err := s.CreateResident(staff, r); err != nil {
			t.Fatalf("resident %q: %v", v, err)
		}
		names = append(names, v)
	}

	for _, c := range []struct {
		who  string
		ctx  context.Context
		kind string
		opts roster.ExportOptions
		n    int
	}{
		{"staff", staff, roster.KindHouseholds, roster.ExportOptions{}, len(values)},
		{"staff", staff, roster.KindResidents, roster.ExportOptions{}, len(values)},
		{"admin, whole ID numbers", admin, roster.KindResidents, roster.ExportOptions{FullIDNumbers: true}, len(values)},
	} {
		for _, format := range []string{"csv", "xlsx"} {
			t.Run(c.who+"/"+c.kind+"."+format, func(t *testing.T) {
				var file bytes.Buffer
				if err := s.ExportWith(c.ctx, c.kind, format, c.opts, &file); err != nil {
					t.Fatal(err)
				}
				if format == "csv" {
					rows := readCSV(t, file.Bytes())
					for _, row := range rows {
						for _, cell := range row {
							if formulaLead(cell) {
								t.Errorf("cell %q would run as a formula (row %q)", cell, row)
							}
						}
					}
					if !strings.Contains(file.String(), "'=1+2") {
						t.Errorf("the name =1+2 is not in the file as '=1+2:\n%s", file.String())
					}
				} else {
					checkStringCells(t, file.Bytes(), "=1+2")
				}
				imp, err := s.ImportNow(c.ctx, c.kind, "export."+format, file.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if imp.Rows != c.n || imp.Unchanged != c.n || imp.Created != 0 || imp.Updated != 0 || imp.ErrorCount != 0 {
					t.Errorf("re-imported: rows %d unchanged %d created %d updated %d errors %v",
						imp.Rows, imp.Unchanged, imp.Created, imp.Updated, imp.Errors)
				}
			})
		}
	}
	got, _, err := s.ListResidents(staff, roster.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range got {
		stored = append(stored, r.Name)
		if !strings.HasPrefix(r.Phone, "138000012") || len(r.Phone) != 11 {
			t.Errorf("%s's phone %q: not the normalised +86 number", r.Name, r.Phone)
		}
	}
	sort.Strings(stored)
	sort.Strings(names)
	if !slices.Equal(stored, names) {
		t.Errorf("names after the round trips %q, want %q", stored, names)
	}
}

// checkStringCells opens an XLSX export, checks that it holds no formula
// at all and that want is a string cell excelize reads back as written.
func checkStringCells(t *testing.T, data []byte, want string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/") {
			continue
		}
		rc, _ := f.Open()
		xml, _ := io.ReadAll(rc)
		_ = rc.Close()
		if bytes.Contains(xml, []byte("<f>")) || bytes.Contains(xml, []byte("<f ")) || bytes.Contains(xml, []byte(`t="str"`)) {
			t.Errorf("%s holds a formula", f.Name)
		}
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			if v != want {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if typ, _ := x.GetCellType(x.GetSheetList()[0], cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("%s = %q is a cell of type %v, not a string", cell, v, typ)
			}
			return
		}
	}
	t.Errorf("%q is not in the workbook", want)
}

// TestRejectedRowsNeutraliseFormulas: the rejected-rows file is a CSV the
// office opens too; what it typed comes back as text, and the fixed file
// imports the values as they were typed.
func TestRejectedRowsNeutraliseFormulas(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	upload := "姓名,电话,网格,地址\n" +
		"=1+2,12345,g1,@七星路1号\n" + // a bad phone
		"-5,12345,g1,+七星路2号\n"
	imp, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(upload))
	if err != nil {
		t.Fatal(err)
	}
	if imp.ErrorCount != 2 {
		t.Fatalf("import: %+v", imp)
	}
	var file bytes.Buffer
	if err := s.RejectedRows(ctx, imp.ID, "csv", i18n.ZH, &file); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, file.Bytes())
	for _, row := range rows {
		for _, cell := range row {
			if formulaLead(cell) {
				t.Errorf("rejected file cell %q would run as a formula", cell)
			}
		}
	}
	// The office fixes the phones and uploads the file as it is.
	var fixed bytes.Buffer
	w := csv.NewWriter(&fixed)
	for i, r := range rows {
		if i > 0 {
			r[3] = "1390000000" + itoa(i)
		}
		_ = w.Write(r)
	}
	w.Flush()
	again, err := s.ImportNow(ctx, roster.KindResidents, "rejected.csv", fixed.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if again.Created != 2 || again.ErrorCount != 0 {
		t.Fatalf("fixed file: %+v", again)
	}
	got, _, _ := s.ListResidents(ctx, roster.Filter{Limit: 10})
	names := map[string]bool{}
	for _, r := range got {
		names[r.Name] = true
	}
	if !names["=1+2"] || !names["-5"] {
		t.Errorf("names after the fixed import: %v", names)
	}
}

// TestExportIDNumbers: an export masks ID numbers as lists do, for
// everyone, unless a community admin asks for them whole; anyone else who
// asks is refused. A whole-number export is audited as such, and a masked
// export still imports back without touching the numbers on the roster.
func TestExportIDNumbers(t *testing.T) {
	db := storetest.New(t)
	staff := community(t, db)
	admin := as(staff, "admin", authz.RoleCommunityAdmin)
	official := as(staff, "official", authz.RoleSubdistrictOfficial)
	s := &roster.Service{DB: db}
	h, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号", Phone: "13900002222"})
	if err != nil {
		t.Fatal(err)
	}
	id := idNumber("45030519450601002")
	if _, err := s.CreateResident(staff, roster.ResidentInput{HouseholdID: h.ID, Name: "王秀英", Phone: "13900002222", IDNumber: id}); err != nil {
		t.Fatal(err)
	}
	masked := pii.MaskID(id)

	export := func(ctx context.Context, opts roster.ExportOptions) ([][]string, error) {
		var file bytes.Buffer
		if err := s.ExportWith(ctx, roster.KindResidents, "csv", opts, &file); err != nil {
			return nil, err
		}
		return readCSV(t, file.Bytes()), nil
	}
	for _, c := range []struct {
		who       string
		ctx       context.Context
		full      bool
		wantID    string
		wantPhone string
		refused   bool
	}{
		{"staff", staff, false, masked, "13900002222", false},
		{"staff asking for whole numbers", staff, true, "", "", true},
		{"admin", admin, false, masked, "13900002222", false},
		{"admin asking for whole numbers", admin, true, id, "13900002222", false},
		{"official", official, false, masked, pii.MaskPhone("13900002222"), false},
		{"official asking for whole numbers", official, true, "", "", true},
	} {
		t.Run(c.who, func(t *testing.T) {
			rows, err := export(c.ctx, roster.ExportOptions{FullIDNumbers: c.full})
			if c.refused {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindForbidden {
					t.Fatalf("err = %v, want 403", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[1][0] != "王秀英" || rows[1][1] != c.wantPhone || rows[1][2] != c.wantID {
				t.Fatalf("export: %q", rows)
			}
			if idTitle := rows[0][2]; (c.wantID == masked) != strings.Contains(idTitle, "masked") {
				t.Errorf("ID number column titled %q", idTitle)
			}
		})
	}

	entries, _, err := audit.List(storetest.Unguarded(context.Background()), db, audit.Filter{OrgPath: "/bench/", Action: audit.ActionExport, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for _, e := range entries {
		switch {
		case e.Resource != roster.KindResidents:
		case e.Actor == "admin" && e.Details["id_numbers"] == "full":
			full++
		case e.Details["id_numbers"] != "masked":
			t.Errorf("export entry of %s: %+v", e.Actor, e.Details)
		}
	}
	if full != 1 {
		t.Errorf("%d audit entries of a whole-number export, want 1: %+v", full, entries)
	}

	// Staff re-import their masked export: the masked column is not read,
	// so nothing changes and the ID number on the roster stays whole.
	var file bytes.Buffer
	if err := s.Export(staff, roster.KindResidents, "csv", &file); err != nil {
		t.Fatal(err)
	}
	imp, err := s.ImportNow(staff, roster.KindResidents, "export.csv", file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if imp.Unchanged != 1 || imp.ErrorCount != 0 {
		t.Fatalf("re-import of a masked export: %+v", imp)
	}
	rows, err := export(admin, roster.ExportOptions{FullIDNumbers: true})
	if err != nil || rows[1][2] != id {
		t.Fatalf("after the re-import: %q %v", rows, err)
	}
}
