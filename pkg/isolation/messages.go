package isolation

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"unknown_resident":           {ZH: "居民不存在", EN: "No such resident"},
		"unknown_member":             {ZH: "本社区没有该成员", EN: "No such member of this community"},
		"not_a_number":               {ZH: "应为数字", EN: "Must be a number"},
		"household_has_no_residents": {ZH: "该住户没有登记居民，请先登记", EN: "This household has no residents on the roster; add them first"},
		"case_already_open":          {ZH: "该居民已有进行中的隔离", EN: "This resident is already under isolation"},
		"case_closed":                {ZH: "该隔离已结束（{status}）", EN: "This case is closed ({status})"},
		"release_before_end":         {ZH: "隔离期至 {end_date}，到期前解除须由社区主任强制解除并说明原因", EN: "The period ends on {end_date}; an earlier release needs a community admin, force and a reason"},
		"release_force_admin_only":   {ZH: "只有社区主任可以提前解除隔离", EN: "Only a community admin may release a case early"},
		"alert_closed":               {ZH: "该预警已关闭", EN: "This alert is closed"},
		"support_closed":             {ZH: "该求助已办结（{status}）", EN: "This request is finished ({status})"},

		// Messages to residents and to staff (SMS: Chinese is what goes).
		"isolation_sms_link": {
			ZH: "{name}您好，您的居家健康监测至{end_date}。请每天点击链接上报体温：{url} 也可直接回复体温，如 36.8",
			EN: "Hello {name}, your health monitoring at home runs until {end_date}. Report your temperature daily at {url} or reply with it, e.g. 36.8",
		},
		"isolation_sms_released": {
			ZH: "{name}您好，您的居家隔离已于{date}解除，感谢您的配合。",
			EN: "Hello {name}, your isolation ended on {date}. Thank you for your cooperation.",
		},
		"isolation_sms_alert_fever": {
			ZH: "【健康预警】{address} {name} 体温 {temperature}℃ {symptoms}，请尽快处理。",
			EN: "[Health alert] {address} {name}: temperature {temperature} °C {symptoms}. Please act now.",
		},
		"isolation_sms_alert_missed_checkin": {
			ZH: "【未打卡】{address} {name} 今日未上报体温，请尽快联系。",
			EN: "[Missed check-in] {address} {name} has not reported today. Please call them.",
		},

		"symptom_fever":                  {ZH: "发热", EN: "fever"},
		"symptom_cough":                  {ZH: "咳嗽", EN: "cough"},
		"symptom_sore_throat":            {ZH: "咽痛", EN: "sore throat"},
		"symptom_fatigue":                {ZH: "乏力", EN: "fatigue"},
		"symptom_shortness_of_breath":    {ZH: "气促", EN: "shortness of breath"},
		"symptom_diarrhoea":              {ZH: "腹泻", EN: "diarrhoea"},
		"symptom_loss_of_smell_or_taste": {ZH: "嗅觉或味觉减退", EN: "loss of smell or taste"},
		"symptom_other":                  {ZH: "其他不适", EN: "other"},
	})
}
