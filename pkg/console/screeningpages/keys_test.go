package screeningpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/screening"
)

// TestComposedKeysExist covers the keys screening's templates build from
// data ("console.outcome." + an outcome), which the walk of the templates
// cannot see: every value they are built from has its text.
func TestComposedKeysExist(t *testing.T) {
	var keys []string
	for _, method := range campaignMethods {
		keys = append(keys, "console.method."+method)
	}
	for _, o := range screening.Outcomes {
		keys = append(keys, "console.outcome."+o, "console.outcome.phone."+o, "console.outcome.visit."+o)
	}
	for _, r := range []string{screening.ReasonSymptoms, screening.ReasonCloseContact, screening.ReasonTravel} {
		keys = append(keys, "console.reason."+r)
	}
	for _, s := range []string{screening.StatusOpen, screening.StatusClosed} {
		keys = append(keys, "console.screening.status."+s)
	}
	for _, s := range []string{screening.StatusOpen, screening.StatusDone} {
		keys = append(keys, "console.task.status."+s)
	}
	for _, m := range []string{screening.MethodPhone, screening.MethodVisit} {
		keys = append(keys, "console.task.switch."+m)
	}
	for _, s := range followUpStatuses {
		keys = append(keys, "console.follow_ups.status."+s)
	}
	for _, s := range []string{screening.StatusDone, screening.FollowUpDismissed} {
		keys = append(keys, "console.follow_ups.mark."+s)
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
