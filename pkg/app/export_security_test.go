package app_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var (
	// fullMobile is an 11-digit mainland mobile number standing alone, not
	// inside a word such as a UUID's hex group (18268743669a once failed a run).
	fullMobile = regexp.MustCompile(`(^|[^0-9A-Za-z])1[3-9][0-9]{9}([^0-9A-Za-z]|$)`)
	// fullIDNumber is an 18-character ID number standing alone.
	fullIDNumber = regexp.MustCompile(`(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9A-Za-z]|$)`)
)

// exportCells downloads an export and returns every cell of it, read as a
// spreadsheet program reads it: CSV parsed, XLSX opened with excelize.
func exportCells(t *testing.T, h http.Handler, token, file string) [][]string {
	t.Helper()
	rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/"+file, token, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", file, rec.Code, rec.Body)
	}
	if strings.HasSuffix(file, ".csv") {
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return rows
	}
	x, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rows
}

// TestExportsAreMasked: the sub-district official's exports show no whole
// phone and no whole ID number; staff's show phones but no whole ID
// number; a community admin gets whole ID numbers only by asking
// (?id_numbers=full), which is audited, and nobody else may ask.
func TestExportsAreMasked(t *testing.T) {
	t.Parallel()
	a := demoApp(t)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)

	// The demo residents have no ID numbers: give one household a
	// resident with one, and a phone.
	homes := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/households?limit=1", staff, nil).Body.Bytes())
	if len(homes.Items) != 1 {
		t.Fatal("no demo household")
	}
	id := validID("450305", "19450601", "002")
	rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/residents", staff, map[string]any{
		"household_id": homes.Items[0].ID, "name": "王秀英", "phone": "13800138000", "id_number": id})
	if rec.Code != http.StatusCreated {
		t.Fatalf("resident: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct {
		who        string
		token      string
		phonesSeen bool
	}{{"official", official, false}, {"staff", staff, true}} {
		for _, file := range []string{"residents.csv", "residents.xlsx", "households.csv", "households.xlsx"} {
			t.Run(c.who+"/"+file, func(t *testing.T) {
				rows := exportCells(t, h, c.token, file)
				if len(rows) < 100 {
					t.Fatalf("%d rows: not the demo roster", len(rows))
				}
				mobiles := 0
				for _, row := range rows {
					for _, cell := range row {
						if fullIDNumber.MatchString(cell) {
							t.Fatalf("a whole ID number in %q", row)
						}
						if fullMobile.MatchString(cell) {
							if !c.phonesSeen {
								t.Fatalf("a whole phone number in %q", row)
							}
							mobiles++
						}
					}
				}
				if c.phonesSeen && mobiles == 0 {
					t.Error("staff's export has no phone at all: the test would prove nothing")
				}
				if strings.HasPrefix(file, "residents") && !hasCell(rows, id[:4]+"**********"+id[14:]) {
					t.Error("the resident's masked ID number is not in the export")
				}
			})
		}
	}

	// Whole ID numbers: a community admin's, on request, audited.
	if rows := exportCells(t, h, admin, "residents.csv"); hasCell(rows, id) {
		t.Error("the admin's default export shows a whole ID number")
	}
	rows := exportCells(t, h, admin, "residents.xlsx?id_numbers=full")
	if !hasCell(rows, id) {
		t.Error("the admin's export with id_numbers=full lacks the ID number")
	}
	for _, token := range []string{staff, official} {
		rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/residents.csv?id_numbers=full", token, nil)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"forbidden"`) {
			t.Errorf("id_numbers=full for another role: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/exports/residents.csv?id_numbers=yes", admin, nil); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("id_numbers=yes: %d %s", rec.Code, rec.Body)
	}
	body := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/audit?action=export&limit=50", admin, nil).Body.String()
	if !strings.Contains(body, `"id_numbers":"full"`) || !strings.Contains(body, `"id_numbers":"masked"`) {
		t.Errorf("exports are not audited with how ID numbers were written: %.2000s", body)
	}
}

func hasCell(rows [][]string, v string) bool {
	for _, row := range rows {
		for _, cell := range row {
			if cell == v {
				return true
			}
		}
	}
	return false
}

// spacesWorkbook is a residents workbook with a megabyte of spaces, in the
// header's first cell or after the first data row.
func spacesWorkbook(t *testing.T, inHeader bool) []byte {
	t.Helper()
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	const rel = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	spaces := strings.Repeat(" ", 1<<20)
	sheet := `<worksheet ` + ns + `><sheetData><row r="1"><c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>地址</t></is></c></row>` +
		`<row r="2"><c t="inlineStr"><is><t>张三</t></is></c><c t="inlineStr"><is><t>育才路1号</t></is></c></row>` + spaces + `</sheetData></worksheet>`
	if inHeader {
		sheet = `<worksheet ` + ns + `><sheetData><row r="1"><c t="inlineStr"><is><t>姓名` + spaces + `</t></is></c></row></sheetData></worksheet>`
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + ns + ` xmlns:r="` + rel + `"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	} {
		w, _ := zw.Create(p[0])
		_, _ = io.WriteString(w, p[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadIn is upload with an Accept-Language.
func uploadIn(t *testing.T, h http.Handler, token, lang string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("kind", "residents")
	fw, _ := w.CreateFormFile("file", "bomb.xlsx")
	_, _ = fw.Write(data)
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/orgs/yucai/imports", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", lang)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestUploadSpacesBomb: a workbook of spaces reaches the uploader as the
// API's error, in Chinese and English: at upload when the spaces are in the
// header, on the import's status when they come after the first data row
// (the upload reads no further).
func TestUploadSpacesBomb(t *testing.T) {
	t.Parallel()
	a := demoApp(t)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	for lang, want := range map[string]string{"zh-CN": "单元格的内容超过 32 KB", "en": "more than 32 KB"} {
		rec := uploadIn(t, h, staff, lang, spacesWorkbook(t, true))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"field":"file"`) || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s", lang, rec.Code, rec.Body)
		}
	}
	rec := uploadIn(t, h, staff, "zh-CN", spacesWorkbook(t, false))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload with a good head: %d %s", rec.Code, rec.Body)
	}
	v := waitImport(t, h, staff, decode[idView](t, rec.Body.Bytes()).ID)
	if v.Status != "failed" || v.Created != 0 {
		t.Fatalf("import: %+v", v)
	}
	for lang, want := range map[string]string{"zh-CN": "单元格的内容超过 32 KB", "en": "more than 32 KB"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/orgs/yucai/imports/"+v.ID, nil)
		req.Header.Set("Authorization", "Bearer "+staff)
		req.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := decode[struct {
			Message string `json:"message"`
		}](t, rec.Body.Bytes()); !strings.Contains(got.Message, want) {
			t.Errorf("%s: import message %q", lang, got.Message)
		}
	}
}
