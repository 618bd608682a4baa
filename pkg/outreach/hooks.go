package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// replyWindow is how far back a community must have written to a phone
// for that phone's reply to be the community's.
const replyWindow = 30 * 24 * time.Hour

// HookRoutes mounts the providers' callbacks. They carry no user: the
// provider's signature is the only credential, and the community is found
// from the message (receipts) or the phone (replies).
func (s *Service) HookRoutes(r gin.IRouter) {
	r.POST("/hooks/sms/:provider/status", s.hook(func(c *gin.Context, cb provider.Callbacks) error {
		rs, err := cb.Receipts(c.Request)
		if err != nil {
			return err
		}
		for _, rc := range rs {
			if err := s.Receipt(c.Request.Context(), rc); err != nil {
				return err
			}
		}
		return nil
	}))
	r.POST("/hooks/sms/:provider/inbound", s.hook(func(c *gin.Context, cb provider.Callbacks) error {
		in, err := cb.Inbound(c.Request)
		if err != nil {
			return err
		}
		for _, m := range in {
			if err := s.Inbound(c.Request.Context(), m); err != nil {
				return err
			}
		}
		return nil
	}))
}

// hook checks that the callback is for the configured provider and
// signed by it, runs fn and acknowledges. Anything unsigned, or for a
// provider this deployment does not use, is a 401, logged: it may be a
// probe, or a provider console pointed at the wrong deployment.
func (s *Service) hook(fn func(c *gin.Context, cb provider.Callbacks) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := c.Param("provider")
		cb, ok := s.Provider.(provider.Callbacks)
		if !ok || s.Provider.Name() != name {
			s.logger().Warn("outreach hook refused: not this deployment's provider", "provider", name, "path", c.FullPath(), "remote", c.ClientIP())
			web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
			return
		}
		err := fn(c, cb)
		var se storeError
		switch {
		case errors.Is(err, provider.ErrBadSignature):
			s.logger().Warn("outreach hook refused: bad signature", "provider", name, "path", c.FullPath(), "remote", c.ClientIP())
			web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
		case errors.As(err, &se):
			// Not stored: a 5xx makes the provider push it again later.
			s.logger().Error("outreach hook failed", "provider", name, "path", c.FullPath(), "err", err)
			web.Fail(c, errs.New(errs.KindUnavailable, "unavailable", nil))
		case err != nil:
			web.Fail(c, errs.New(errs.KindBadRequest, "bad_request", nil))
		default:
			cb.Ack(c.Writer)
		}
	}
}

// storeError marks a failure to store what a provider sent (as opposed to
// a request that does not parse).
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// Receipt records a delivery report. A report for a message we do not
// have (another deployment's, or one long purged) is acknowledged and
// ignored.
func (s *Service) Receipt(ctx context.Context, rc provider.Receipt) error {
	if rc.MessageID == "" && rc.ProviderID == "" {
		return nil
	}
	var refs []ref
	err := s.DB.AcrossTenants(ctx, "outreach: find a delivery receipt's message", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().TableExpr("outreach_messages").Column("tenant_id", "id")
		if rc.MessageID != "" {
			// By primary key, one community at a time: the key leads with
			// the community, so an id alone would read the whole outbox
			// for every receipt.
			q = q.Where("tenant_id IN (SELECT o.id FROM orgs AS o WHERE o.kind = 'community') AND id = ?", rc.MessageID)
		} else {
			q = q.Where("provider_id = ?", rc.ProviderID)
		}
		return q.Limit(2).Scan(ctx, &refs)
	})
	if err != nil {
		return storeError{fmt.Errorf("find receipt's message: %w", err)}
	}
	if len(refs) != 1 {
		return nil
	}
	var status string
	switch rc.Status.State {
	case provider.StateDelivered:
		status = StatusDelivered
	case provider.StateFailed:
		status = StatusFailed
	default:
		return nil // not final: nothing to record
	}
	at := rc.Status.At
	if at.IsZero() {
		at = s.now()
	}
	tctx := scope.With(ctx, scope.Tenant{TenantID: refs[0].TenantID})
	err = s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
		q := tx.Update((*Message)(nil)).Set("status = ?, updated_at = ?", status, s.now()).
			Where("m.id = ? AND m.status IN (?, ?, ?)", refs[0].ID, StatusSending, StatusSent, StatusUnknown)
		if status == StatusDelivered {
			q = q.Set("delivered_at = ?, sent_at = COALESCE(m.sent_at, ?)", at.UTC(), at.UTC())
		} else {
			q = q.Set("error_code = ?, error = ?", rc.Status.Code, rc.Status.Reason)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			s.Metrics.count(status, s.providerName())
		}
		return nil
	})
	if err != nil {
		return storeError{fmt.Errorf("record receipt: %w", err)}
	}
	return nil
}

// Inbound takes a resident's reply: an opt-out or opt-in word changes the
// list of every community that wrote to the phone lately; anything else
// goes to the ReplyHandler, or is stored for staff.
func (s *Service) Inbound(ctx context.Context, in provider.Inbound) error {
	phone := in.From
	if n, err := pii.NormalizePhone(phone); err == nil {
		phone = n
	}
	var tenants []string
	err := s.DB.AcrossTenants(ctx, "outreach: find the communities a reply answers", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("outreach_messages").ColumnExpr("DISTINCT tenant_id").
			Where("phone = ? AND sent_at > ?", phone, s.now().Add(-replyWindow)).Scan(ctx, &tenants)
	})
	if err != nil {
		return storeError{fmt.Errorf("find reply's communities: %w", err)}
	}
	at := in.At
	if at.IsZero() {
		at = s.now()
	}
	kind := classify(in.Text)
	for _, tenant := range tenants {
		tctx := scope.With(ctx, scope.Tenant{TenantID: tenant})
		// Notices the handler writes are queued after the commit.
		var notices pendingNotices
		err := s.DB.InTenantTx(withPending(tctx, &notices), func(ctx context.Context, tx *store.TenantTx) error {
			notices.reset() // a transaction run again starts afresh
			r := &Reply{TenantID: tenant, ID: newID(), Phone: phone, Text: in.Text, Kind: kind, Provider: s.providerName(),
				ProviderID: in.ProviderID, ReceivedAt: at.UTC()}
			if r.ProviderID == "" {
				r.ProviderID = r.ID // nothing to deduplicate by
			}
			res, err := tx.Insert(r).On("CONFLICT (tenant_id, provider, provider_id) DO NOTHING").Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // pushed twice, and handled the first time
			}
			switch kind {
			case "opt_out":
				_, err = s.optOut(ctx, tx, phone, SourceReply, "resident")
				return err
			case "opt_in":
				_, err = tx.Delete((*OptOut)(nil)).Where("o.phone = ?", phone).Exec(ctx)
				return err
			}
			if s.Replies == nil {
				return nil
			}
			// In the reply's transaction: a handler that fails takes the
			// reply with it, so the provider's retry (our 503 asks for one)
			// finds no duplicate and is handled.
			handled, err := s.Replies.HandleReply(ctx, tx, *r)
			if err != nil {
				return fmt.Errorf("handle reply: %w", err)
			}
			if handled {
				_, err = tx.Update((*Reply)(nil)).Set("kind = 'handled'").Where("r.id = ?", r.ID).Exec(ctx)
			}
			return err
		})
		if err != nil {
			return storeError{fmt.Errorf("store reply: %w", err)}
		}
		s.queueNotices(tctx, notices.ids)
	}
	return nil
}
