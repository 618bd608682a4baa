package roster_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// FuzzImport runs whatever rows a sheet holds through the whole import,
// validation and saving included, into one community. The file is either
// refused at upload with a client error, or the import finishes and every
// row is accounted for: saved (created, updated or unchanged) or explained
// with at least one error. Never a panic, never an internal error.
//
//	go test -run '^$' -fuzz FuzzImport ./pkg/roster
func FuzzImport(f *testing.F) {
	id := "45030519500101001"
	id += string(pii.CheckDigit(id))
	for _, seed := range []struct {
		households bool
		body       string
	}{
		{false, "张三,13900001111," + id + ",1950,男,独居 老人,g1,1栋,1单元,101,\n"},
		{false, "李四,0773-2851234,,1960年,女,,网格2,,,,七星路1号\n李四,0773-2851234,,1960年,女,,网格2,,,,七星路1号\n"},
		{false, "王五,12345,45030519500101001X,3000,x,,g9,1栋,,,\n,,,,,,,,,,\n"},
		{false, "\"赵,六\",\"139 0000 2222\",,,,\"a,b\",g1,2栋,1单元,\"1\n01\"\n"},
		{false, "钱七,13900003333,,,,,g2,1栋,1单元,101,\n"}, // 1栋 is in g1
		{true, "g1,1栋,1单元,101,0773-2851234,独居,三楼\ng1,1栋,1单元,101,,,\n"},
		{true, ",,,,,,\ng1,,,,,,\n网格3,,,,七星路2号,13800001111,\n"},
	} {
		f.Add(seed.households, seed.body)
	}
	db := storetest.New(f)
	ctx := community(f, db)
	s := &roster.Service{DB: db}
	f.Fuzz(func(t *testing.T, households bool, body string) {
		kind, header := roster.KindResidents, "姓名,电话,身份证号,出生年份,性别,标签,网格,楼栋,单元,房号,地址\n"
		if households {
			kind, header = roster.KindHouseholds, "网格,楼栋,单元,房号,地址,电话,标签,备注\n"
		}
		imp, err := s.ImportNow(ctx, kind, "fuzz.csv", []byte(header+body))
		if err != nil {
			if k := errs.KindOf(err); k == errs.KindValidation || k == errs.KindTooLarge {
				return // refused at upload, with a reason
			}
			t.Fatalf("import: %v", err)
		}
		if imp.Status == "failed" {
			if imp.Message == "" {
				t.Fatal("failed import without a message")
			}
			return
		}
		if imp.Status != "done" {
			t.Fatalf("import ended %s", imp.Status)
		}
		explained := map[int]bool{}
		for _, e := range imp.Errors {
			if e.Row < 1 || e.Key == "" {
				t.Fatalf("unexplained error %+v", e)
			}
			explained[e.Row] = true
		}
		if saved := imp.Created + imp.Updated + imp.Unchanged; saved+len(explained) != imp.Rows {
			t.Fatalf("%d rows: %d saved, %d explained: %+v", imp.Rows, saved, len(explained), imp.Errors)
		}
	})
}
