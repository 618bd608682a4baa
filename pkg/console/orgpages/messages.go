package orgpages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the org pages, in both languages (the words
// several packages share are pkg/console's). Keys start with "console.";
// TestTemplatesUseCatalogue fails on text in a template that is not from
// the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		"console.menu.members": {ZH: "人员与网格", EN: "People and grids"},
		"console.menu.audit":   {ZH: "操作日志", EN: "Audit log"},
		"console.col.created":  {ZH: "创建时间", EN: "Created"},
		"console.col.grids":    {ZH: "负责网格", EN: "Grids"},
		"console.col.role":     {ZH: "角色", EN: "Role"},
		"console.col.slug":     {ZH: "标识", EN: "Slug"},
		"console.col.username": {ZH: "用户名", EN: "Username"},

		"console.members.title":             {ZH: "人员与网格", EN: "People and grids"},
		"console.members.disabled":          {ZH: "已停用", EN: "disabled"},
		"console.grids.title":               {ZH: "网格", EN: "Grids"},
		"console.members.add":               {ZH: "添加人员", EN: "Add a person"},
		"console.members.added":             {ZH: "已添加 {name}", EN: "{name} added"},
		"console.members.password":          {ZH: "初始密码", EN: "First password"},
		"console.members.grids_hint":        {ZH: "负责网格（仅网格员）", EN: "Grids (grid workers only)"},
		"console.grids.add":                 {ZH: "添加网格", EN: "Add a grid"},
		"console.grids.rename":              {ZH: "改名", EN: "Rename"},
		"console.members.edit":              {ZH: "修改人员", EN: "Edit a person"},
		"console.members.save":              {ZH: "保存", EN: "Save"},
		"console.members.saved":             {ZH: "已保存", EN: "Saved"},
		"console.members.disable":           {ZH: "停用账号", EN: "Disable the account"},
		"console.members.enable":            {ZH: "恢复账号", EN: "Enable the account"},
		"console.members.reset":             {ZH: "重置密码", EN: "Reset the password"},
		"console.members.new_password":      {ZH: "新密码（只显示这一次，请当面或电话告知本人，登录后修改）：", EN: "New password (shown this once only; tell them in person or by phone, and have them change it):"},
		"console.members.account_elsewhere": {ZH: "该账号属于其他社区，这里只能调整其在本社区的角色和网格。", EN: "This account is another community's; here only its role and grids may be changed."},

		"console.audit.title":    {ZH: "操作日志", EN: "Audit log"},
		"console.audit.actor":    {ZH: "操作人", EN: "Who"},
		"console.audit.action":   {ZH: "操作", EN: "Action"},
		"console.audit.at":       {ZH: "时间", EN: "When"},
		"console.audit.resource": {ZH: "对象", EN: "Record"},
		"console.audit.ip":       {ZH: "IP 地址", EN: "IP address"},
	})
}
