package idempotency

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"idempotency_key_invalid": {ZH: "Idempotency-Key 应为 1 到 200 个可打印 ASCII 字符", EN: "Idempotency-Key must be 1 to 200 printable ASCII characters"},
		"idempotency_key_reused":  {ZH: "该 Idempotency-Key 已用于另一请求，请换一个新的", EN: "This Idempotency-Key was used for another request; use a new one"},
	})
}
