package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// csvCase is one upload and what reading it must give.
type csvCase struct {
	name    string
	data    []byte
	fields  []Field // nil: testFields
	limits  Limits
	wantErr string // key of Open's error
	want    got
	wantEnd string // key of the error that ended reading; "" for io.EOF
}

func TestCSV(t *testing.T) {
	// asciiRows is more than the 64 KiB sample of ASCII rows, to push the
	// first non-ASCII byte past the first buffer.
	asciiRows := strings.Repeat("zhang san,13800000000\n", 4000)
	sampleOfChinese := strings.Repeat("张三,13800000000\n", 4000) // > 64 KiB

	tests := []csvCase{
		{
			name: "utf8 with BOM",
			data: []byte("\xEF\xBB\xBF姓名,手机号\n张三,13812345678\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678||")}}},
		},
		{
			name: "utf8 without BOM, CRLF",
			data: []byte("姓名,地址\r\n张三,幸福路1号\r\n李四,和平街2号\r\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "地址"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|||幸福路1号")}, {Line: 3, Values: vals("李四|||和平街2号")}}},
		},
		{
			name: "GBK",
			data: gbk(t, "姓名,手机号,地址\r\n张三,13812345678,幸福路1号\r\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号", "地址"}, Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678||幸福路1号")}}},
		},
		{
			name: "GBK text only after 64 KiB of ASCII",
			data: append(gbk(t, "name,phone\n"+asciiRows), gbk(t, "王五,13900000000\n")...),
			want: got{Format: CSV, Columns: []string{"name", "phone"}},
		},
		{
			name: "tab delimited",
			data: []byte("姓名\t手机号\t地址\n张三\t13812345678\t幸福路1号, 3栋\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号", "地址"}, Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678||幸福路1号, 3栋")}}},
		},
		{
			name: "semicolon delimited",
			data: []byte("name;phone;address\n\"Zhang, San\";13812345678;Road 1\n"),
			want: got{Format: CSV, Columns: []string{"name", "phone", "address"}, Rows: []gotRow{{Line: 2, Values: vals("Zhang, San|13812345678||Road 1")}}},
		},
		{
			name: "UTF-16LE unicode text",
			data: utf16LE(t, "姓名\t手机号\r\n张三\t13812345678\r\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678||")}}},
		},
		{
			name: "Chinese and English headers mixed, case and width folded",
			data: []byte("Name,手机号,ＩＤ_Number,ADDRESS\n张三,1,2,3\n"),
			want: got{Format: CSV, Columns: []string{"Name", "手机号", "ＩＤ_Number", "ADDRESS"}, Rows: []gotRow{{Line: 2, Values: vals("张三|1|2|3")}}},
		},
		{
			name: "header decorations: spaces, full-width parentheses, star, colon",
			data: []byte(" 姓 名 *,身份证号（选填）,手机号(必填),住址：\n张三,110101199003074514,13812345678,幸福路\n"),
			want: got{Format: CSV, Columns: []string{"姓 名 *", "身份证号（选填）", "手机号(必填)", "住址："},
				Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678|110101199003074514|幸福路")}}},
		},
		{
			name: "unknown columns reported",
			data: []byte("姓名,民族,手机号,备注\n张三,汉,1,无\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "民族", "手机号", "备注"}, Unknown: []string{"民族", "备注"},
				Rows: []gotRow{{Line: 2, Values: vals("张三|1||")}}},
		},
		{
			name:    "missing required column",
			data:    []byte("手机号,地址\n1,2\n"),
			wantErr: "sheet_missing_columns",
		},
		{
			name:    "duplicate column",
			data:    []byte("姓名,手机号,名字\n张三,1,张三\n"),
			wantErr: "sheet_duplicate_column",
		},
		{
			name:    "duplicate column through width folding",
			data:    []byte("phone,姓名,ＰＨＯＮＥ\n1,张三,2\n"),
			wantErr: "sheet_duplicate_column",
		},
		{name: "empty file", data: nil, wantErr: "sheet_empty"},
		{name: "blank lines only", data: []byte("\r\n\n  \n,,\n"), wantErr: "sheet_empty"},
		{name: "BOM only", data: []byte("\xEF\xBB\xBF"), wantErr: "sheet_empty"},
		{name: "header only", data: []byte("姓名,手机号\n"), wantErr: "sheet_empty"},
		{name: "header and blank rows only", data: []byte("姓名,手机号\n,\n\n \n"), wantErr: "sheet_empty"},
		{
			name: "blank rows skipped, Line counts them",
			data: []byte("\n姓名,手机号\n\n张三,1\n,\n\u3000,\n李四,2\n\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{
				{Line: 4, Values: vals("张三|1||")}, {Line: 7, Values: vals("李四|2||")}}},
		},
		{
			name: "title rows above the header",
			data: []byte("幸福社区居民花名册,,\n制表日期：2024-01-01,,\n姓名,手机号,地址\n张三,1,幸福路\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号", "地址"}, Rows: []gotRow{{Line: 4, Values: vals("张三|1||幸福路")}}},
		},
		{
			name: "title row with a stray quote is skipped",
			data: []byte("幸福社区\"花名册\",,\n姓名,手机号\n张三,1\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 3, Values: vals("张三|1||")}}},
		},
		{
			name:    "unparsable header",
			data:    []byte("姓\"名,手机号\n张三,1\n"),
			wantErr: "sheet_row_bad_quote",
		},
		{
			name:    "no header among the first rows",
			data:    []byte("a,b\nc,d\n"),
			wantErr: "sheet_missing_columns",
		},
		{
			name: "quoted cells with delimiters, quotes and line breaks keep Line right",
			data: []byte("姓名,地址,手机号\n\"张,三\",\"幸福路1号\n3栋\n201\",1\n\n\"李\"\"四\",\"a\r\nb\",2\n王五,c,3\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "地址", "手机号"}, Rows: []gotRow{
				{Line: 2, Values: vals("张,三|1||幸福路1号\n3栋\n201")},
				{Line: 4, Values: vals("李\"四|2||a\nb")},
				{Line: 5, Values: vals("王五|3||c")},
			}},
		},
		{
			name: "multi-line first cell",
			data: []byte("地址,姓名\n\"a\nb\nc\",张三\n\n,李四\n"),
			want: got{Format: CSV, Columns: []string{"地址", "姓名"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|||a\nb\nc")}, {Line: 4, Values: vals("李四|||")}}},
		},
		{
			name: "bad quote reported with its Line, reading goes on",
			data: []byte("姓名,手机号\n张三,1\n李\"四,2\n\n王五,\"3\"x\n赵六,4\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|1||")},
				{Line: 3, Key: "sheet_row_bad_quote"},
				{Line: 5, Key: "sheet_row_bad_quote"},
				{Line: 6, Values: vals("赵六|4||")},
			}},
		},
		{
			name: "unterminated quote swallows the rest",
			data: []byte("姓名,手机号\n张三,1\n\"李四,2\n王五,3\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|1||")},
				{Line: 3, Key: "sheet_row_bad_quote"},
			}},
		},
		{
			name: "short rows and long rows",
			data: []byte("姓名,手机号,地址\n张三\n李四,2,x,extra,cells\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号", "地址"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|||")}, {Line: 3, Values: vals("李四|2||x")}}},
		},
		{
			name: "cells trimmed, full-width and no-break spaces too",
			data: []byte("姓名,手机号\n\u3000张三\u3000, 138\u00a0\n"),
			want: got{Format: CSV, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 2, Values: vals("张三|138||")}}},
		},
		{
			name:   "cell too long is a row error; unmapped columns are not checked",
			data:   []byte("姓名,备注\n张三丰丰,x\n李四,很长很长很长的备注\n"),
			limits: Limits{MaxCellRunes: 3},
			want: got{Format: CSV, Columns: []string{"姓名", "备注"}, Unknown: []string{"备注"}, Rows: []gotRow{
				{Line: 2, Key: "sheet_row_cell_too_long"}, {Line: 3, Values: vals("李四|||")}}},
		},
		{
			name:   "too many rows",
			data:   []byte("姓名\n张三\n\n李四\n王五\n"),
			limits: Limits{MaxRows: 2},
			want: got{Format: CSV, Columns: []string{"姓名"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|||")}, {Line: 4, Values: vals("李四|||")}}},
			wantEnd: "sheet_too_many_rows",
		},
		{
			name:    "too large at open",
			data:    []byte("姓名\n张三\n"),
			limits:  Limits{MaxBytes: 8},
			wantErr: "sheet_too_large",
		},
		{
			name:    "exactly MaxBytes is fine",
			data:    []byte("姓名\n张三\n"),
			limits:  Limits{MaxBytes: int64(len("姓名\n张三\n"))},
			want:    got{Format: CSV, Columns: []string{"姓名"}, Rows: []gotRow{{Line: 2, Values: vals("张三|||")}}},
			wantEnd: "",
		},
		{
			name:    "Latin-1 is neither UTF-8 nor GBK",
			data:    []byte("name,city\nRen\xe9,Z\xfcrich\n"),
			wantErr: "sheet_bad_encoding",
		},
		{
			name: "one-column file",
			data: []byte("姓名\n张三\n"),
			want: got{Format: CSV, Columns: []string{"姓名"}, Rows: []gotRow{{Line: 2, Values: vals("张三|||")}}},
		},
		{
			name: "header cells padded by Excel are not columns",
			data: []byte("姓名,,,\n张三,,,\n"),
			want: got{Format: CSV, Columns: []string{"姓名"}, Rows: []gotRow{{Line: 2, Values: vals("张三|||")}}},
		},
		{
			name:   "no fields: header is the first row, everything unknown",
			data:   []byte("a,b\n1,2\n"),
			fields: []Field{},
			want:   got{Format: CSV, Columns: []string{"a", "b"}, Unknown: []string{"a", "b"}, Rows: []gotRow{{Line: 2}}},
		},
	}
	// Fill in rows computed from repetition rather than written out.
	for i := range tests {
		switch tests[i].name {
		case "GBK text only after 64 KiB of ASCII":
			for j := 0; j < 4000; j++ {
				tests[i].want.Rows = append(tests[i].want.Rows, gotRow{Line: j + 2, Values: []string{"zhang san", "13800000000", "", ""}})
			}
			tests[i].want.Rows = append(tests[i].want.Rows, gotRow{Line: 4002, Values: vals("王五|13900000000||")})
		}
	}
	tests = append(tests, csvCase{
		name: "bad bytes after the sample are a row error",
		data: []byte("姓名,手机号\n" + sampleOfChinese + "\xff\xfe,1\n李四,2\n"),
		want: func() got {
			g := got{Format: CSV, Columns: []string{"姓名", "手机号"}}
			for j := 0; j < 4000; j++ {
				g.Rows = append(g.Rows, gotRow{Line: j + 2, Values: vals("张三|13800000000||")})
			}
			g.Rows = append(g.Rows, gotRow{Line: 4002, Key: "sheet_row_bad_encoding"}, gotRow{Line: 4003, Values: vals("李四|2||")})
			return g
		}(),
	}, csvCase{
		name: "GBK bytes that do not decode after the sample are a row error",
		data: append(gbk(t, "姓名,手机号\n"+strings.Repeat("张三,1\n", 12000)), []byte("\x81\x20,1\n"+string(gbk(t, "李四,2\n")))...),
		want: func() got {
			g := got{Format: CSV, Columns: []string{"姓名", "手机号"}}
			for j := 0; j < 12000; j++ {
				g.Rows = append(g.Rows, gotRow{Line: j + 2, Values: vals("张三|1||")})
			}
			g.Rows = append(g.Rows, gotRow{Line: 12002, Key: "sheet_row_bad_encoding"}, gotRow{Line: 12003, Values: vals("李四|2||")})
			return g
		}(),
	})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields
			if fields == nil {
				fields = testFields
			}
			g, err := readUpload(t, tt.data, fields, tt.limits)
			if tt.wantErr != "" {
				if errKey(err) != tt.wantErr {
					t.Fatalf("Open error = %v, want key %s", err, tt.wantErr)
				}
				var se *Error
				if !errors.As(err, &se) {
					t.Fatalf("Open error %T is not *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if errKey(g.End) != tt.wantEnd {
				t.Errorf("reading ended with %v, want key %q", g.End, tt.wantEnd)
			}
			g.End = nil
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got  %s\nwant %s", show(g), show(tt.want))
			}
		})
	}
}

// show prints a got compactly, eliding long row lists.
func show(g got) string {
	rows := g.Rows
	var b strings.Builder
	b.WriteString(string(g.Format) + " cols=" + strings.Join(g.Columns, "|") + " unknown=" + strings.Join(g.Unknown, "|") + "\n")
	if len(rows) > 12 {
		rows = append(append([]gotRow(nil), rows[:6]...), rows[len(rows)-6:]...)
	}
	for _, r := range rows {
		b.WriteString("  ")
		b.WriteString(fmt.Sprintf("%d %s %q", r.Line, r.Key, r.Values))
		b.WriteString("\n")
	}
	return b.String()
}

func utf16LE(t *testing.T, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCSVStreamingTooLarge checks that MaxBytes is enforced while
// streaming: rows within the limit come out, then reading ends.
func TestCSVStreamingTooLarge(t *testing.T) {
	data := []byte("姓名\n" + strings.Repeat("张三\n", 100_000)) // ~700 KB
	g, err := readUpload(t, data, testFields, Limits{MaxBytes: 200 << 10})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if errKey(g.End) != "sheet_too_large" {
		t.Fatalf("ended with %v, want sheet_too_large", g.End)
	}
	if n := len(g.Rows); n == 0 || n*len("张三\n") > 200<<10 {
		t.Errorf("read %d rows before the limit", n)
	}
}

// TestDelimiter covers the header-line heuristic on its own.
func TestDelimiter(t *testing.T) {
	tests := []struct {
		in   string
		want rune
	}{
		{"a,b,c\n", ','},
		{"a\tb\tc\n", '\t'},
		{"a;b;c\n", ';'},
		{"a;b,c\n", ','},            // tie → comma
		{"\"a,b\";c;d\n1,2\n", ';'}, // quoted commas don't count
		{"title\n\na\tb\n", '\t'},   // lines without any delimiter are skipped
		{"onecolumn\nvalue\n", ','}, // none at all
		{"\"x\ny,z\";w;v\n", ';'},   // quote spanning lines
		{"名字\t电话,手机\t地址\n", '\t'},   // tab wins by count
	}
	for _, tt := range tests {
		if got := detectDelimiter([]byte(tt.in)); got != tt.want {
			t.Errorf("detectDelimiter(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTrimPartialRune guards the 64 KiB sample cut.
func TestTrimPartialRune(t *testing.T) {
	zh := []byte("张") // 3 bytes
	tests := []struct {
		in, want []byte
	}{
		{nil, nil},
		{[]byte("ab"), []byte("ab")},
		{append([]byte("a"), zh...), append([]byte("a"), zh...)},
		{append([]byte("a"), zh[:2]...), []byte("a")},
		{append([]byte("a"), zh[:1]...), []byte("a")},
		{[]byte{0xff}, []byte{0xff}}, // invalid, not partial: left for the validity check
	}
	for _, tt := range tests {
		if got := trimPartialRune(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("trimPartialRune(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
