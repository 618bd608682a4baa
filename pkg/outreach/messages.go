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
	})
}
