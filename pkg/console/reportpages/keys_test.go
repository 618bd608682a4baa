package reportpages

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/reports"
)

// TestComposedKeysExist: the keys the pages build from data (a version's
// kind, what was just done, a figure's or a status's name) and the
// service's refusals the forms show all have their text, in both
// languages.
func TestComposedKeysExist(t *testing.T) {
	keys := []string{"console.menu.reports", "console.resource.daily_report", "console.total",
		"reports_whole_number", "out_of_range", "required", "too_long", "report_submitted", "report_changed", "invalid_date", "date_in_future"}
	for _, k := range []string{reports.KindCutoff, reports.KindSubmission, reports.KindCorrection} {
		keys = append(keys, "console.reports.kind."+k)
	}
	for _, d := range []string{"saved", "submitted", "corrected"} {
		keys = append(keys, "console.reports."+d)
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		for _, k := range append(append([]string{}, reports.Keys...), reports.ManualKeys...) {
			if l := reports.Label(lang, k); l == "" || strings.HasPrefix(l, "reports_") {
				t.Errorf("%s: no label for %s", lang, k)
			}
		}
		for _, s := range []string{reports.StatusDraft, reports.StatusSubmitted, reports.StatusLate, reports.StatusMissing} {
			if l := reports.StatusLabel(lang, s); l == "" || strings.HasPrefix(l, "reports_") {
				t.Errorf("%s: no name for the status %s", lang, s)
			}
		}
	}
}
