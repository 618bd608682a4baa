package orgs

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"invalid_slug":                {ZH: "只能用小写字母、数字和连字符，以字母开头，2 到 63 个字符", EN: "Use 2 to 63 lowercase letters, digits and hyphens, starting with a letter"},
		"invalid_choice":              {ZH: "应为以下之一：{choices}", EN: "Must be one of: {choices}"},
		"must_be_empty":               {ZH: "此处应为空", EN: "Must be empty here"},
		"invalid_timezone":            {ZH: "时区无效（例如 Asia/Shanghai）", EN: "Unknown time zone (e.g. Asia/Shanghai)"},
		"invalid_time_of_day":         {ZH: "时间格式应为 HH:MM", EN: "Use the HH:MM format"},
		"unknown_org":                 {ZH: "上级机构不存在", EN: "No such parent organisation"},
		"wrong_parent_kind":           {ZH: "上级机构应为{kind}", EN: "The parent must be a {kind}"},
		"slug_taken":                  {ZH: "标识 {slug} 已被使用", EN: "The slug {slug} is already taken"},
		"invalid_username":            {ZH: "用户名只能用小写字母、数字、点、下划线和连字符，3 到 64 个字符", EN: "Use 3 to 64 lowercase letters, digits, dots, underscores and hyphens"},
		"invalid_mobile":              {ZH: "手机号码格式不正确", EN: "Not a valid mobile number"},
		"unknown_grid":                {ZH: "网格 {grid} 不存在", EN: "No grid {grid} in this community"},
		"grids_only_for_grid_workers": {ZH: "只有网格员需要指定网格", EN: "Only grid workers are assigned grids"},
		"may_not_grant_role":          {ZH: "无权授予角色 {role}", EN: "You may not grant the role {role}"},
		"already_member":              {ZH: "{username} 已是本机构成员", EN: "{username} is already a member here"},
	})
}
