package console

import (
	"strconv"
	"testing"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// TestComposedKeysExist covers the keys the frame builds from data ("console.tag."
// + a tag), which the walk of the templates cannot see: every value they are
// built from has its text. (Each page package checks its own likewise.)
func TestComposedKeysExist(t *testing.T) {
	keys := []string{"console.menu.home", "console.menu.communities", "console.home.title", "console.communities.title"}
	for _, tag := range []string{roster.TagElderly, roster.TagLivesAlone, roster.TagDisabled, roster.TagChronicIllness, roster.TagPregnant, roster.TagChild} {
		keys = append(keys, "console.tag."+tag)
	}
	for _, role := range authz.Roles {
		keys = append(keys, "console.role."+role)
	}
	for _, action := range []string{audit.ActionCreate, audit.ActionUpdate, audit.ActionDelete, audit.ActionView, audit.ActionExport, audit.ActionLogin, audit.ActionLoginFailed} {
		keys = append(keys, "console.action."+action)
	}
	// What the domains' audit entries are about.
	for _, r := range []string{"screening", "attempt", "follow_up", "publicity", "disinfection", "care_contact", "care_list",
		"outreach_template", "outreach_campaign", "outreach_opt_out", "outreach_opt_outs", "outreach_replies"} {
		keys = append(keys, "console.resource."+r)
	}
	for _, kind := range errs.Kinds() { // every status an error page can have
		keys = append(keys, "console.error."+strconv.Itoa(web.Status(kind)))
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
