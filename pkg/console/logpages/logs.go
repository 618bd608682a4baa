package logpages

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/orgs"
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

func (f logFilter) service(cursor string) logs.Filter {
	return logs.Filter{Kind: f.Kind, Grid: f.Grid, From: f.From, To: f.To, Limit: console.PageSize, Cursor: cursor}
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
	*console.Frame
	console.GridNames
	Filter      logFilter
	FilterState console.FormState
	Grids       []orgs.Grid // the caller's
	// Whole: the caller may log for the whole community (a grid worker
	// must name one of its grids).
	Whole     bool
	Next      string
	XLSX, CSV string // the downloads, with the filters
	Key       string
	State     console.FormState
	Added     bool
	Today     string
	Kinds     []string
	Publicity []logs.PublicityView
	Rounds    []logs.DisinfectionView
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
func (c *Pages) logPage(g *gin.Context, name string, st console.FormState) (*logPage, error) {
	names, mine, err := c.k.Grids(g)
	if err != nil {
		return nil, err
	}
	f := c.k.Frame(g)
	caller, _ := authz.CallerFrom(g.Request.Context())
	v := &logPage{Frame: f, GridNames: names, Filter: logFilterOf(g), Grids: mine, Whole: caller.Grids == nil,
		Key: console.NewKey(), State: st, Added: g.Query("added") != "", Today: time.Now().In(f.Loc()).Format(time.DateOnly)}
	if f.Can("logs", "export") {
		base := f.URL("/" + name + "/exports/" + name)
		v.XLSX, v.CSV = base+".xlsx"+v.Filter.query(), base+".csv"+v.Filter.query()
	}
	return v, nil
}

// listed puts a list's refusal of its filters on the filter form; any
// other failure is the error page's.
func (v *logPage) listed(g *gin.Context, err error) bool {
	if e, ok := console.FormError(err); ok {
		v.FilterState = console.NewFormState(console.Lang(g), e)
		return true
	}
	web.Fail(g, err)
	return false
}

func (c *Pages) publicity(g *gin.Context) {
	c.showPublicity(g, http.StatusOK, publicityInput{}, console.FormState{})
}

func (c *Pages) showPublicity(g *gin.Context, status int, in publicityInput, st console.FormState) {
	v, err := c.logPage(g, "publicity", st)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Title, v.Kinds = "console.publicity.title", logs.PublicityKinds
	if in == (publicityInput{}) {
		in.Date = v.Today
		if !v.Whole && len(v.Grids) == 1 {
			in.Grid = v.Grids[0].Slug
		}
	}
	v.Pub = in
	items, next, err := c.logs.ListPublicity(g.Request.Context(), v.Filter.service(g.Query("cursor")))
	if err != nil {
		if !v.listed(g, err) {
			return
		}
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Publicity, v.Next = items, console.NextURL(g, next)
	c.k.Render(g, status, "publicity", v)
}

// addPublicity hands the add form to logs.CreatePublicity, under
// the form's idempotency key: a double tap logs it once.
func (c *Pages) addPublicity(g *gin.Context) {
	in := publicityInput{Date: strings.TrimSpace(g.PostForm("date")), Kind: g.PostForm("kind"), Count: strings.TrimSpace(g.PostForm("count")),
		Grid: g.PostForm("grid"), Notes: g.PostForm("notes")}
	req := logs.PublicityInput{Date: in.Date, Kind: in.Kind, Grid: in.Grid, Notes: in.Notes}
	var err error
	if in.Count != "" {
		if n, perr := strconv.Atoi(in.Count); perr == nil {
			req.Count = &n
		} else {
			err = errs.Validation(errs.Field("count", "expect_integer", nil))
		}
	}
	if err == nil {
		_, err = c.logs.CreatePublicity(console.Once(g), req)
	}
	c.logged(g, "/publicity", err, func(status int, st console.FormState) { c.showPublicity(g, status, in, st) })
}

// logged answers a log's add form: back to the list, or the form again
// with what the service said.
func (c *Pages) logged(g *gin.Context, path string, err error, again func(int, console.FormState)) {
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, path+"?added=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	again(web.Status(e.Kind), console.NewFormState(console.Lang(g), e))
}

func (c *Pages) disinfections(g *gin.Context) {
	c.showDisinfections(g, http.StatusOK, disinfectionInput{}, console.FormState{})
}

func (c *Pages) showDisinfections(g *gin.Context, status int, in disinfectionInput, st console.FormState) {
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
	items, next, err := c.logs.ListDisinfections(g.Request.Context(), v.Filter.service(g.Query("cursor")))
	if err != nil {
		if !v.listed(g, err) {
			return
		}
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Rounds, v.Next = items, console.NextURL(g, next)
	c.k.Render(g, status, "disinfections", v)
}

// addDisinfection logs a round. The form's time is the community's wall
// clock (a datetime-local input); the service takes an instant.
func (c *Pages) addDisinfection(g *gin.Context) {
	in := disinfectionInput{Place: g.PostForm("place"), At: strings.TrimSpace(g.PostForm("at")), Grid: g.PostForm("grid"),
		Notes: g.PostForm("notes"), By: g.PostForm("by")}
	req := logs.DisinfectionInput{Place: in.Place, Grid: in.Grid, Notes: in.Notes, By: in.By}
	var err error
	if in.At != "" {
		caller, _ := authz.CallerFrom(g.Request.Context())
		if t, perr := time.ParseInLocation("2006-01-02T15:04", in.At, console.Location(caller.Org.Timezone)); perr == nil {
			req.At = t.Format(time.RFC3339)
		} else {
			err = errs.Validation(errs.Field("at", "console.form.bad_time", nil))
		}
	}
	if err == nil {
		_, err = c.logs.CreateDisinfection(console.Once(g), req)
	}
	c.logged(g, "/disinfections", err, func(status int, st console.FormState) { c.showDisinfections(g, status, in, st) })
}

// exportLog downloads a log with the list's filters, titles in the
// reader's language (logs writes the sheet and audits it).
func (c *Pages) exportLog(g *gin.Context) {
	kind := "publicity"
	export := c.logs.ExportPublicity
	if strings.Contains(g.FullPath(), "/disinfections/") {
		kind, export = "disinfections", c.logs.ExportDisinfections
	}
	name, format, _ := strings.Cut(g.Param("file"), ".")
	if name != kind || (format != "csv" && format != "xlsx") {
		web.Fail(g, errs.NotFound())
		return
	}
	f := logFilterOf(g).service("")
	web.Download(g, g.Param("file"), func(w io.Writer) error {
		return export(g.Request.Context(), f, format, console.Lang(g), w)
	})
}
