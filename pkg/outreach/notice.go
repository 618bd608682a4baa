package outreach

import "github.com/wanjia/wanjia/pkg/outreach/provider"

// A WeCom group notice's formats (CampaignInput.Format), text the default.
const (
	FormatText     = string(provider.WeComText)
	FormatMarkdown = string(provider.WeComMarkdown)
)

// NoticeFormats are the formats a WeCom notice may take, the default first.
var NoticeFormats = []string{FormatText, FormatMarkdown}

// CheckNotice reports why the group robot would refuse text as a notice in
// format (longer than it takes in that format; a format it does not
// know), nil when it takes it: the console's preview says so as staff
// type, before CreateCampaign refuses it.
func CheckNotice(format, text string) error {
	return provider.CheckWeComPost(provider.WeComPost{Format: provider.WeComFormat(format), Content: text})
}
