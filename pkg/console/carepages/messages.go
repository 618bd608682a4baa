package carepages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the care pages, in both languages (the words of a call or
// a visit, which screening's pages use too, are pkg/console's). Keys start
// with "console."; TestTemplatesUseCatalogue fails on text in a template
// that is not from the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		"console.menu.care":           {ZH: "关怀", EN: "Care"},
		"console.care.title":          {ZH: "关怀名单", EN: "Care list"},
		"console.care.total":          {ZH: "共 {n} 人", EN: "{n} residents"},
		"console.care.note":           {ZH: "独居老人等需要关怀的居民，最久没有联系上的排在前面。", EN: "Residents to look after, such as elderly people living alone; the longest without contact first."},
		"console.care.only_overdue":   {ZH: "只看逾期未联系的", EN: "Overdue only"},
		"console.care.recorded":       {ZH: "已登记关怀", EN: "Care contact recorded"},
		"console.care.last_contact":   {ZH: "上次联系上", EN: "Last contact"},
		"console.care.last_attempt":   {ZH: "最近一次联系", EN: "Last attempt"},
		"console.care.contact":        {ZH: "登记关怀", EN: "Record a contact"},
		"console.care.contact.title":  {ZH: "登记关怀", EN: "Record a care contact"},
		"console.care.age":            {ZH: "{n} 岁", EN: "aged {n}"},
		"console.care.born":           {ZH: "{year} 年生", EN: "born {year}"},
		"console.care.never":          {ZH: "从未联系上", EN: "Never"},
		"console.care.days_ago":       {ZH: "{n} 天前", EN: "{n} days ago"},
		"console.care.today":          {ZH: "今天", EN: "today"},
		"console.care.overdue":        {ZH: "逾期", EN: "Overdue"},
		"console.care.empty":          {ZH: "名单上没有居民", EN: "Nobody on the care list"},
		"console.care.no_phone":       {ZH: "没有登记电话", EN: "No phone on record"},
		"console.care.reason":         {ZH: "事由", EN: "Reason"},
		"console.care.reason.routine": {ZH: "例行问候", EN: "Routine check"},
		"console.care.reason.weather": {ZH: "天气变化提醒", EN: "Weather warning"},
		"console.care.reason.health":  {ZH: "身体不适回访", EN: "Checking on their health"},
		"console.care.reason.holiday": {ZH: "节日慰问", EN: "Holiday visit"},
	})
}
