package web

import (
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Download streams what write writes as an attachment named filename (a
// spreadsheet: its type follows the extension, CSV unless .xlsx). The
// headers go out with the first byte, so a refusal before it (a bad
// filter, no permission to see whole numbers) is still a clean error
// answer through Fail; a failure mid-stream can only cut the file short,
// and is recorded on c for the log.
func Download(c *gin.Context, filename string, write func(w io.Writer) error) {
	w := &attachment{c: c, filename: filename}
	if err := write(w); err != nil {
		if !w.started {
			Fail(c, err)
			return
		}
		_ = c.Error(err)
	}
}

// attachment sends the download's headers with the first bytes written.
type attachment struct {
	c        *gin.Context
	filename string
	started  bool
}

func (a *attachment) Write(p []byte) (int, error) {
	if !a.started {
		a.started = true
		ct := "text/csv; charset=utf-8"
		if strings.HasSuffix(a.filename, ".xlsx") {
			ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		}
		a.c.Header("Content-Type", ct)
		a.c.Header("Content-Disposition", `attachment; filename="`+a.filename+`"`)
		a.c.Status(http.StatusOK)
	}
	return a.c.Writer.Write(p)
}
