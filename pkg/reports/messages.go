package reports

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"report_submitted":       {ZH: "该日日报已上报，如需修改请提交更正", EN: "This day's report is submitted; send a correction to change it"},
		"report_not_submitted":   {ZH: "该日日报尚未上报，请直接修改草稿", EN: "This day's report is not submitted yet; change the draft instead"},
		"report_changed":         {ZH: "日报刚被他人更正，请刷新后重试", EN: "Someone else just corrected this report; reload and try again"},
		"reports_whole_number":   {ZH: "应为非负整数", EN: "Must be a whole number, 0 or more"},
		"reports_unknown_figure": {ZH: "不是可填报的项目", EN: "Not a figure that is typed in"},
		"reports_from_after_to":  {ZH: "开始日期晚于结束日期", EN: "The start date is after the end date"},
		"reports_range_too_long": {ZH: "日期范围不能超过 {max} 天", EN: "The range may not exceed {max} days"},

		"reports_sms_reminder": {
			ZH: "【日报提醒】{org}{date}的日报尚未上报（截止 {cutoff}），请尽快审核上报。",
			EN: "[Daily report] {org}'s report of {date} is not submitted yet (due {cutoff}). Please review and submit it.",
		},

		"reports_sheet":         {ZH: "日报", EN: "Daily report"},
		"reports_title":         {ZH: "{org} 日报 {date}", EN: "{org} daily report {date}"},
		"reports_col_item":      {ZH: "项目", EN: "Item"},
		"reports_col_value":     {ZH: "数值", EN: "Value"},
		"reports_col_community": {ZH: "社区", EN: "Community"},
		"reports_col_status":    {ZH: "状态", EN: "Status"},
		"reports_totals":        {ZH: "合计", EN: "Total"},

		"reports_status_draft":     {ZH: "草稿", EN: "draft"},
		"reports_status_submitted": {ZH: "已上报", EN: "submitted"},
		"reports_status_late":      {ZH: "逾期未报", EN: "late"},
		"reports_status_missing":   {ZH: "未上报", EN: "not submitted"},

		"reports_figure_households_total":          {ZH: "总户数", EN: "Households"},
		"reports_figure_households_screened_total": {ZH: "累计排查户数", EN: "Households screened"},
		"reports_figure_screened_by_phone_total":   {ZH: "累计电话排查户数", EN: "Screened by phone"},
		"reports_figure_screened_by_visit_total":   {ZH: "累计入户排查户数", EN: "Screened at the door"},
		"reports_figure_households_unreached":      {ZH: "未联系上户数", EN: "Households never reached"},
		"reports_figure_screened_today":            {ZH: "今日新排查户数", EN: "Screened today"},
		"reports_figure_visits_today":              {ZH: "今日入户次数", EN: "Visits today"},
		"reports_figure_calls_today":               {ZH: "今日电话次数", EN: "Calls today"},
		"reports_figure_notices_posted_today":      {ZH: "今日张贴通告数", EN: "Notices posted today"},
		"reports_figure_notices_posted_total":      {ZH: "累计张贴通告数", EN: "Notices posted in all"},
		"reports_figure_isolation_active":          {ZH: "在管隔离人数", EN: "Under isolation"},
		"reports_figure_isolation_started_today":   {ZH: "今日新增隔离", EN: "Isolation started today"},
		"reports_figure_isolation_released_today":  {ZH: "今日解除隔离", EN: "Released today"},
		"reports_figure_isolation_released_total":  {ZH: "累计解除隔离", EN: "Released in all"},
		"reports_figure_households_isolated_total": {ZH: "累计居家隔离户数", EN: "Households isolated"},
		"reports_figure_households_released_total": {ZH: "累计解除隔离户数", EN: "Households released"},
		"reports_figure_fever_alerts_today":        {ZH: "今日发热预警", EN: "Fever alerts today"},
		"reports_figure_suspected":                 {ZH: "疑似病例", EN: "Suspected"},
		"reports_figure_confirmed":                 {ZH: "确诊病例", EN: "Confirmed"},
		"reports_figure_close_contacts":            {ZH: "密切接触者", EN: "Close contacts"},
		"reports_figure_support_open":              {ZH: "待办帮扶需求", EN: "Support requests open"},
		"reports_figure_support_done_today":        {ZH: "今日办结帮扶", EN: "Support done today"},
		"reports_figure_messages_sent_today":       {ZH: "今日发送短信/语音", EN: "Messages sent today"},
		"reports_manual_notices_posted":            {ZH: "张贴通告（填报）", EN: "Notices posted (typed in)"},
		"reports_manual_disinfection_rounds":       {ZH: "消毒次数（填报）", EN: "Disinfection rounds (typed in)"},
		"reports_manual_staff_on_duty":             {ZH: "在岗工作人员", EN: "Staff on duty"},
		"reports_manual_volunteers_on_duty":        {ZH: "在岗志愿者", EN: "Volunteers on duty"},
	})
}
