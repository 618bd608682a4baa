package rosterpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
)

// TestComposedKeysExist covers the keys the roster's templates build from
// data ("console.import.status." + a status), which the walk of the
// templates cannot see: every value they are built from has its text.
func TestComposedKeysExist(t *testing.T) {
	keys := []string{"console.sex.male", "console.sex.female", "console.sex.unknown"}
	for _, r := range []string{screening.ReasonSymptoms, screening.ReasonTravel, screening.ReasonCloseContact} {
		keys = append(keys, "console.household.reason."+r)
	}
	for _, s := range []string{screening.StatusOpen, screening.StatusDone, screening.FollowUpDismissed, screening.FollowUpCase} {
		keys = append(keys, "console.household.fu."+s)
	}
	for _, tag := range wellKnownTags {
		keys = append(keys, "console.tag."+tag)
	}
	for _, status := range []string{"queued", "running", "done", "failed"} {
		keys = append(keys, "console.import.status."+status)
	}
	for _, kind := range []string{roster.KindResidents, roster.KindHouseholds} {
		keys = append(keys, "console.imports.kind."+kind)
		for _, format := range []string{"xlsx", "csv"} {
			keys = append(keys, "console.exports.file."+kind+"."+format)
		}
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
