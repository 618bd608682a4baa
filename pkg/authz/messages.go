package authz

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"org_not_found":  {ZH: "机构不存在", EN: "No such organisation"},
		"community_only": {ZH: "该机构不是社区，没有此项内容", EN: "This organisation is not a community and has no such records"},
	})
}
