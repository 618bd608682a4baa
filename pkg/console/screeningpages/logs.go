package console

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

// The publicity (宣传) and disinfection (消毒) logs: what was put out or
// sprayed, where and when, as the offices report it upwards; each with
// its add form and its download as a spreadsheet.

// logFilter is a log list's filters, as typed.
type logFilter struct {
	Kind, Grid, From, To string
}

func logFilterOf(g *gin.Context) logFilter {
	return logFilter{Kind: g.Query("kind"), Grid: g.Query("grid"), From: strings.TrimSpace(g.Query("from")), To: strings.TrimSpace(g.Query("to"))}
}

func (f logFilter) service(cursor string) screening.Filter {
	return screening.Filter{Kind: f.Kind, Grid: f.Grid, From: f.From, To: f.To, Limit: pageSize, Cursor: cursor}
}

// query is the filter as a URL query, for the downloads to take along.
func (f logFilter) query() string {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.Kind, "grid": f.Grid, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// logPage is what both logs' pages share: filters, downloads, the grids an
// entry may be for, and the add form's key and state.
type logPage struct {
	*frame
	gridNamer
	Filter      logFilter
	FilterState formState
	Grids       []orgs.Grid // the caller's
	// Whole: the caller may log for the whole community (a grid worker
	// must name one of its grids).
	Whole     bool
	Next      string
	XLSX, CSV string // the downloads, with the filters
	Key       string
	State     formState
	Added     bool
	Today     string
	Kinds     []string
	Publicity []screening.PublicityView
	Rounds    []screening.DisinfectionView
	Pub       publicityInput
	Round     disinfectionInput
}

type publicityInput struct {
	Date, Kind, Count, Grid, Notes string
}

type disinfectionInput struct {
	Place, At, Grid, Notes, By string
}

// logPage fills the parts both logs share; name is the log's path.
func (c *Console) logPage(g *gin.Context, name string, st formState) (*logPage, error) {
	names, mine, err := c.gridChoices(g)
	if err != nil {
		return nil, err
	}
	f := c.frameFor(g)
	caller, _ := authz.CallerFrom(g.Request.Context())
	v := &logPage{frame: f, gridNamer: names, Filter: logFilterOf(g), Grids: mine, Whole: caller.Grids == nil,
		Key: newKey(), State: st, Added: g.Query("added") != "", Today: time.Now().In(f.loc).Format(time.DateOnly)}
	if f.Can("logs", "export") {
		base := f.URL("/" + name + "/exports/" + name)
		v.XLSX, v.CSV = base+".xlsx"+v.Filter.query(), base+".csv"+v.Filter.query()
	}
	return v, nil
}

// listed puts a list's refusal of its filters on the filter form; any
// other failure is the error page's.
func (v *logPage) listed(g *gin.Context, err error) bool {
	if e, ok := formError(err); ok {
		v.FilterState = newFormState(lang(g), e)
		return true
	}
	web.Fail(g, err)
	return false
}

func (c *Console) publicity(g *gin.Context) {
	c.showPublicity(g, http.StatusOK, publicityInput{}, formState{})
}

func (c *Console) showPublicity(g *gin.Context, status int, in publicityInput, st formState) {
	v, err := c.logPage(g, "publicity", st)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Title, v.Kinds = "console.publicity.title", screening.PublicityKinds
	if in == (publicityInput{}) {
		in.Date = v.Today
		if !v.Whole && len(v.Grids) == 1 {
			in.Grid = v.Grids[0].Slug
		}
	}
	v.Pub = in
	items, next, err := c.screen.ListPublicity(g.Request.Context(), v.Filter.service(g.Query("cursor")))
	if err != nil {
		if !v.listed(g, err) {
			return
		}
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Publicity, v.Next = items, nextURL(g, next)
	c.render(g, status, "publicity", v)
}

// addPublicity hands the add form to screening.CreatePublicity, under
// the form's idempotency key: a double tap logs it once.
func (c *Console) addPublicity(g *gin.Context) {
	in := publicityInput{Date: strings.TrimSpace(g.PostForm("date")), Kind: g.PostForm("kind"), Count: strings.TrimSpace(g.PostForm("count")),
		Grid: g.PostForm("grid"), Notes: g.PostForm("notes")}
	req := screening.PublicityInput{Date: in.Date, Kind: in.Kind, Grid: in.Grid, Notes: in.Notes}
	var err error
	if in.Count != "" {
		if n, perr := strconv.Atoi(in.Count); perr == nil {
			req.Count = &n
		} else {
			err = errs.Validation(errs.Field("count", "expect_integer", nil))
		}
	}
	if err == nil {
		_, err = c.screen.CreatePublicity(once(g), req)
	}
	c.logged(g, "/publicity", err, func(status int, st formState) { c.showPublicity(g, status, in, st) })
}

// logged answers a log's add form: back to the list, or the form again
// with what the service said.
func (c *Console) logged(g *gin.Context, path string, err error, again func(int, formState)) {
	if err == nil || reusedKey(err) {
		g.Redirect(http.StatusSeeOther, c.orgURL(g, path+"?added=1"))
		return
	}
	e, ok := formError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	again(web.Status(e.Kind), newFormState(lang(g), e))
}

func (c *Console) disinfections(g *gin.Context) {
	c.showDisinfections(g, http.StatusOK, disinfectionInput{}, formState{})
}

func (c *Console) showDisinfections(g *gin.Context, status int, in disinfectionInput, st formState) {
	v, err := c.logPage(g, "disinfections", st)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Title = "console.disinfections.title"
	v.Filter.Kind = ""
	if in == (disinfectionInput{}) && !v.Whole && len(v.Grids) == 1 {
		in.Grid = v.Grids[0].Slug
	}
	v.Round = in
	items, next, err := c.screen.ListDisinfections(g.Request.Context(), v.Filter.service(g.Query("cursor")))
	if err != nil {
		if !v.listed(g, err) {
			return
		}
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Rounds, v.Next = items, nextURL(g, next)
	c.render(g, status, "disinfections", v)
}

// addDisinfection logs a round. The form's time is the community's wall
// clock (a datetime-local input); the service takes an instant.
func (c *Console) addDisinfection(g *gin.Context) {
	in := disinfectionInput{Place: g.PostForm("place"), At: strings.TrimSpace(g.PostForm("at")), Grid: g.PostForm("grid"),
		Notes: g.PostForm("notes"), By: g.PostForm("by")}
	req := screening.DisinfectionInput{Place: in.Place, Grid: in.Grid, Notes: in.Notes, By: in.By}
	var err error
	if in.At != "" {
		caller, _ := authz.CallerFrom(g.Request.Context())
		if t, perr := time.ParseInLocation("2006-01-02T15:04", in.At, location(caller.Org.Timezone)); perr == nil {
			req.At = t.Format(time.RFC3339)
		} else {
			err = errs.Validation(errs.Field("at", "console.form.bad_time", nil))
		}
	}
	if err == nil {
		_, err = c.screen.CreateDisinfection(once(g), req)
	}
	c.logged(g, "/disinfections", err, func(status int, st formState) { c.showDisinfections(g, status, in, st) })
}

// exportLog downloads a log with the list's filters, titles in the
// reader's language (screening writes the sheet and audits it).
func (c *Console) exportLog(g *gin.Context) {
	kind := "publicity"
	export := c.screen.ExportPublicity
	if strings.Contains(g.FullPath(), "/disinfections/") {
		kind, export = "disinfections", c.screen.ExportDisinfections
	}
	name, format, _ := strings.Cut(g.Param("file"), ".")
	if name != kind || (format != "csv" && format != "xlsx") {
		web.Fail(g, errs.NotFound())
		return
	}
	f := logFilterOf(g).service("")
	download(g, g.Param("file"), func(w io.Writer) error {
		return export(g.Request.Context(), f, format, lang(g), w)
	})
}
