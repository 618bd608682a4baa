package orgs

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"invalid_slug":                 {ZH: "只能用小写字母、数字和连字符，以字母开头，2 到 63 个字符", EN: "Use 2 to 63 lowercase letters, digits and hyphens, starting with a letter"},
		"invalid_choice":               {ZH: "应为以下之一：{choices}", EN: "Must be one of: {choices}"},
		"must_be_empty":                {ZH: "此处应为空", EN: "Must be empty here"},
		"invalid_timezone":             {ZH: "时区无效（例如 Asia/Shanghai）", EN: "Unknown time zone (e.g. Asia/Shanghai)"},
		"invalid_time_of_day":          {ZH: "时间格式应为 HH:MM", EN: "Use the HH:MM format"},
		"unknown_org":                  {ZH: "上级机构不存在", EN: "No such parent organisation"},
		"wrong_parent_kind":            {ZH: "上级机构应为{kind}", EN: "The parent must be a {kind}"},
		"slug_taken":                   {ZH: "标识 {slug} 已被使用", EN: "The slug {slug} is already taken"},
		"invalid_username":             {ZH: "用户名只能用小写字母、数字、点、下划线和连字符，3 到 64 个字符", EN: "Use 3 to 64 lowercase letters, digits, dots, underscores and hyphens"},
		"invalid_mobile":               {ZH: "手机号码格式不正确", EN: "Not a valid mobile number"},
		"unknown_grid":                 {ZH: "网格 {grid} 不存在", EN: "No grid {grid} in this community"},
		"grids_only_for_grid_workers":  {ZH: "只有网格员需要指定网格", EN: "Only grid workers are assigned grids"},
		"may_not_grant_role":           {ZH: "无权授予角色 {role}", EN: "You may not grant the role {role}"},
		"already_member":               {ZH: "{username} 已是本机构成员", EN: "{username} is already a member here"},
		"account_outside_community":    {ZH: "该账号不属于本社区（{prefix}…），只能调整其在本社区的角色", EN: "This account is not one of this community's ({prefix}…); only its role here may be changed"},
		"may_not_grant_self":           {ZH: "不能给自己授予角色", EN: "You may not grant a role to yourself"},
		"may_not_grant_platform_admin": {ZH: "平台管理员不能成为机构成员，请使用另一个账号", EN: "A platform admin cannot be a member of an organisation; use another account"},
		"community_has_admin":          {ZH: "该社区已有管理员，其后的成员由社区管理员添加", EN: "This community has an admin already; its admins add everyone after the first"},
		"username_outside_community":   {ZH: "用户名须以“{prefix}”开头（本社区的账号）；如需添加其他社区已有账号的人员，请向其发送邀请", EN: "The username must start with \"{prefix}\" (this community's accounts); to add someone with an account elsewhere, invite them"},
		"username_unavailable":         {ZH: "该用户名不可用。如需添加已有账号的人员，请向其发送邀请，对方接受后即加入", EN: "This username is not available. To add someone who already has an account, invite them; they join when they accept"},
		"invitation_expired":           {ZH: "邀请已过期，请联系邀请人重新邀请", EN: "This invitation has expired; ask for a new one"},
		"invitation_closed":            {ZH: "该邀请已处理过", EN: "This invitation has already been answered"},
		"invitation_withdrawn":         {ZH: "邀请人已无权授予该角色，邀请失效", EN: "Whoever invited you may no longer grant this role; the invitation is void"},
		"invitation_outdated":          {ZH: "邀请中的网格已不存在，请联系邀请人重新邀请", EN: "A grid named in this invitation no longer exists; ask for a new invitation"},
	})
}
