package logpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/logs"
)

// TestComposedKeysExist covers the keys the logs' templates build from
// data ("publicity_kind_" + a kind), which the walk of the templates
// cannot see: every value they are built from has its text.
func TestComposedKeysExist(t *testing.T) {
	var keys []string
	for _, k := range logs.PublicityKinds {
		keys = append(keys, "publicity_kind_"+k) // the logs' own text for them
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
