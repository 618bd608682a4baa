package audit

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"invalid_time": {ZH: "时间格式应为 RFC 3339 或 YYYY-MM-DD", EN: "Use RFC 3339 or YYYY-MM-DD"},
	})
}
