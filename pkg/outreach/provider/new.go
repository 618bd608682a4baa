package provider

import (
	"fmt"
	"log/slog"
)

// Names lists the providers New knows, as WANJIA_SMS_PROVIDER takes them.
var Names = []string{"log", "aliyun", "twilio", "webhook"}

// New returns the provider called name, configured by cfg. Its errors name
// the missing or malformed settings, never a secret's value. logger is the
// log provider's; nil is slog.Default.
func New(name string, cfg Config, logger *slog.Logger) (Provider, error) {
	switch name {
	case "", "log":
		return NewLog(logger), nil
	case "aliyun":
		return nonNil(NewAliyun(cfg))
	case "twilio":
		return nonNil(NewTwilio(cfg))
	case "webhook":
		return nonNil(NewWebhook(cfg))
	}
	return nil, fmt.Errorf("provider: unknown provider %q (want log, aliyun, twilio or webhook)", name)
}

// nonNil keeps a failed constructor's nil pointer from becoming a non-nil
// Provider.
func nonNil[P Provider](p P, err error) (Provider, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}
