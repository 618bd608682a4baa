package isolation_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/width"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/isolation"
)

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     int // tenths; 0: not a check-in
		symptoms string
	}{
		{"36.8", 368, ""},
		{"体温36.8", 368, ""},
		{"36.8 咳嗽", 368, "cough"},
		{"体温：36.8℃", 368, ""},
		{"温度 37.5 度", 375, ""},
		{"３６．８", 368, ""},
		{"体温３７．３℃，咳嗽、乏力", 373, "cough,fatigue"},
		{"36.8咳嗽乏力", 368, "cough,fatigue"},
		{"38 发烧 喉咙痛", 380, "fever,sore_throat"},
		{"37.0°C 嗅觉/味觉减退", 370, "loss_of_smell_or_taste"},
		{"36.9 呼吸困难 腹泻 其他", 369, "shortness_of_breath,diarrhoea,other"},
		{"36.5 无", 365, ""},
		{"36.5。", 365, ""},
		{"Temp: 37.8C cough, sore throat", 378, "cough,sore_throat"},
		{"36.8 cough fever", 368, "fever,cough"},
		{"36.8 咳嗽 咳嗽", 368, "cough"},
		{"34", 340, ""},
		{"43.0", 430, ""},
		// Not check-ins: they stay replies for staff.
		{"45", 0, ""},
		{"33.9", 0, ""},
		{"abc", 0, ""},
		{"", 0, ""},
		{"好的，谢谢", 0, ""},
		{"36.8 明天再报", 0, ""},
		{"36.8 无咳嗽", 0, ""},
		{"36.85", 0, ""},
		{"368", 0, ""},
		{"36.8 coughing", 0, ""},
		{"36.8c ough", 0, ""},
		{"退订", 0, ""},
		{"TD", 0, ""},
		{"36.8 TD", 0, ""},
		{"我家3口人36.8", 0, ""},
	} {
		got, sy, ok := isolation.ParseReply(tc.in)
		if tc.want == 0 {
			if ok {
				t.Errorf("ParseReply(%q) = %d %v, want no check-in", tc.in, got, sy)
			}
			continue
		}
		if !ok || got != tc.want || strings.Join(sy, ",") != tc.symptoms {
			t.Errorf("ParseReply(%q) = %d %q %v, want %d %q", tc.in, got, sy, ok, tc.want, tc.symptoms)
		}
	}
}

// toFullWidth writes s's printable ASCII in full width, as a Chinese
// keyboard's full-width mode types it.
func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune('\u3000')
		case r > ' ' && r < 0x7f:
			b.WriteRune(r - 0x21 + 0xff01)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzParseReply: whatever arrives by SMS, the parser does not panic, and
// what it takes is a temperature in range and symptoms from the list,
// once each, in the list's order; it takes nothing without a digit; full
// width changes nothing; and a check-in written back out in either
// language reads the same.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"36.8", "体温36.8", "36.8 咳嗽", "３６．８℃ 乏力、腹泻", "Temp: 37.8C cough, sore throat",
		"36.5 无", "45", "abc", "退订", "36.8 嗅觉/味觉减退", "38度发烧喉咙痛", "36.", "3", "36.8c", "体温是 36.8 °C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		temp, sy, ok := isolation.ParseReply(in)
		if !ok {
			if temp != 0 || sy != nil {
				t.Fatalf("ParseReply(%q) refused but answered %d %v", in, temp, sy)
			}
		} else {
			if temp < isolation.MinTemperature || temp > isolation.MaxTemperature {
				t.Fatalf("ParseReply(%q) = %d, out of range", in, temp)
			}
			if sy == nil {
				t.Fatalf("ParseReply(%q): nil symptoms", in)
			}
			last := -1
			for _, s := range sy {
				i := slices.Index(isolation.Symptoms, s)
				if i <= last {
					t.Fatalf("ParseReply(%q) symptoms %v: unknown, repeated or out of order", in, sy)
				}
				last = i
			}
			if !strings.ContainsFunc(width.Fold.String(in), unicode.IsDigit) {
				t.Fatalf("ParseReply(%q) took a reply with no digit", in)
			}
			for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
				words := []string{strconv.FormatFloat(float64(temp)/10, 'f', 1, 64)}
				for _, s := range sy {
					words = append(words, i18n.T(lang, "symptom_"+s, nil))
				}
				back := strings.Join(words, " ")
				t2, sy2, ok2 := isolation.ParseReply(back)
				if !ok2 || t2 != temp || !slices.Equal(sy, sy2) {
					t.Fatalf("ParseReply(%q) = %d %v, but its rendering %q reads %d %v %v", in, temp, sy, back, t2, sy2, ok2)
				}
			}
		}
		t3, sy3, ok3 := isolation.ParseReply(toFullWidth(in))
		if ok3 != ok || t3 != temp || !slices.Equal(sy3, sy) {
			t.Fatalf("ParseReply(%q) = %d %v %v, but in full width %d %v %v", in, temp, sy, ok, t3, sy3, ok3)
		}
	})
}
