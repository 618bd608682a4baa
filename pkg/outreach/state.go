package outreach

import (
	"context"
	"fmt"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// A campaign's life: draft → scheduled (send_at ahead) or running →
// finished; paused and back; cancelled from any state but finished.
// retry-failed takes a finished campaign back to running for its failed
// messages only. Any other move is a 409.

// change runs one state move: check loads the campaign and decides (or
// refuses), apply writes what else the move changes, and a campaign left
// running is dispatched after the commit.
func (s *Service) change(ctx context.Context, id, action string,
	move func(ctx context.Context, tx *store.TenantTx, c *Campaign) error) (*CampaignView, error) {
	var tenant string
	v, err := scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*CampaignView, error) {
		tenant = tx.Tenant()
		c, err := s.campaign(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		from := c.Status
		if c.Status == CampaignRunning {
			// Running with nothing left to send is finished, as the
			// campaign's page already says, though the reconciler may not
			// have written it yet: pause and cancel are then refused.
			st, err := s.stats(ctx, tx, c)
			if err != nil {
				return nil, err
			}
			if st.pending() == 0 {
				now := s.now()
				c.Status, c.FinishedAt = CampaignFinished, &now
			}
		}
		if err := move(ctx, tx, c); err != nil {
			return nil, err
		}
		c.UpdatedAt = s.now()
		if c.Status != CampaignPaused {
			c.PauseReason = "" // a system pause ends with the pause
		}
		if _, err := tx.Update(c).Column("status", "pause_reason", "updated_at", "started_at", "finished_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("%s campaign: %w", action, err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "outreach_campaign", c.ID,
			map[string]any{"action": action, "from": from, "to": c.Status}); err != nil {
			return nil, err
		}
		v := campaignView(c)
		if v.Stats, err = s.stats(ctx, tx, c); err != nil {
			return nil, err
		}
		return &v, nil
	})
	if err != nil {
		return nil, err
	}
	if v.Status == CampaignRunning {
		// After the commit: the tasks must find the campaign running. If
		// Redis is down the reconciler queues the messages within a minute.
		if err := s.enqueueDispatch(ctx, tenant, v.ID); err != nil {
			s.logger().Warn("outreach: campaign started but not dispatched; the reconciler will queue it", "campaign_id", v.ID, "err", err)
		}
	}
	return v, nil
}

func wrongState(c *Campaign, action string) error {
	return conflict("campaign_wrong_state", map[string]any{"status": c.Status, "action": action})
}

// start makes c running now, or scheduled when send_at is ahead.
func (s *Service) start(c *Campaign) {
	now := s.now()
	if c.SendAt != nil && c.SendAt.After(now) {
		c.Status = CampaignScheduled
		return
	}
	c.Status = CampaignRunning
	if c.StartedAt == nil {
		c.StartedAt = &now
	}
}

// SendCampaign sends a draft now, or schedules it for its send_at.
func (s *Service) SendCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return s.change(ctx, id, "send", func(ctx context.Context, tx *store.TenantTx, c *Campaign) error {
		if c.Status != CampaignDraft {
			return wrongState(c, "send")
		}
		s.start(c)
		return nil
	})
}

// PauseCampaign stops a running or scheduled campaign; messages already
// with the provider go on.
func (s *Service) PauseCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return s.change(ctx, id, "pause", func(ctx context.Context, tx *store.TenantTx, c *Campaign) error {
		if c.Status != CampaignRunning && c.Status != CampaignScheduled {
			return wrongState(c, "pause")
		}
		c.Status = CampaignPaused
		return nil
	})
}

// ResumeCampaign continues a paused campaign.
func (s *Service) ResumeCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return s.change(ctx, id, "resume", func(ctx context.Context, tx *store.TenantTx, c *Campaign) error {
		if c.Status != CampaignPaused {
			return wrongState(c, "resume")
		}
		s.start(c)
		return nil
	})
}

// CancelCampaign ends a campaign: what has not gone to the provider never
// will.
func (s *Service) CancelCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return s.change(ctx, id, "cancel", func(ctx context.Context, tx *store.TenantTx, c *Campaign) error {
		switch c.Status {
		case CampaignDraft, CampaignScheduled, CampaignRunning, CampaignPaused:
		default:
			return wrongState(c, "cancel")
		}
		now := s.now()
		c.Status, c.FinishedAt = CampaignCancelled, &now
		_, err := tx.Update((*Message)(nil)).Set("status = ?, updated_at = ?", StatusCancelled, now).
			Where("m.campaign_id = ? AND m.status IN (?, ?)", c.ID, StatusQueued, StatusHeldQuietHours).Exec(ctx)
		return err
	})
}

// RetryFailedCampaign sends the failed messages of a finished campaign
// again, and only those.
func (s *Service) RetryFailedCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return s.change(ctx, id, "retry_failed", func(ctx context.Context, tx *store.TenantTx, c *Campaign) error {
		st, err := s.stats(ctx, tx, c)
		if err != nil {
			return err
		}
		finished := c.Status == CampaignFinished || (c.Status == CampaignRunning && st.pending() == 0)
		if !finished {
			return wrongState(c, "retry_failed")
		}
		if st.Failed == 0 {
			return conflict("campaign_nothing_failed", nil)
		}
		now := s.now()
		if _, err := tx.Update((*Message)(nil)).
			Set("status = ?, attempts = 0, maybe_sent = false, error = '', error_code = '', due_at = ?, updated_at = ?", StatusQueued, now, now).
			Where("m.campaign_id = ? AND m.status = ?", c.ID, StatusFailed).Exec(ctx); err != nil {
			return fmt.Errorf("retry failed messages: %w", err)
		}
		c.Status, c.FinishedAt = CampaignRunning, nil
		return nil
	})
}
