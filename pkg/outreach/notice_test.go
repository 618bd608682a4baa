package outreach_test

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

// named is a provider known by its name alone: billing depends on nothing
// else (the preview never sends).
type named struct {
	provider.Provider
	name string
}

func (n named) Name() string { return n.name }

// TestParts: the preview counts a text's SMS parts as the provider bills
// them: Aliyun with its 【sign】 (the template's, else the default), the
// others the text alone.
func TestParts(t *testing.T) {
	text65 := strings.Repeat("通", 65) // one part alone; two with a 【sign】 of four
	for _, c := range []struct {
		name     string
		provider provider.Provider
		sign     string // the template's
		text     string
		want     int
	}{
		{"log: the text alone", nil, "万家社区", text65, 1},
		{"twilio: the text alone", named{name: "twilio"}, "万家社区", text65, 1},
		{"aliyun: the template's sign counts", named{name: "aliyun"}, "万家社区", text65, 2},
		{"aliyun: the default sign counts", named{name: "aliyun"}, "", text65, 2},
		{"aliyun: a short text and sign", named{name: "aliyun"}, "万家", "明早核酸", 1},
		{"GSM-7 fits 160", nil, "", strings.Repeat("a", 160), 1},
		{"GSM-7 over 160", nil, "", strings.Repeat("a", 161), 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &outreach.Service{Provider: c.provider, SignName: "万家社区"}
			if got := s.Parts(c.text, c.sign); got != c.want {
				t.Fatalf("Parts = %d, want %d", got, c.want)
			}
		})
	}
}

// TestCheckNotice: the preview refuses what the group robot would.
func TestCheckNotice(t *testing.T) {
	for _, c := range []struct {
		name, format, text string
		ok                 bool
	}{
		{"text", outreach.FormatText, "停水通知", true},
		{"markdown", outreach.FormatMarkdown, "**停水**通知", true},
		{"text too long", outreach.FormatText, strings.Repeat("停", 5000), false},
		{"markdown too long", outreach.FormatMarkdown, strings.Repeat("停", 5000), false},
		{"unknown format", "html", "停水通知", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := outreach.CheckNotice(c.format, c.text); (err == nil) != c.ok {
				t.Fatalf("CheckNotice = %v, want ok %v", err, c.ok)
			}
		})
	}
	if outreach.NoticeFormats[0] != outreach.FormatText {
		t.Fatalf("the default format is %q, want text", outreach.NoticeFormats[0])
	}
}
