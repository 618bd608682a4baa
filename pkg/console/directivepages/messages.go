package directivepages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the directives' pages, in both languages. Keys start with
// "console."; TestTemplatesUseCatalogue fails on text in a template that
// is not from the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		"console.menu.directives":             {ZH: "通知", EN: "Directives"},
		"console.directives.title":            {ZH: "上级通知", EN: "Directives"},
		"console.directives.new":              {ZH: "发通知", EN: "Send a directive"},
		"console.directives.col.title":        {ZH: "标题", EN: "Title"},
		"console.directives.body":             {ZH: "内容", EN: "Text"},
		"console.directives.communities":      {ZH: "发送给", EN: "Send to"},
		"console.directives.communities_hint": {ZH: "不选即发给辖区内全部社区。", EN: "None chosen: every community below."},
		"console.directives.due_date":         {ZH: "截止日期", EN: "Due"},
		"console.directives.due_on":           {ZH: "{date} 截止", EN: "due {date}"},
		"console.directives.send":             {ZH: "发送", EN: "Send"},
		"console.directives.col.acknowledged": {ZH: "确认", EN: "Acknowledged"},
		"console.directives.col.sent":         {ZH: "发送", EN: "Sent"},
		"console.directives.from":             {ZH: "发文单位", EN: "From"},
		"console.directives.waiting":          {ZH: "未确认的通知", EN: "Directives to acknowledge"},
		"console.directives.none_waiting":     {ZH: "没有待确认的通知。", EN: "Nothing waiting."},
		"console.directives.done":             {ZH: "已确认的通知", EN: "Acknowledged"},
		"console.directives.acknowledged":     {ZH: "已确认", EN: "Acknowledged"},
		"console.directives.unacknowledged":   {ZH: "未确认", EN: "Not acknowledged"},
		"console.directives.ack":              {ZH: "确认收到", EN: "Acknowledge"},
		"console.directives.acked_by":         {ZH: "{name} 已确认", EN: "Acknowledged by {name}"},
		"console.directives.acks":             {ZH: "各社区确认情况", EN: "Acknowledgements"},
		"console.directives.community":        {ZH: "社区", EN: "Community"},
		"console.directives.status":           {ZH: "状态", EN: "Status"},
		"console.directives.sent_notice":      {ZH: "通知已发送", EN: "Sent"},
		"console.directives.acked_notice":     {ZH: "已确认收到", EN: "Acknowledged"},
		"console.directives.back":             {ZH: "返回通知列表", EN: "Back to the directives"},
	})
}
