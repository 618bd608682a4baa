package directivepages

import (
	_ "github.com/wanjia/wanjia/pkg/directives"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestComposedKeysExist: the directives' pages build no key from data;
// the words they show beside the templates' (the domain's field errors
// the form shows) must have their text.
func TestComposedKeysExist(t *testing.T) {
	for _, k := range []string{"community_not_below", "no_communities_below", "date_in_past", "console.menu.directives"} {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
