package rosterpages

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// uploadLimit is the import route's body limit: the largest file roster
// takes, and room for the form around it.
const uploadLimit = roster.MaxImportBytes + 1<<20

type importsView struct {
	*console.Frame
	Kind  string
	State console.FormState
	Kinds []string
}

func (c *Pages) imports(g *gin.Context) {
	v := importsView{Frame: c.k.Frame(g), Kind: roster.KindResidents, Kinds: []string{roster.KindResidents, roster.KindHouseholds}}
	v.Title = "console.imports.title"
	c.k.Render(g, http.StatusOK, "imports", v)
}

// upload stores the file through roster.CreateImport, which checks its
// format and header at once; the rows are the import task's.
func (c *Pages) upload(g *gin.Context) {
	kind := strings.TrimSpace(g.PostForm("kind"))
	v := importsView{Kind: kind, Kinds: []string{roster.KindResidents, roster.KindHouseholds}}
	fail := func(err error) {
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		v.Frame, v.State, v.Title = c.k.Frame(g), console.NewFormState(console.Lang(g), e), "console.imports.title"
		c.k.Render(g, web.Status(e.Kind), "imports", v)
	}
	fh, err := g.FormFile("file")
	if err != nil {
		if strings.Contains(err.Error(), "request body too large") {
			web.Fail(g, errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": roster.MaxImportBytes}))
			return
		}
		fail(errs.Validation(errs.Field("file", "import_file_required", nil)))
		return
	}
	f, err := fh.Open()
	if err != nil {
		web.Fail(g, err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, roster.MaxImportBytes+1))
	if err != nil {
		web.Fail(g, err)
		return
	}
	imp, err := c.roster.CreateImport(g.Request.Context(), kind, fh.Filename, data)
	if err != nil {
		fail(err)
		return
	}
	target := "/imports/" + url.PathEscape(imp.ID)
	if n := estimateRows(fh.Filename, data); n > 0 {
		target += "?rows=" + strconv.Itoa(n)
	}
	g.Redirect(http.StatusSeeOther, console.OrgURL(g, target))
}

// estimateRows guesses a CSV's data rows from its line breaks, so that
// the progress bar has an end to move towards (the import counts rows as
// it reads them and knows the total only when done). An XLSX has no
// cheap guess: its bar shows activity and the count until done.
func estimateRows(filename string, data []byte) int {
	if !strings.HasSuffix(strings.ToLower(filename), ".csv") || len(data) == 0 {
		return 0
	}
	lines := bytes.Count(data, []byte{'\n'})
	if data[len(data)-1] != '\n' {
		lines++
	}
	return max(lines-1, 0)
}

type importView struct {
	*console.Frame
	Import   *roster.Import
	Progress progress
	Problems []problem
	Message  string
	Poll     string // the progress fragment's URL while the import runs
}

type progress struct {
	Percent int // 0–100; -1: running with no known end
	Done    bool
}

type problem struct {
	Row            int
	Field, Message string
}

func (c *Pages) importView(g *gin.Context) (importView, error) {
	imp, err := c.roster.GetImport(g.Request.Context(), g.Param("id"))
	if err != nil {
		return importView{}, err
	}
	f := c.k.Frame(g)
	v := importView{Frame: f, Import: imp}
	est, _ := strconv.Atoi(g.Query("rows"))
	switch imp.Status {
	case "done", "failed":
		v.Progress = progress{Percent: 100, Done: true}
	case "running":
		v.Progress.Percent = -1
		if est > 0 {
			v.Progress.Percent = min(99, imp.Rows*100/est)
		}
	}
	if !v.Progress.Done {
		q := url.Values{}
		if est > 0 {
			q.Set("rows", strconv.Itoa(est))
		}
		v.Poll = console.OrgURL(g, "/imports/"+url.PathEscape(imp.ID)+"/progress")
		if len(q) > 0 {
			v.Poll += "?" + q.Encode()
		}
	}
	if imp.Message != "" {
		v.Message = i18n.T(f.Lang, imp.Message, imp.MessageArgs)
	}
	for _, e := range imp.Errors {
		field := e.Field
		if _, ok := i18n.Lookup("console.field." + field); ok {
			field = i18n.T(f.Lang, "console.field."+field, nil)
		}
		v.Problems = append(v.Problems, problem{Row: e.Row, Field: field, Message: i18n.T(f.Lang, e.Key, e.Args)})
	}
	return v, nil
}

func (c *Pages) importPage(g *gin.Context) {
	v, err := c.importView(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Title = "console.import.title"
	c.k.Render(g, http.StatusOK, "import", v)
}

// importProgress is the status panel alone, which htmx polls while the
// import runs; the last answer (done) carries no poll, so it stops.
func (c *Pages) importProgress(g *gin.Context) {
	v, err := c.importView(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	c.k.Fragment(g, http.StatusOK, "import", "status", v)
}

// rejectedRows downloads the rows an import did not save, with reasons in
// the reader's language, to fix and upload again.
func (c *Pages) rejectedRows(g *gin.Context) {
	name, format, _ := strings.Cut(g.Param("file"), ".")
	if name != "rejected" || (format != "csv" && format != "xlsx") {
		web.Fail(g, errs.NotFound())
		return
	}
	id := g.Param("id")
	web.Download(g, "rejected-"+id+"."+format, func(w io.Writer) error {
		return c.roster.RejectedRows(g.Request.Context(), id, format, console.Lang(g), w)
	})
}

type exportsView struct {
	*console.Frame
	Files []string
	// FullIDs: the caller may also export whole ID numbers (roster's own
	// permission for it, on top of roster/export).
	FullIDs bool
}

func (c *Pages) exports(g *gin.Context) {
	f := c.k.Frame(g)
	v := exportsView{Frame: f, Files: []string{"residents.xlsx", "residents.csv", "households.xlsx", "households.csv"},
		FullIDs: f.Can(roster.PermExportIDNumbers.Resource, roster.PermExportIDNumbers.Action)}
	v.Title = "console.exports.title"
	c.k.Render(g, http.StatusOK, "exports", v)
}

// exportFile is the roster as a file, masked per role and audited by
// roster.ExportWith, as the API's export is.
func (c *Pages) exportFile(g *gin.Context) {
	kind, format, _ := strings.Cut(g.Param("file"), ".")
	if (kind != roster.KindResidents && kind != roster.KindHouseholds) || (format != "csv" && format != "xlsx") {
		web.Fail(g, errs.NotFound())
		return
	}
	opts := roster.ExportOptions{FullIDNumbers: g.Query("id_numbers") == "full"}
	web.Download(g, kind+"."+format, func(w io.Writer) error {
		return c.roster.ExportWith(g.Request.Context(), kind, format, opts, w)
	})
}
