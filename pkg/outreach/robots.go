package outreach

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Robot is the community's WeCom group robot (企业微信群机器人). Its
// webhook key lets anyone who has it post to the residents' group, so it
// is sealed at rest, bound to the community, and never shown whole or
// logged.
type Robot struct {
	bun.BaseModel `bun:"table:outreach_robots,alias:rb"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name"`
	KeySealed     string    `bun:"key_sealed"`
	KeyHint       string    `bun:"key_hint"`
	UpdatedBy     string    `bun:"updated_by"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// RobotInput sets the robot: the webhook address as WeCom shows it (or its
// key alone) and a name for the group.
type RobotInput struct {
	Name       string `json:"name"`
	WebhookURL string `json:"webhook_url"`
}

// RobotView is the robot as the API shows it: never its key.
type RobotView struct {
	Configured bool   `json:"configured"`
	Name       string `json:"name,omitempty"`
	KeyHint    string `json:"key_hint,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

// GroupPostLog records a notice posted to the community's group in the
// publicity log (screening's), in the transaction that records it sent, so
// a post is logged exactly when it went.
type GroupPostLog interface {
	LogGroupPost(ctx context.Context, tx *store.TenantTx, day, notes, byUser string) error
}

// robotAD binds a sealed key to its community: a key copied into another
// community's row does not open.
func robotAD(tenantID string) []byte { return []byte("outreach_robots:" + tenantID) }

// GetRobot shows whether the community has a robot, and which.
func (s *Service) GetRobot(ctx context.Context) (*RobotView, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*RobotView, error) {
		rb, err := s.robot(ctx, tx)
		if err != nil || rb == nil {
			return &RobotView{}, err
		}
		return &RobotView{Configured: true, Name: rb.Name, KeyHint: rb.KeyHint, UpdatedAt: rb.UpdatedAt.Format(time.RFC3339)}, nil
	})
}

func (s *Service) robot(ctx context.Context, tx *store.TenantTx) (*Robot, error) {
	var rb Robot
	err := tx.Select(&rb).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load robot: %w", err)
	}
	return &rb, nil
}

// SetRobot sets (or replaces) the community's robot.
func (s *Service) SetRobot(ctx context.Context, in RobotInput) (*RobotView, error) {
	if s.Robots == nil {
		return nil, errs.Validation(errs.Field("webhook_url", "wecom_unavailable", nil))
	}
	var fe []errs.FieldError
	name := strings.TrimSpace(in.Name)
	if name == "" {
		fe = append(fe, errs.Field("name", "required", nil))
	} else if len([]rune(name)) > 100 {
		fe = append(fe, errs.Field("name", "too_long", map[string]any{"max": 100}))
	}
	key, err := provider.ParseWeComKey(in.WebhookURL)
	switch {
	case errors.Is(err, provider.ErrWeComKey):
		fe = append(fe, errs.Field("webhook_url", "wecom_key", nil))
	case err != nil:
		fe = append(fe, errs.Field("webhook_url", "wecom_webhook", nil))
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*RobotView, error) {
		now := s.now()
		rb := &Robot{TenantID: tx.Tenant(), ID: newID(), Name: name,
			KeySealed: base64.StdEncoding.EncodeToString(s.Robots.Seal([]byte(key), robotAD(tx.Tenant()))),
			KeyHint:   provider.MaskWeComKey(key), UpdatedBy: actor(ctx), UpdatedAt: now}
		if _, err := tx.Insert(rb).On("CONFLICT (tenant_id) DO UPDATE").
			Set("name = EXCLUDED.name, key_sealed = EXCLUDED.key_sealed, key_hint = EXCLUDED.key_hint, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").
			Exec(ctx); err != nil {
			return nil, fmt.Errorf("save robot: %w", err)
		}
		// The audit says who changed the robot, and to which (by its hint):
		// never the key.
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "outreach_robot", "", map[string]any{"name": name, "key_hint": rb.KeyHint}); err != nil {
			return nil, err
		}
		return &RobotView{Configured: true, Name: name, KeyHint: rb.KeyHint, UpdatedAt: now.Format(time.RFC3339)}, nil
	})
}

// DeleteRobot removes the community's robot; notices queued for it then
// fail with a reason staff can read.
func (s *Service) DeleteRobot(ctx context.Context) error {
	return scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) error {
		res, err := tx.Delete((*Robot)(nil)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete robot: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound()
		}
		return audit.Record(ctx, tx, audit.ActionDelete, "outreach_robot", "", nil)
	})
}

// RobotTestText is the test message's text: it says to the group's
// members what it is, so nobody takes it for a notice.
const RobotTestText = "【测试消息】这是万家社区平台发给本群的测试消息，说明群机器人设置正确，无需回复。"

// TestRobot posts one test message to the community's robot, so the
// office learns the key works before a notice depends on it. It is
// audited, sent or refused; WeCom's refusal comes back on the robot's
// field, in WeCom's words as the provider put them.
func (s *Service) TestRobot(ctx context.Context) error {
	if s.WeCom == nil {
		return errs.Validation(errs.Field("webhook_url", "wecom_unavailable", nil))
	}
	key, err := s.robotKey(ctx)
	if err != nil {
		return err
	}
	if key == "" {
		return errs.Validation(errs.Field("webhook_url", "wecom_no_robot", nil))
	}
	postErr := s.WeCom.Post(ctx, key, provider.WeComPost{Format: provider.WeComText, Content: RobotTestText})
	outcome := "sent"
	var pe *provider.Error
	if postErr != nil {
		outcome = "failed"
		if errors.As(postErr, &pe) && pe.Code != "" {
			outcome = pe.Code
		}
	}
	if err := scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) error {
		return audit.Record(ctx, tx, audit.ActionUpdate, "outreach_robot", "", map[string]any{"action": "test", "outcome": outcome})
	}); err != nil {
		return err
	}
	switch {
	case postErr == nil:
		return nil
	case pe != nil && pe.Permanent:
		return errs.Validation(errs.Field("webhook_url", "wecom_test_refused", map[string]any{"reason": pe.Reason}))
	default:
		return errs.Unavailable("wecom_test_failed", postErr)
	}
}

// robotKey opens the community's robot key for a post.
func (s *Service) robotKey(ctx context.Context) (string, error) {
	var key string
	err := s.DB.InTenantReadTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		rb, err := s.robot(ctx, tx)
		if err != nil || rb == nil {
			return err
		}
		sealed, err := base64.StdEncoding.DecodeString(rb.KeySealed)
		if err != nil {
			return fmt.Errorf("robot key: %w", err)
		}
		if s.Robots == nil {
			return errors.New("robot key: no sealing key configured")
		}
		plain, err := s.Robots.Open(sealed, robotAD(tx.Tenant()))
		if err != nil {
			return fmt.Errorf("robot key: %w", err)
		}
		key = string(plain)
		return nil
	})
	return key, err
}

// postWeCom posts a claimed notice to the community's robot. A community
// without a robot (removed after the notice was made) fails the notice for
// good, with a reason staff can act on.
func (s *Service) postWeCom(ctx context.Context, cl *claimed) (provider.Sent, error) {
	if s.WeCom == nil {
		return provider.Sent{}, &provider.Error{Permanent: true, Code: "wecom_unavailable", Reason: "未配置企业微信发送"}
	}
	key, err := s.robotKey(ctx)
	if err != nil {
		return provider.Sent{}, err // transient: the database, or the sealing key
	}
	if key == "" {
		return provider.Sent{}, &provider.Error{Permanent: true, Code: "wecom_no_robot", Reason: "社区未设置企业微信群机器人"}
	}
	at := s.now()
	post := provider.WeComPost{Format: provider.WeComFormat(cl.campaign.Format), Content: cl.msg.Body}
	if err := s.WeCom.Post(ctx, key, post); err != nil {
		return provider.Sent{}, err
	}
	return provider.Sent{At: at}, nil
}

// recordPosted records a notice posted and logs it in the publicity log,
// in one transaction: a post is logged once, when its row goes to sent.
func (s *Service) recordPosted(ctx context.Context, cl *claimed) error {
	err := s.untilRecorded(cl.msg.ID, func() error {
		tctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
		defer cancel()
		return s.recordPostedTx(tctx, cl)
	})
	if err != nil {
		return fmt.Errorf("outreach: record post: %w", err)
	}
	s.Metrics.count(StatusSent, "wecom")
	return nil
}

// recordPostedTx is recordPosted's transaction: the message sent and, the
// first time, the post in the publicity log.
func (s *Service) recordPostedTx(ctx context.Context, cl *claimed) error {
	return s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		comm, err := s.community(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		res, err := tx.Update((*Message)(nil)).
			Set("status = ?, error_code = '', error = '', maybe_sent = false, sent_at = COALESCE(m.sent_at, ?), updated_at = ?", StatusSent, now, now).
			Where("m.id = ? AND m.status IN (?, ?)", cl.msg.ID, StatusSending, StatusUnknown).Exec(ctx)
		if err != nil {
			return fmt.Errorf("record post: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || s.Posts == nil {
			return nil
		}
		return s.Posts.LogGroupPost(ctx, tx, comm.day(now), cl.campaign.Name, cl.campaign.CreatedBy)
	})
}
