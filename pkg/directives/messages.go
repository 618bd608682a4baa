package directives

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"community_not_below":  {ZH: "该社区不在本辖区内", EN: "This community is not below your office"},
		"no_communities_below": {ZH: "本辖区没有社区可发送", EN: "There is no community below your office to send to"},
		"date_in_past":         {ZH: "日期不能早于今天（{today}）", EN: "The date is before today ({today})"},

		// To community admins (SMS: Chinese is what goes).
		"directives_sms_reminder": {
			ZH: "【通知提醒】{from}的通知《{title}》将于{due_date}到期，本社区尚未确认，请登录系统查看并确认。",
			EN: "[Directive reminder] {from}'s directive \"{title}\" is due on {due_date} and your community has not acknowledged it. Please sign in to read and acknowledge it.",
		},
	})
}
