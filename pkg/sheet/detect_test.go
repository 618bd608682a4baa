package sheet

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestFixtures opens the checked-in files: what people actually upload.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file     string
		wantErr  error
		detected string
		want     got
	}{
		{file: "roster.xlsx", want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号（选填）", "民族"}, Unknown: []string{"民族"},
			Rows: []gotRow{{Line: 3, Values: vals("张三|13812345678|450305000000000000|")}, {Line: 5, Values: vals("李四|||")}}}},
		{file: "roster-gbk.csv", want: got{Format: CSV, Columns: []string{"姓名", "手机号", "身份证号", "地址"},
			Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678|110101199003074514|幸福路1号")}, {Line: 3, Values: vals("李四|13912345678||和平街2号, 3栋")}}}},
		{file: "legacy.xls", wantErr: ErrLegacyXLS, detected: "XLS"},
		{file: "scan.pdf", wantErr: ErrNotSpreadsheet, detected: "PDF"},
		{file: "pixel.png", wantErr: ErrNotSpreadsheet, detected: "PNG"},
		{file: "photo.jpg", wantErr: ErrNotSpreadsheet, detected: "JPEG"},
		{file: "photos.zip", wantErr: ErrNotSpreadsheet, detected: "ZIP"},
		{file: "export-html.xls", wantErr: ErrNotSpreadsheet, detected: "HTML"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			g, err := readUpload(t, data, testFields, Limits{})
			if tt.wantErr != nil {
				var se *Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &se) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if se.Args["detected"] != tt.detected || se.Args["file"] != "upload" {
					t.Errorf("Args = %v, want detected %s", se.Args, tt.detected)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got  %s\nwant %s", show(g), show(tt.want))
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name     string
		head     string
		kind     kind
		detected string
	}{
		{"csv", "姓名,手机号\n", kindText, ""},
		{"gbk bytes are text", "\xd0\xd5\xc3\xfb,1\r\n", kindText, ""},
		{"xlsx", "PK\x03\x04\x14\x00", kindZip, "ZIP"},
		{"empty zip", "PK\x05\x06\x00\x00", kindOther, "ZIP"},
		{"ole2", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00", kindOLE2, "XLS"},
		{"pdf", "%PDF-1.7\n", kindOther, "PDF"},
		{"png", "\x89PNG\r\n\x1a\n\x00", kindOther, "PNG"},
		{"jpeg", "\xFF\xD8\xFF\xE0", kindOther, "JPEG"},
		{"gzip", "\x1F\x8B\x08", kindOther, "GZIP"},
		{"html export", "\n  <!DOCTYPE HTML><html>", kindOther, "HTML"},
		{"spreadsheetml 2003", "<?xml version=\"1.0\"?><?mso-application progid=\"Excel.Sheet\"?>", kindOther, "XML"},
		{"NUL in text", "姓名\x00,1\n", kindOther, "binary"},
		{"control bytes", "a,b\n\x01\x02\x03", kindOther, "binary"},
		{"tabs, CR, form feed are text", "a\tb\r\n\f", kindText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, d := sniff([]byte(tt.head))
			if k != tt.kind || d != tt.detected {
				t.Errorf("sniff = %v %q, want %v %q", k, d, tt.kind, tt.detected)
			}
		})
	}
}

func TestNormalizeAndMatch(t *testing.T) {
	m, err := newMatcher(testFields)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		title string
		want  string // field name, "" for none
	}{
		{"姓名", "name"},
		{" 姓\u3000名 ", "name"},
		{"姓名*", "name"},
		{"*姓名：", "name"},
		{"NAME", "name"},
		{"ｎａｍｅ", "name"},
		{"\uFEFF姓名", "name"},
		{"身份证号（选填）", "id_number"},
		{"身份证号(必填)", "id_number"},
		{"身份证号码", "id_number"},
		{"ID_Number", "id_number"},
		{"id number", ""}, // the underscore is not ignored
		{"手机号（用于通知）", "phone"},
		{"备注", ""},
		{"", ""},
		{"()", ""},
		{"(姓名)", "name"},    // the parentheses themselves are ignored first
		{"姓名 name", "name"}, // wanjia's own exports
		{"姓名/name", "name"},
		{"name　姓名", "name"},
		{"身份证号 id_number", "id_number"},
		{"姓名 phone", ""}, // two fields: neither
		{"姓名 备注", ""},
	}
	for _, tt := range tests {
		got := ""
		if i := m.match(tt.title); i >= 0 {
			got = testFields[i].Name
		}
		if got != tt.want {
			t.Errorf("match(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestExactAliasBeatsStrippedRemark(t *testing.T) {
	fields := []Field{
		{Name: "phone", Aliases: []string{"电话"}},
		{Name: "home_phone", Aliases: []string{"电话（家）"}},
	}
	m, err := newMatcher(fields)
	if err != nil {
		t.Fatal(err)
	}
	for title, want := range map[string]int{"电话": 0, "电话(家)": 1, "电话（单位）": 0} {
		if got := m.match(title); got != want {
			t.Errorf("match(%q) = %d, want %d", title, got, want)
		}
	}
}

func TestMatcherRejectsSharedAlias(t *testing.T) {
	_, err := newMatcher([]Field{{Name: "a", Aliases: []string{"电话"}}, {Name: "b", Aliases: []string{"电 话"}}})
	if err == nil {
		t.Fatal("two fields with one alias accepted")
	}
	var se *Error
	if errors.As(err, &se) {
		t.Errorf("a programming error should not look like a user error: %v", err)
	}
}

func TestMissingAndDuplicateArgs(t *testing.T) {
	m, _ := newMatcher([]Field{
		{Name: "name", Aliases: []string{"姓名", "name", "名字"}, Required: true},
		{Name: "id_number", Aliases: []string{"身份证号", "id_number"}, Required: true},
		{Name: "x", Required: true},
		{Name: "phone", Aliases: []string{"手机号"}},
	})
	_, err := m.mapHeader([]string{"手机号"})
	var se *Error
	if !errors.As(err, &se) || se.Key != keyMissingColumns || se.Args["columns"] != "姓名/name, 身份证号/id_number, x" {
		t.Errorf("missing: %v", err)
	}
	_, err = m.mapHeader([]string{"姓名", "x", "名字"})
	if !errors.As(err, &se) || se.Key != keyDuplicateColumn || se.Args["column"] != "姓名/name" || se.Args["headers"] != "姓名, 名字" {
		t.Errorf("duplicate: %v", err)
	}
}

// TestMessages checks every key this package can return has both texts.
func TestMessages(t *testing.T) {
	keys := []string{keyEmpty, keyNotSpreadsheet, keyLegacyXLS, keyCorrupt, keyTooLarge, keyTooManyRows,
		keyMissingColumns, keyBadEncoding, keyDuplicateColumn, keyRowBadQuote, keyRowCellTooLong, keyRowBadEncoding}
	for _, k := range keys {
		m, ok := i18n.Lookup(k)
		if !ok || m.ZH == "" || m.EN == "" {
			t.Errorf("message %s not registered", k)
		}
	}
	got := i18n.T(i18n.ZH, keyMissingColumns, map[string]any{"columns": "姓名/name"})
	if got != "缺少必需的列：姓名/name；请检查表头行的列名" {
		t.Errorf("rendered %q", got)
	}
}
