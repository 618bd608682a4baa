package outreachpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/outreach"
)

// TestComposedKeysExist covers the keys outreach's templates build from
// data ("console.outreach.status." + a status), which the walk of the
// templates cannot see: every value they are built from has its text.
func TestComposedKeysExist(t *testing.T) {
	var keys []string
	for _, tag := range audienceTags {
		keys = append(keys, "console.tag."+tag)
	}
	for _, ch := range channels {
		keys = append(keys, "console.channel."+ch)
	}
	for _, f := range noticeFormats {
		keys = append(keys, "console.outreach.format."+f)
	}
	for _, st := range campaignStatuses {
		keys = append(keys, "console.outreach.status."+st)
	}
	for _, st := range outreach.Statuses {
		keys = append(keys, "console.outreach.stat."+st)
	}
	for _, a := range campaignActions {
		keys = append(keys, "console.outreach.action."+a, "console.outreach.done."+a)
	}
	for _, code := range failureCodes {
		keys = append(keys, "console.outreach.reason."+code)
	}
	for _, k := range replyKinds {
		keys = append(keys, "console.replies.kind."+k)
	}
	for _, s := range optOutSources {
		keys = append(keys, "console.opt_outs.source."+s)
	}
	for _, d := range robotDone {
		keys = append(keys, "console.robot.done."+d)
	}
	// Outreach's own messages, which the preview and the campaign page show.
	keys = append(keys, "template_syntax", "template_unsupported", "template_unknown_field", "campaign_wrong_state", "wecom_fields", "wecom_too_long")
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
