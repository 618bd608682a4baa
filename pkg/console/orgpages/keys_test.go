package orgpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestComposedKeysExist covers the keys the org pages build from data
// ("console.role." + a role, "console.action." + an action), which the
// walk of the templates cannot see.
func TestComposedKeysExist(t *testing.T) {
	var keys []string
	for _, role := range memberRoles {
		keys = append(keys, "console.role."+role)
	}
	for _, action := range auditActions {
		keys = append(keys, "console.action."+action)
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
