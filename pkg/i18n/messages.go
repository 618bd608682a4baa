package i18n

// The generic messages: one per errs machine code (so any error has a text
// even when its raiser chose no key) and the field and request messages the
// foundation packages raise. Domain messages belong to their domain packages.
func init() {
	Register(map[string]Message{
		// One per errs code.
		"bad_request":        {"请求格式有误", "The request is malformed"},
		"unauthenticated":    {"请先登录", "Please sign in"},
		"forbidden":          {"无权执行此操作", "You are not allowed to do this"},
		"not_found":          {"记录不存在", "No such record"},
		"method_not_allowed": {"不支持该请求方法", "Method not allowed"},
		"conflict":           {"操作与当前状态冲突", "The request conflicts with the current state"},
		"too_large":          {"请求内容过大", "The request is too large"},
		"validation_failed":  {"提交的内容有误，请检查", "Some fields are invalid"},
		"rate_limited":       {"请求过于频繁，请稍后再试", "Too many requests, please try again later"},
		"unavailable":        {"服务暂时不可用，请稍后再试", "The service is temporarily unavailable, please try again later"},
		"internal":           {"服务器内部错误，请稍后再试", "Internal server error, please try again later"},

		// Field and request messages.
		"required":             {"必填", "Required"},
		"invalid_format":       {"格式不正确", "Invalid format"},
		"too_long":             {"不能超过 {max} 个字符", "Must be at most {max} characters"},
		"out_of_range":         {"应在 {min} 到 {max} 之间", "Must be between {min} and {max}"},
		"too_many_entries":     {"不能超过 {max} 项", "At most {max} entries"},
		"entry_length":         {"每项应为 1 到 {max} 个字", "Each entry must be 1 to {max} characters"},
		"invalid_date":         {"日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD"},
		"date_in_future":       {"日期不能晚于今天", "The date is after today"},
		"one_of":               {"应为以下之一：{allowed}", "Must be one of: {allowed}"},
		"invalid_json":         {"JSON 格式不正确", "Malformed JSON"},
		"empty_body":           {"请求内容为空", "The request body is empty"},
		"body_too_large":       {"请求内容过大，上限 {limit} 字节", "The request body is too large (limit {limit} bytes)"},
		"unknown_route":        {"接口不存在", "No such endpoint"},
		"invalid_limit":        {"应为 1 到 {max} 之间的整数", "Must be an integer from 1 to {max}"},
		"invalid_cursor":       {"分页游标无效", "Invalid page cursor"},
		"unavailable_database": {"数据库暂时不可用，请稍后再试", "The database is temporarily unavailable, please try again later"},
		"unavailable_redis":    {"缓存服务暂时不可用，请稍后再试", "Redis is temporarily unavailable, please try again later"},
	})
}
