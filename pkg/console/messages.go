package console

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the console's core and those several page packages share
// (columns, lists, forms, roles, tags, audited actions, error pages), in
// both languages; each page package registers its own in its messages.go.
// Keys start with "console." so they cannot clash with the domains' error
// messages, which the console shows too (through their own keys).
// TestTemplatesUseCatalogue fails on text in a template that is not from
// the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		// A call or a visit: the words of screening's and care's pages.
		"console.method.phone":               {ZH: "电话", EN: "Phone"},
		"console.method.visit":               {ZH: "上门走访", EN: "Visit"},
		"console.outcome.reached":            {ZH: "已联系上", EN: "Reached"},
		"console.outcome.no_answer":          {ZH: "未联系上", EN: "Not reached"},
		"console.outcome.wrong_number":       {ZH: "空号/错号", EN: "Wrong number"},
		"console.outcome.refused":            {ZH: "拒绝配合", EN: "Refused"},
		"console.outcome.moved_out":          {ZH: "已搬离", EN: "Moved out"},
		"console.outcome.phone.reached":      {ZH: "已接通", EN: "Answered"},
		"console.outcome.phone.no_answer":    {ZH: "无人接听", EN: "No answer"},
		"console.outcome.phone.wrong_number": {ZH: "空号/错号", EN: "Wrong number"},
		"console.outcome.phone.refused":      {ZH: "拒绝", EN: "Refused"},
		"console.outcome.phone.moved_out":    {ZH: "已搬离", EN: "Moved out"},
		"console.outcome.visit.reached":      {ZH: "已见到住户", EN: "Met them"},
		"console.outcome.visit.no_answer":    {ZH: "无人在家", EN: "Nobody home"},
		"console.outcome.visit.wrong_number": {ZH: "号码有误", EN: "Wrong number"},
		"console.outcome.visit.refused":      {ZH: "拒绝", EN: "Refused"},
		"console.outcome.visit.moved_out":    {ZH: "已搬离", EN: "Moved out"},
		"console.calls.dial":                 {ZH: "拨打 {phone}", EN: "Call {phone}"},
		"console.task.switch.phone":          {ZH: "改为登记电话", EN: "Record a call instead"},
		"console.task.switch.visit":          {ZH: "改为登记上门", EN: "Record a visit instead"},
		"console.attempt.outcome":            {ZH: "结果", EN: "Outcome"},

		// The offline lists (offline.go, static/offline.js).
		"console.offline.title":           {ZH: "离线名单", EN: "Offline lists"},
		"console.offline.hint":            {ZH: "没有网络时在这里登记，联网后自动发送。", EN: "Record here without a network; it is sent when the network is back."},
		"console.offline.download":        {ZH: "下载离线使用", EN: "Download for offline use"},
		"console.offline.downloaded":      {ZH: "已下载 {n} 条，可离线使用", EN: "{n} downloaded for offline use"},
		"console.offline.download_failed": {ZH: "下载失败，请联网后重试", EN: "Download failed; try again with a network"},
		"console.offline.waiting":         {ZH: "待发送", EN: "Waiting to send:"},
		"console.offline.failed":          {ZH: "未能保存：", EN: "Not stored:"},
		"console.offline.dismiss":         {ZH: "知道了", EN: "Dismiss"},
		"console.offline.empty":           {ZH: "还没有下载名单：联网时在通话名单页点「下载离线使用」。", EN: "Nothing downloaded yet: with a network, tap \"Download for offline use\" on a call list."},
		"console.offline.recorded":        {ZH: "已登记，待发送：", EN: "Recorded, waiting to send:"},
		"console.offline.checkins":        {ZH: "健康打卡名单", EN: "Check-in list"},
		"console.offline.checkin":         {ZH: "打卡", EN: "Check in"},
		"console.offline.checked_today":   {ZH: "今日已打卡", EN: "checked in today"},
		"console.offline.temperature":     {ZH: "体温（℃）", EN: "Temperature (°C)"},
		"console.offline.is_offline":      {ZH: "当前没有网络：登记会先保存在本机", EN: "No network: records are kept on this device"},
		"console.offline.signin":          {ZH: "登录已过期：请重新登录后发送", EN: "Signed out: sign in again to send"},
		"console.offline.signout_lost":    {ZH: "还有 {n} 条未发送，退出会删除它们。确定退出吗？", EN: "{n} records have not been sent; signing out deletes them. Sign out anyway?"},

		"console.brand":       {ZH: "万家", EN: "Wanjia"},
		"console.none":        {ZH: "无", EN: "None"},
		"console.total":       {ZH: "合计", EN: "Total"},
		"console.csrf_failed": {ZH: "页面已过期或请求来源不明，请刷新页面后重试", EN: "This form has expired or did not come from this site; reload the page and try again"},

		"console.lang.en":          {ZH: "English", EN: "English"},
		"console.lang.zh":          {ZH: "中文", EN: "中文"},
		"console.nav.account":      {ZH: "账号", EN: "Account"},
		"console.nav.menu":         {ZH: "菜单", EN: "Menu"},
		"console.nav.signout":      {ZH: "退出", EN: "Sign out"},
		"console.nav.switch":       {ZH: "切换机构", EN: "Switch org"},
		"console.menu.home":        {ZH: "首页", EN: "Home"},
		"console.menu.communities": {ZH: "各社区", EN: "Communities"},

		"console.role.platform_admin":       {ZH: "平台管理员", EN: "Platform admin"},
		"console.role.subdistrict_official": {ZH: "街道干部", EN: "Sub-district official"},
		"console.role.community_admin":      {ZH: "社区管理员", EN: "Community admin"},
		"console.role.community_staff":      {ZH: "社区工作人员", EN: "Community staff"},
		"console.role.grid_worker":          {ZH: "网格员", EN: "Grid worker"},
		"console.role.system":               {ZH: "系统", EN: "System"},

		// What audit entries are about.
		"console.resource.household":  {ZH: "住户", EN: "Household"},
		"console.resource.households": {ZH: "住户列表", EN: "Household list"},
		"console.resource.resident":   {ZH: "居民", EN: "Resident"},
		"console.resource.residents":  {ZH: "居民列表", EN: "Resident list"},
		"console.resource.building":   {ZH: "楼栋", EN: "Building"},
		"console.resource.import":     {ZH: "导入", EN: "Import"},
		"console.resource.roster":     {ZH: "名册", EN: "Roster"},
		"console.resource.grid":       {ZH: "网格", EN: "Grid"},
		"console.resource.org":        {ZH: "机构", EN: "Organisation"},
		"console.resource.user":       {ZH: "账号", EN: "Account"},
		"console.resource.membership": {ZH: "成员", EN: "Membership"},
		"console.resource.invitation": {ZH: "邀请", EN: "Invitation"},
		"console.resource.session":    {ZH: "登录会话", EN: "Session"},

		"console.tag.elderly":         {ZH: "老年人", EN: "Elderly"},
		"console.tag.lives_alone":     {ZH: "独居", EN: "Lives alone"},
		"console.tag.disabled":        {ZH: "残疾", EN: "Disabled"},
		"console.tag.chronic_illness": {ZH: "慢性病", EN: "Chronic illness"},
		"console.tag.pregnant":        {ZH: "孕产妇", EN: "Pregnant"},
		"console.tag.child":           {ZH: "儿童", EN: "Child"},

		"console.col.address":   {ZH: "地址", EN: "Address"},
		"console.col.community": {ZH: "社区", EN: "Community"},
		"console.col.grid":      {ZH: "网格", EN: "Grid"},
		"console.col.name":      {ZH: "姓名", EN: "Name"},
		"console.col.notes":     {ZH: "备注", EN: "Notes"},
		"console.col.phone":     {ZH: "电话", EN: "Phone"},

		"console.figure.households": {ZH: "住户", EN: "Households"},

		"console.login.title":     {ZH: "登录", EN: "Sign in"},
		"console.login.note":      {ZH: "社区防疫工作台", EN: "Community epidemic-prevention console"},
		"console.login.username":  {ZH: "用户名", EN: "Username"},
		"console.login.password":  {ZH: "密码", EN: "Password"},
		"console.login.submit":    {ZH: "登录", EN: "Sign in"},
		"console.login.kept":      {ZH: "登录已过期，刚才提交的内容没有保存。请重新登录，登录后会回到原来的页面，你填写的内容已保留。", EN: "Your session had ended and what you sent was not saved. Sign in again: you will be taken back to the page, with what you typed kept."},
		"console.restored.filled": {ZH: "登录已过期，刚才的提交没有保存。你填写的内容已填回下方表单，请核对后再次提交。", EN: "Your session had ended and what you sent was not saved. What you typed is back in the form below: check it and send it again."},
		"console.restored.again":  {ZH: "登录已过期，刚才的操作没有保存，请再操作一次。", EN: "Your session had ended and your last action was not saved: please do it again."},
		"console.restored.lost":   {ZH: "登录已过期，刚才的提交没有保存；内容过长无法保留，请重新填写。", EN: "Your session had ended and what you sent was not saved; it was too long to keep, so please fill the form in again."},

		"console.start.title": {ZH: "选择机构", EN: "Choose an organisation"},
		"console.start.none":  {ZH: "您的账号没有加入任何机构。平台管理员请使用接口管理机构。", EN: "Your account is not a member of any organisation. Platform admins manage organisations through the API."},

		"console.home.title": {ZH: "社区概况", EN: "Community overview"},

		"console.communities.title": {ZH: "各社区概况", EN: "Communities"},
		"console.list.grid":         {ZH: "网格", EN: "Grid"},
		"console.list.all":          {ZH: "全部", EN: "All"},
		"console.list.go":           {ZH: "查找", EN: "Search"},
		"console.list.next":         {ZH: "下一页", EN: "Next page"},
		"console.list.empty":        {ZH: "没有找到记录", EN: "Nothing found"},
		"console.form.choose":       {ZH: "请选择", EN: "Choose"},
		"console.form.save":         {ZH: "保存", EN: "Save"},
		"console.audit.from":        {ZH: "开始日期", EN: "From"},
		"console.audit.to":          {ZH: "结束日期", EN: "To"},

		"console.action.create":       {ZH: "新增", EN: "Created"},
		"console.action.update":       {ZH: "修改", EN: "Changed"},
		"console.action.delete":       {ZH: "删除", EN: "Deleted"},
		"console.action.view":         {ZH: "查看", EN: "Viewed"},
		"console.action.export":       {ZH: "导出", EN: "Exported"},
		"console.action.login":        {ZH: "登录", EN: "Signed in"},
		"console.action.login_failed": {ZH: "登录失败", EN: "Failed sign-in"},

		"console.resource.screening":    {ZH: "排查", EN: "Screening"},
		"console.resource.attempt":      {ZH: "电话或走访", EN: "Call or visit"},
		"console.resource.follow_up":    {ZH: "跟进事项", EN: "Follow-up"},
		"console.resource.publicity":    {ZH: "宣传记录", EN: "Publicity entry"},
		"console.resource.disinfection": {ZH: "消毒记录", EN: "Disinfection round"},
		"console.resource.care_contact": {ZH: "关怀记录", EN: "Care contact"},
		"console.resource.care_list":    {ZH: "关怀名单", EN: "Care list"},
		"console.form.check":            {ZH: "有内容需要修改，请看下面标红的地方。", EN: "Something needs fixing: see what is marked in red below."},
		"console.form.bad_time":         {ZH: "请选择日期和时间", EN: "Pick a date and time"},

		"console.resource.outreach_template": {ZH: "通知模板", EN: "Message template"},
		"console.resource.outreach_campaign": {ZH: "通知", EN: "Message campaign"},
		"console.resource.outreach_opt_out":  {ZH: "退订", EN: "Opt-out"},
		"console.resource.outreach_opt_outs": {ZH: "退订名单", EN: "Opt-out list"},
		"console.resource.outreach_replies":  {ZH: "居民回复", EN: "Replies"},
		"console.resource.outreach_robot":    {ZH: "企业微信群机器人", EN: "WeCom group robot"},

		"console.error.title":   {ZH: "出错了", EN: "Something went wrong"},
		"console.error.back":    {ZH: "返回首页", EN: "Back to the start"},
		"console.error.request": {ZH: "请求编号：{id}", EN: "Request id: {id}"},
		"console.error.400":     {ZH: "请求有误", EN: "Bad request"},
		"console.error.401":     {ZH: "请先登录", EN: "Please sign in"},
		"console.error.403":     {ZH: "无权访问", EN: "Not allowed"},
		"console.error.404":     {ZH: "页面不存在", EN: "Not found"},
		"console.error.405":     {ZH: "不支持的操作", EN: "Not supported"},
		"console.error.409":     {ZH: "与现有记录冲突", EN: "Conflict"},
		"console.error.413":     {ZH: "文件过大", EN: "Too large"},
		"console.error.422":     {ZH: "内容有误", EN: "Invalid input"},
		"console.error.429":     {ZH: "请求过于频繁", EN: "Too many requests"},
		"console.error.500":     {ZH: "服务器出错", EN: "Server error"},
		"console.error.503":     {ZH: "服务暂时不可用", EN: "Temporarily unavailable"},
	})
}
