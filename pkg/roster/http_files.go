package roster

import (
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

func (s *Service) handleCreateImport(c *gin.Context) {
	kind := strings.TrimSpace(c.PostForm("kind"))
	fh, err := c.FormFile("file")
	if err != nil {
		if errs.KindOf(err) == errs.KindTooLarge || strings.Contains(err.Error(), "request body too large") {
			web.Fail(c, errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": MaxImportBytes}))
			return
		}
		fe := []errs.FieldError{errs.Field("file", "import_file_required", nil)}
		if kind != KindHouseholds && kind != KindResidents {
			fe = append(fe, errs.Field("kind", "import_kind", nil))
		}
		web.Fail(c, errs.Validation(fe...))
		return
	}
	if fh.Size > MaxImportBytes {
		web.Fail(c, errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": MaxImportBytes}))
		return
	}
	f, err := fh.Open()
	if err != nil {
		web.Fail(c, err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxImportBytes+1))
	if err != nil {
		web.Fail(c, err)
		return
	}
	imp, err := s.CreateImport(c.Request.Context(), kind, fh.Filename, data)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": imp.ID, "status": imp.Status})
}

func (s *Service) handleGetImport(c *gin.Context) {
	imp, err := s.GetImport(c.Request.Context(), c.Param("id"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	lang := web.Lang(c)
	for i := range imp.Errors {
		e := &imp.Errors[i]
		e.Message, e.Key, e.Args = i18n.T(lang, e.Key, e.Args), "", nil
	}
	body := gin.H{"id": imp.ID, "kind": imp.Kind, "status": imp.Status, "filename": imp.Filename, "rows": imp.Rows,
		"created": imp.Created, "updated": imp.Updated, "unchanged": imp.Unchanged, "errors": imp.Errors,
		"errors_truncated": imp.ErrorsTruncated, "error_count": imp.ErrorCount, "created_at": imp.CreatedAt, "started_at": imp.StartedAt, "finished_at": imp.FinishedAt}
	if imp.Message != "" {
		body["message"] = i18n.T(lang, imp.Message, imp.MessageArgs)
	}
	c.JSON(http.StatusOK, body)
}

func (s *Service) handleExport(c *gin.Context) {
	kind, format, _ := strings.Cut(c.Param("file"), ".")
	if (kind != KindResidents && kind != KindHouseholds) || (format != "csv" && format != "xlsx") {
		web.Fail(c, errs.New(errs.KindNotFound, "export_unknown", nil))
		return
	}
	var opts ExportOptions
	switch c.Query("id_numbers") {
	case "", "masked":
	case "full":
		opts.FullIDNumbers = true
	default:
		web.Fail(c, errs.Validation(errs.Field("id_numbers", "export_id_numbers", nil)))
		return
	}
	web.Download(c, kind+"."+format, func(w io.Writer) error { return s.ExportWith(c.Request.Context(), kind, format, opts, w) })
}

// handleRejectedRows serves /imports/{id}/rejected.{csv|xlsx}.
func (s *Service) handleRejectedRows(c *gin.Context) {
	name, format, _ := strings.Cut(c.Param("file"), ".")
	if name != "rejected" || (format != "csv" && format != "xlsx") {
		web.Fail(c, errs.NotFound())
		return
	}
	id := c.Param("id")
	web.Download(c, "rejected-"+id+"."+format, func(w io.Writer) error {
		return s.RejectedRows(c.Request.Context(), id, format, web.Lang(c), w)
	})
}
