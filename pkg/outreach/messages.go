package outreach

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"template_syntax":         {ZH: "模板格式有误，字段应写成 {{.Name}} 的形式", EN: "The template does not parse; write fields as {{.Name}}"},
		"template_unsupported":    {ZH: "模板只能使用字段，不能使用 {action}", EN: "Templates may only use fields, not {action}"},
		"template_unknown_field":  {ZH: "未知字段 {name}；可用字段：.Name .Community .EndDate .CheckinURL", EN: "Unknown field {name}; the fields are .Name .Community .EndDate .CheckinURL"},
		"body_too_long":           {ZH: "按最长内容计算共 {length} 字，超过服务商上限 {max} 字", EN: "Rendered with the longest values it is {length} characters, over the provider's {max}"},
		"sms_too_many_parts":      {ZH: "按最长内容计算将拆成 {parts} 条短信，超过上限 {max} 条", EN: "Rendered with the longest values it takes {parts} SMS parts, over the limit of {max}"},
		"template_or_body":        {ZH: "请选择模板或填写内容（二选一）", EN: "Give a template or a body, one of the two"},
		"unknown_template":        {ZH: "模板不存在", EN: "No such template"},
		"template_channel":        {ZH: "该模板用于 {channel}，与所选方式不符", EN: "This template is for {channel}, not the channel chosen"},
		"isolation_unavailable":   {ZH: "暂不支持按隔离人员发送", EN: "Sending to residents under isolation is not available yet"},
		"audience_empty":          {ZH: "请选择发送对象：全部、网格或标签", EN: "Choose an audience: all, grids or tags"},
		"field_needs_isolation":   {ZH: "字段 .EndDate 和 .CheckinURL 仅适用于隔离人员", EN: "The fields .EndDate and .CheckinURL are only for residents under isolation"},
		"campaign_wrong_state":    {ZH: "活动当前状态为 {status}，不能执行该操作", EN: "The campaign is {status}; it cannot do that now"},
		"campaign_nothing_failed": {ZH: "没有发送失败的消息", EN: "No message of this campaign failed"},
		"format_wecom_only":       {ZH: "只有企业微信群通知可选格式", EN: "Only a WeCom group notice has a format"},
		"wecom_no_template":       {ZH: "企业微信群通知请直接填写内容，不使用短信模板", EN: "Write a WeCom group notice's text itself; SMS templates do not apply"},
		"wecom_fields":            {ZH: "群通知发给整个群，不能使用个人字段 {name}，只能用 .Community", EN: "A group notice goes to the whole group: it cannot use {name}, only .Community"},
		"wecom_too_long":          {ZH: "内容超过企业微信机器人的长度上限：{detail}", EN: "Too long for the WeCom robot: {detail}"},
		"wecom_no_robot":          {ZH: "本社区尚未设置企业微信群机器人，请管理员先在“通知”页设置", EN: "This community has no WeCom group robot yet; an administrator sets it on the outreach page"},
		"wecom_webhook":           {ZH: "请粘贴企业微信群机器人的 Webhook 地址（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）", EN: "Paste the WeCom group robot's webhook address (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)"},
		"wecom_key":               {ZH: "地址中的 key 不对：应为企业微信给出的一串字母、数字和连字符（如 693a91f6-7f1e-4bc4-97a0-0ec2d1fa5aaa），请从群机器人的设置里重新复制", EN: "The key in the address is wrong: it is the letters, digits and hyphens WeCom gives (like 693a91f6-7f1e-4bc4-97a0-0ec2d1fa5aaa); copy it again from the robot's settings"},
		"wecom_test_refused":      {ZH: "企业微信拒绝了测试消息：{reason}", EN: "WeCom refused the test message: {reason}"},
		"wecom_test_failed":       {ZH: "暂时连不上企业微信，测试消息未发出，请稍后再试", EN: "WeCom could not be reached; the test message was not sent. Try again later"},
		"wecom_unavailable":       {ZH: "本系统未启用企业微信发送", EN: "WeCom sending is not enabled on this system"},
		// Why the system paused a campaign (Campaign.PauseReason), shown
		// on its page.
		"campaign_paused_provider_credentials": {ZH: "短信服务商拒绝了本系统的接入凭证（密钥或签名有误），活动已自动暂停；尚未发出的消息仍在队列中，不会丢失。请联系系统管理员更正服务商配置后，点“继续”发送。",
			EN: "The SMS provider refused this system's credentials (a wrong key or signature), so the campaign was paused; the messages not yet sent are still queued and none is lost. Ask the system administrator to correct the provider settings, then resume."},
	})
}
