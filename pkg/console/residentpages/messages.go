package residentpages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the resident's page, Chinese first: most residents read
// it on a phone after an SMS. Symptoms are pkg/isolation's keys.
func init() {
	i18n.Register(map[string]i18n.Message{
		"console.resident.title":            {ZH: "居家健康监测", EN: "Health monitoring at home"},
		"console.resident.hello":            {ZH: "{name}，您好", EN: "Hello, {name}"},
		"console.resident.release_on":       {ZH: "解除隔离日期", EN: "Isolation ends on"},
		"console.resident.period":           {ZH: "隔离期 {start} 至 {end}", EN: "From {start} to {end}"},
		"console.resident.days_left":        {ZH: "还有 {days} 天", EN: "{days} days to go"},
		"console.resident.checkin_title":    {ZH: "今日体温上报（{date}）", EN: "Today's check-in ({date})"},
		"console.resident.checked_in":       {ZH: "今日已上报：{temperature}℃。如有变化可再次上报。", EN: "Reported today: {temperature} °C. Report again if anything changes."},
		"console.resident.temperature":      {ZH: "体温", EN: "Temperature"},
		"console.resident.symptoms":         {ZH: "有以下不适请勾选（没有则不选）", EN: "Tick any you have (none: tick nothing)"},
		"console.resident.submit_checkin":   {ZH: "提交今日体温", EN: "Send today's check-in"},
		"console.resident.done_checkin":     {ZH: "已收到您今天的体温，谢谢！", EN: "Thank you, today's check-in is in."},
		"console.resident.done_fever":       {ZH: "已收到。您的体温偏高或有不适，社区工作人员会尽快联系您。如情况紧急请拨打 120。", EN: "Received. Your temperature is high or you feel unwell: the community will call you soon. In an emergency call 120."},
		"console.resident.done_help":        {ZH: "已收到您的求助，社区会尽快安排。", EN: "Your request is in; the community will arrange it soon."},
		"console.resident.help_title":       {ZH: "需要帮助？", EN: "Need help?"},
		"console.resident.help_note":        {ZH: "可先写明需要什么，再点下面的按钮。", EN: "Say what you need if you like, then tap a button."},
		"console.resident.details":          {ZH: "说明（可不填）", EN: "Details (optional)"},
		"console.resident.kind.thermometer": {ZH: "要体温计", EN: "A thermometer"},
		"console.resident.kind.groceries":   {ZH: "买菜购物", EN: "Groceries"},
		"console.resident.kind.medicine":    {ZH: "买药", EN: "Medicine"},
		"console.resident.kind.doctor":      {ZH: "看医生", EN: "A doctor"},
		"console.resident.kind.other":       {ZH: "其他帮助", EN: "Something else"},
		"console.resident.status.open":      {ZH: "已提交", EN: "sent"},
		"console.resident.status.assigned":  {ZH: "已安排", EN: "arranged"},
		"console.resident.missing_title":    {ZH: "链接无效", EN: "This link does not work"},
		"console.resident.missing":          {ZH: "该链接不存在或已失效（隔离已解除）。如有疑问请联系社区。", EN: "This link is unknown or no longer valid (the isolation has ended). Please call your community if in doubt."},
		"console.resident.busy_title":       {ZH: "请稍后再试", EN: "Please try again shortly"},
		"console.resident.busy":             {ZH: "操作太频繁，请稍等一分钟再打开。", EN: "Too many requests; please wait a minute and open it again."},
	})
}
