package carepages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestComposedKeysExist covers the keys the care pages build from data
// (a method's and an outcome's words, the suggested reasons), which the
// walk of the templates cannot see: every value they are built from has
// its text.
func TestComposedKeysExist(t *testing.T) {
	keys := append([]string{}, careReasons...)
	for _, m := range care.Methods {
		keys = append(keys, "console.method."+m, "console.task.switch."+m)
		for _, o := range outcomesFor(m) {
			keys = append(keys, "console.outcome."+o, "console.outcome."+m+"."+o)
		}
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
