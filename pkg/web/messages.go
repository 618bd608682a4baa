package web

import "github.com/wanjia/wanjia/pkg/i18n"

// Messages for JSON type errors, named by the JSON type expected, and for
// text that cannot be stored.
func init() {
	i18n.Register(map[string]i18n.Message{
		"invalid_type":   {ZH: "类型不正确", EN: "Wrong type"},
		"expect_string":  {ZH: "应为字符串", EN: "Must be a string"},
		"expect_integer": {ZH: "应为整数", EN: "Must be an integer"},
		"expect_number":  {ZH: "应为数字", EN: "Must be a number"},
		"expect_boolean": {ZH: "应为 true 或 false", EN: "Must be true or false"},
		"expect_array":   {ZH: "应为数组", EN: "Must be an array"},
		"expect_object":  {ZH: "应为对象", EN: "Must be an object"},
		"invalid_text":   {ZH: "含有不允许的字符（如空字符）", EN: "Contains a character that is not allowed (such as NUL)"},
	})
}
