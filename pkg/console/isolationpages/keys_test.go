package isolationpages

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/outreach"
)

// TestComposedKeysExist covers the keys the isolation templates build
// from data ("console.isolation.kind." + a kind), which the walk of the
// templates cannot see: every value they are built from has its text.
func TestComposedKeysExist(t *testing.T) {
	var keys []string
	for _, k := range isolation.Kinds {
		keys = append(keys, "console.isolation.kind."+k)
	}
	for _, s := range []string{isolation.StatusActive, isolation.StatusEligible, isolation.StatusReleased, isolation.StatusEnded} {
		keys = append(keys, "console.isolation.status."+s)
	}
	for _, d := range diagnoses {
		keys = append(keys, "console.isolation.diagnosis."+d)
	}
	for _, s := range []string{isolation.SourceStaff, isolation.SourceSelf, isolation.SourceSMS, isolation.SourceVoice} {
		keys = append(keys, "console.isolation.source."+s)
	}
	for _, ch := range []string{isolation.ChannelSMS, isolation.ChannelVoice} {
		keys = append(keys, "console.isolation.channel."+ch)
	}
	for _, k := range []string{isolation.AlertFever, isolation.AlertMissedCheckin} {
		keys = append(keys, "console.isolation.alert."+k)
	}
	for _, s := range []string{isolation.AlertOpen, isolation.AlertAcknowledged, isolation.AlertClosed} {
		keys = append(keys, "console.isolation.alert_status."+s)
	}
	for _, s := range isolation.Symptoms {
		keys = append(keys, "symptom_"+s)
	}
	for _, s := range outreach.Statuses {
		keys = append(keys, "console.isolation.msg."+s)
	}
	for _, d := range []string{"released", "ack", "close", "checkin", "diagnosis", "end", "support", "opened"} {
		keys = append(keys, "console.isolation.done."+d)
	}
	for _, k := range isolation.SupportKinds {
		keys = append(keys, "console.support.kind."+k)
	}
	for _, s := range []string{isolation.SupportAssigned, isolation.SupportDone, isolation.SupportCancelled} {
		keys = append(keys, "console.support.move."+s)
	}
	for _, s := range supportStatuses {
		keys = append(keys, "console.support.status."+s)
	}
	for _, k := range keys {
		if _, ok := i18n.Lookup(k); !ok {
			t.Errorf("no text for %s", k)
		}
	}
}
