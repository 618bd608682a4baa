package screening

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"end_before_start":      {ZH: "结束日期不能早于开始日期", EN: "The end date is before the start date"},
		"screening_closed":      {ZH: "该排查已结束，不能再登记", EN: "This screening has ended; nothing more can be recorded on it"},
		"follow_up_not_open":    {ZH: "该跟进事项已处理（{status}），不能再转为隔离", EN: "This follow-up is no longer open ({status}); it cannot become a case"},
		"task_not_wrong_number": {ZH: "此户的电话没有被标记为空号/错号", EN: "This household's number was not marked wrong"},
		"follow_up_is_case":     {ZH: "该跟进事项已转为隔离个案，请在隔离管理中处理", EN: "This follow-up became an isolation case; work on it there"},
	})
}
