package logpages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the publicity and disinfection logs' pages, in both
// languages (a publicity kind's own text is pkg/logs', as the exports
// write it). Keys start with "console."; TestTemplatesUseCatalogue fails on
// text in a template that is not from the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		"console.menu.publicity":           {ZH: "宣传", EN: "Publicity"},
		"console.menu.disinfections":       {ZH: "消毒", EN: "Disinfection"},
		"console.publicity.title":          {ZH: "宣传记录", EN: "Publicity log"},
		"console.publicity.add":            {ZH: "登记宣传", EN: "Log publicity"},
		"console.disinfections.title":      {ZH: "消毒记录", EN: "Disinfection log"},
		"console.disinfections.add":        {ZH: "登记消毒", EN: "Log a round"},
		"console.disinfections.place_hint": {ZH: "如：3栋楼道、东门岗亭", EN: "e.g. stairwells of building 3"},
		"console.disinfections.time_hint":  {ZH: "时间不填即为现在。", EN: "No time: now."},
		"console.disinfections.by_hint":    {ZH: "不填即为本人", EN: "Empty: you"},
		"console.logs.added":               {ZH: "已登记", EN: "Logged"},
		"console.logs.by":                  {ZH: "登记人", EN: "Logged by"},
		"console.logs.count":               {ZH: "数量", EN: "Count"},
		"console.logs.date":                {ZH: "日期", EN: "Date"},
		"console.logs.done_by":             {ZH: "执行人", EN: "Done by"},
		"console.logs.kind":                {ZH: "类型", EN: "Kind"},
		"console.logs.place":               {ZH: "地点", EN: "Place"},
		"console.logs.time":                {ZH: "时间", EN: "Time"},
		"console.logs.download_xlsx":       {ZH: "下载（XLSX）", EN: "Download (XLSX)"},
		"console.logs.download_csv":        {ZH: "下载（CSV）", EN: "Download (CSV)"},
	})
}
