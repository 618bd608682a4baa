package authz

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"org_not_found": {ZH: "机构不存在", EN: "No such organisation"},
	})
}
