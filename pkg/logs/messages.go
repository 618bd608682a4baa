package logs

import "github.com/wanjia/wanjia/pkg/i18n"

// The logs' and their exports' messages.
func init() {
	i18n.Register(map[string]i18n.Message{
		"grid_worker_grid": {ZH: "网格员登记时须选择自己负责的网格", EN: "Grid workers must name one of their grids"},
		"invalid_datetime": {ZH: "时间格式应为 RFC 3339，例如 2020-02-03T09:30:00+08:00", EN: "Use an RFC 3339 time, e.g. 2020-02-03T09:30:00+08:00"},
		"time_in_future":   {ZH: "时间不能晚于现在", EN: "The time is in the future"},

		"logs_sheet_publicity":     {ZH: "宣传记录", EN: "Publicity"},
		"logs_sheet_disinfections": {ZH: "消毒记录", EN: "Disinfection"},
		"logs_col_date":            {ZH: "日期", EN: "Date"},
		"logs_col_time":            {ZH: "时间", EN: "Time"},
		"logs_col_kind":            {ZH: "类型", EN: "Kind"},
		"logs_col_count":           {ZH: "数量", EN: "Count"},
		"logs_col_grid":            {ZH: "网格", EN: "Grid"},
		"logs_col_place":           {ZH: "地点", EN: "Place"},
		"logs_col_notes":           {ZH: "备注", EN: "Notes"},
		"logs_col_by":              {ZH: "登记人", EN: "Recorded by"},
		"logs_col_done_by":         {ZH: "执行人", EN: "Done by"},
		"logs_col_recorded_at":     {ZH: "登记时间", EN: "Recorded at"},
		"logs_whole_community":     {ZH: "全社区", EN: "Whole community"},
		"publicity_kind_notice":    {ZH: "通知公告", EN: "Notice"},
		"publicity_kind_poster":    {ZH: "宣传海报", EN: "Poster"},
		"publicity_kind_letter":    {ZH: "致居民信", EN: "Letter"},
		"publicity_kind_wechat":    {ZH: "微信群发布", EN: "WeChat group post"},
	})
}
