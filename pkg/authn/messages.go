package authn

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"login_failed":  {ZH: "用户名或密码错误", EN: "Wrong username or password"},
		"login_locked":  {ZH: "登录失败次数过多，请 {minutes} 分钟后再试", EN: "Too many failed logins; try again in {minutes} minutes"},
		"token_invalid": {ZH: "登录已失效，请重新登录", EN: "Your session is no longer valid; please sign in again"},
	})
}
