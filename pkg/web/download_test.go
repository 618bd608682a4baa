package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
)

// TestDownload: a file goes out as an attachment of its type; a refusal
// before the first byte is the API's error answer, not an empty file; a
// failure after it cuts the file short with the 200 already sent.
func TestDownload(t *testing.T) {
	e := NewEngine(Options{})
	e.GET("/f/:name", func(c *gin.Context) {
		Download(c, c.Param("name"), func(w io.Writer) error {
			switch c.Query("fail") {
			case "before":
				return errs.Validation(errs.Field("grid", "unknown_grid", nil))
			case "after":
				_, _ = io.WriteString(w, "a,b\n")
				return errors.New("the database went away")
			}
			_, err := io.WriteString(w, "a,b\n1,2\n")
			return err
		})
	})
	for _, c := range []struct {
		path, ctype, disposition, body string
		status                         int
	}{
		{"/f/residents.csv", "text/csv; charset=utf-8", `attachment; filename="residents.csv"`, "a,b\n1,2\n", 200},
		{"/f/residents.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", `attachment; filename="residents.xlsx"`, "a,b\n1,2\n", 200},
		{"/f/residents.csv?fail=before", "application/json; charset=utf-8", "", `"code":"validation_failed"`, 422},
		{"/f/residents.csv?fail=after", "text/csv; charset=utf-8", `attachment; filename="residents.csv"`, "a,b\n", 200},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.ctype || rec.Header().Get("Content-Disposition") != c.disposition ||
			!strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: %d %q %q %q", c.path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"), rec.Body.String())
		}
	}
}
