package outreach

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	read        = authz.Perm{Resource: "outreach", Action: "read"}
	write       = authz.Perm{Resource: "outreach", Action: "write"}
	send        = authz.Perm{Resource: "outreach", Action: "send"}
	optOutRead  = authz.Perm{Resource: "opt_outs", Action: "read"}
	optOutWrite = authz.Perm{Resource: "opt_outs", Action: "write"}
	robotRead   = authz.Perm{Resource: "wecom_robot", Action: "read"}
	robotWrite  = authz.Perm{Resource: "wecom_robot", Action: "write"}
)

// Routes mounts outreach on /orgs/{org}.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/templates", read, web.Paged(filterFrom, s.ListTemplates))
	org.Handle(http.MethodPost, "/templates", write, idempotency.Middleware(), web.Create(s.CreateTemplate))
	org.Handle(http.MethodGet, "/campaigns", read, web.Paged(filterFrom, s.ListCampaigns))
	org.Handle(http.MethodPost, "/campaigns", write, idempotency.Middleware(), web.Create(s.CreateCampaign))
	org.Handle(http.MethodGet, "/campaigns/:id", read, web.Read(s.GetCampaign))
	org.Handle(http.MethodGet, "/campaigns/:id/preview", read, web.Read(s.PreviewCampaign))
	org.Handle(http.MethodGet, "/campaigns/:id/messages", read, web.Paged(filterFrom, s.ListMessages))
	for path, move := range map[string]func(context.Context, string) (*CampaignView, error){
		"send": s.SendCampaign, "pause": s.PauseCampaign, "resume": s.ResumeCampaign,
		"cancel": s.CancelCampaign, "retry-failed": s.RetryFailedCampaign,
	} {
		org.Handle(http.MethodPost, "/campaigns/:id/"+path, send, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*CampaignView, error) {
			return move(c.Request.Context(), c.Param("id"))
		}))
	}
	org.Handle(http.MethodGet, "/opt-outs", optOutRead, web.Paged(filterFrom, s.ListOptOuts))
	org.Handle(http.MethodPost, "/opt-outs", optOutWrite, idempotency.Middleware(), web.Create(s.AddOptOut))
	org.Handle(http.MethodDelete, "/opt-outs", optOutWrite, func(c *gin.Context) {
		in := OptOutInput{Phone: c.Query("phone")}
		if in.Phone == "" {
			if err := web.BindJSON(c, &in); err != nil {
				web.Fail(c, err)
				return
			}
		}
		if err := s.RemoveOptOut(c.Request.Context(), in); err != nil {
			web.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	org.Handle(http.MethodGet, "/replies", read, web.Paged(filterFrom, s.ListReplies))
	org.Handle(http.MethodGet, "/wecom-robot", robotRead, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*RobotView, error) {
		return s.GetRobot(c.Request.Context())
	}))
	org.Handle(http.MethodPut, "/wecom-robot", robotWrite, web.Handle(http.StatusOK, func(c *gin.Context, in RobotInput) (*RobotView, error) {
		return s.SetRobot(c.Request.Context(), in)
	}))
	org.Handle(http.MethodDelete, "/wecom-robot", robotWrite, func(c *gin.Context) {
		if err := s.DeleteRobot(c.Request.Context()); err != nil {
			web.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Campaign: c.Param("id"), Status: c.Query("status"), Limit: p.Limit, Cursor: p.Cursor}, nil
}

// ReplyView is a resident's reply as staff see it.
type ReplyView struct {
	ID         string `json:"id"`
	Phone      string `json:"phone"`
	Text       string `json:"text"`
	Kind       string `json:"kind"`
	ReceivedAt string `json:"received_at"`
}

// ListReplies lists residents' replies, newest first (filter kind via
// status: reply, opt_out, opt_in, handled).
func (s *Service) ListReplies(ctx context.Context, f Filter) ([]ReplyView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (store.Page[ReplyView], error) {
		rows := store.PageRows[Reply](f.Limit)
		q := tx.Select(&rows)
		if f.Status != "" {
			q = q.Where("r.kind = ?", f.Status)
		}
		if err := store.KeysetDesc(q, "r.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[ReplyView]{}, fmt.Errorf("list replies: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *Reply) string { return r.ID })
		view := scope.ViewOf(ctx)
		out := make([]ReplyView, 0, len(page.Items))
		for _, r := range page.Items {
			out = append(out, ReplyView{ID: r.ID, Phone: view.Phone(r.Phone), Text: r.Text, Kind: r.Kind,
				ReceivedAt: r.ReceivedAt.Format("2006-01-02T15:04:05Z07:00")})
		}
		return store.Page[ReplyView]{Items: out, Next: page.Next}, nil
	})
	if err == nil {
		ids, phones := make([]string, len(p.Items)), make([]string, len(p.Items))
		for i, r := range p.Items {
			ids[i], phones[i] = r.ID, r.Phone
		}
		err = scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "outreach_replies", IDs: ids, Phones: phones,
			Filters: map[string]any{"kind": f.Status}})
	}
	return p.Items, p.Next, err
}
