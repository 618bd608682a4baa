package provider

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/pii"
)

// Log is the embedded default: it sends nothing and records each message as
// sent and delivered, so that a demo or a test deployment runs the whole
// outreach flow without a contract with a provider.
//
// It logs the message ID, the channel, the masked number and the body's
// length, never the body: a rendered message carries a resident's name, a
// test result or an address.
type Log struct {
	logger *slog.Logger
	now    func() time.Time
}

// NewLog returns the log provider writing to logger (slog.Default if nil).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger, now: time.Now}
}

// Name is "log".
func (*Log) Name() string { return "log" }

// Send logs m and answers ProviderID "log-" + m.ID.
func (p *Log) Send(ctx context.Context, m Message) (Sent, error) {
	if _, err := m.phone(); err != nil {
		return Sent{}, err
	}
	if err := ctx.Err(); err != nil {
		return Sent{}, err
	}
	p.logger.LogAttrs(ctx, slog.LevelInfo, "outreach: message not sent (log provider)",
		slog.String("message_id", m.ID),
		slog.String("channel", string(m.Channel)),
		slog.String("phone", pii.MaskPhone(m.Phone)),
		slog.Int("body_chars", utf8.RuneCountInString(m.Body)),
		slog.String("template_code", m.TemplateCode),
	)
	return Sent{ProviderID: "log-" + m.ID, At: p.now()}, nil
}

// Query answers delivered: the log provider never loses a message.
func (p *Log) Query(ctx context.Context, m Message, sent Sent) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	return Status{State: StateDelivered, At: sent.At}, nil
}
