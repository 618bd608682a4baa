package logs

import (
	"context"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	logsRead   = authz.Perm{Resource: "logs", Action: "read"}
	logsWrite  = authz.Perm{Resource: "logs", Action: "write"}
	logsExport = authz.Perm{Resource: "logs", Action: "export"}
)

// Routes mounts the publicity and disinfection logs on /orgs/{org}.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/publicity", logsRead, web.Paged(logFilterFrom, s.ListPublicity))
	org.Handle(http.MethodPost, "/publicity", logsWrite, idempotency.Middleware(), web.Create(s.CreatePublicity))
	org.Handle(http.MethodGet, "/publicity/export", logsExport, s.exportHandler("publicity", s.ExportPublicity))
	org.Handle(http.MethodGet, "/disinfections", logsRead, web.Paged(logFilterFrom, s.ListDisinfections))
	org.Handle(http.MethodPost, "/disinfections", logsWrite, idempotency.Middleware(), web.Create(s.CreateDisinfection))
	org.Handle(http.MethodGet, "/disinfections/export", logsExport, s.exportHandler("disinfections", s.ExportDisinfections))
}

func logFilterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Grid: c.Query("grid"), Kind: c.Query("kind"), From: c.Query("from"), To: c.Query("to"),
		Limit: p.Limit, Cursor: p.Cursor}, nil
}

// exportHandler serves a log's ?format=csv|xlsx (xlsx when not given)
// with the list's filters, titles in the caller's language.
func (s *Service) exportHandler(name string, export func(ctx context.Context, f Filter, format string, lang i18n.Lang, w io.Writer) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		format := c.DefaultQuery("format", "xlsx")
		f := Filter{Grid: c.Query("grid"), Kind: c.Query("kind"), From: c.Query("from"), To: c.Query("to")}
		web.Download(c, name+"."+format, func(w io.Writer) error {
			return export(c.Request.Context(), f, format, web.Lang(c), w)
		})
	}
}
