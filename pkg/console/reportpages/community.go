package reportpages

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/web"
)

// A community's day: what the office checks before it submits (the
// figures beside the day before's, the day's isolation work), the four
// typed-in figures, and once submitted the frozen version, every version
// and the correction form. The same page, read-only, is an official's
// drill-down from the day's table.

// figureRow is a figure on the day, at the cut-off and the day before.
type figureRow struct {
	Key                 string
	Value, Cutoff, Prev int
}

// manualField is a typed-in field of a form: what it shows and its error.
type manualField struct {
	Key, Value, Error string
}

// work is the day's isolation work, for those who read isolation.
type work struct {
	OpenAlerts, Fever, Missed, Overdue int
	Today                              bool // open alerts are now's, shown on today's page only
}

type dayView struct {
	page
	Date, Today, Prev, Next string
	Report                  *reports.Report
	Main, More              []figureRow
	Cutoff                  bool // a cut-off snapshot is shown beside the live draft
	Draft                   []manualField
	Correction              []manualField
	Reason                  string
	Work                    *work
	Which                   string // the form refused: draft, correct, submit
	Banner                  bool   // its message shows atop the page (its form is not shown)
	State                   console.FormState
	Done                    string // saved, submitted, corrected
}

// Frozen: the figures shown are a submitted version.
func (v dayView) Frozen() bool { return v.Report.Status == reports.StatusSubmitted }

// dayURL is a day's page in the org of the request.
func dayURL(g *gin.Context, date, suffix string) string {
	return console.OrgURL(g, "/reports/daily/"+url.PathEscape(date)+suffix)
}

func (c *Pages) community(g *gin.Context) {
	c.showDay(g, http.StatusOK, dateOf(g), "", nil, "", console.FormState{})
}

// showDay renders a community's day; which, typed and reason are a
// refused form's, shown again with st's messages.
func (c *Pages) showDay(g *gin.Context, status int, date, which string, typed map[string]string, reason string, st console.FormState) {
	ctx := g.Request.Context()
	f := c.k.Frame(g)
	f.Title = "console.reports.title"
	var rep, before *reports.Report
	if date == "" {
		t, err := c.svc.Today(ctx)
		if err != nil {
			web.Fail(g, err)
			return
		}
		rep, before = t.Report, t.Yesterday
	} else {
		var err error
		if rep, err = c.svc.Day(ctx, date); err == nil {
			before, err = c.svc.Day(ctx, shift(date, -1))
		}
		if err != nil {
			web.Fail(g, err)
			return
		}
	}
	v := dayView{page: page{f}, Date: rep.Date, Today: c.today(f), Prev: shift(rep.Date, -1), Next: shift(rep.Date, 1),
		Report: rep, Which: which, State: st, Done: g.Query("done"), Reason: reason}
	if v.Next > v.Today {
		v.Next = ""
	}
	if !slices.Contains([]string{"saved", "submitted", "corrected"}, v.Done) {
		v.Done = ""
	}
	v.Cutoff = !v.Frozen() && rep.Cutoff != nil
	v.Banner = st.Message != "" && (which == "submit" || (which == "draft") == v.Frozen())
	for _, k := range reports.Keys {
		r := figureRow{Key: k, Value: rep.Figures[k], Prev: before.Figures[k]}
		if v.Cutoff {
			r.Cutoff = rep.Cutoff.Figures[k]
		}
		if slices.Contains(reports.MainKeys, k) {
			v.Main = append(v.Main, r)
		} else {
			v.More = append(v.More, r)
		}
	}
	// Main figures in MainKeys' order, the table's and the trend's.
	slices.SortStableFunc(v.Main, func(a, b figureRow) int {
		return slices.Index(reports.MainKeys, a.Key) - slices.Index(reports.MainKeys, b.Key)
	})
	fields := func(form string) []manualField {
		out := make([]manualField, 0, len(reports.ManualKeys))
		for _, k := range reports.ManualKeys {
			m := manualField{Key: k, Value: strconv.Itoa(rep.Manual[k])}
			if which == form {
				if s, ok := typed[k]; ok {
					m.Value = s
				}
				m.Error = st.Field("manual." + k)
			}
			out = append(out, m)
		}
		return out
	}
	v.Draft, v.Correction = fields("draft"), fields("correct")
	if f.Can("isolation", "read") && c.iso != nil {
		fig, err := c.iso.Figures(ctx, rep.Date)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Work = &work{Fever: fig.FeverAlertsToday, Missed: fig.CheckinsMissedToday, Overdue: fig.SupportOverdue, Today: rep.Date == v.Today}
		if v.Work.Today {
			n, err := c.iso.Counts(ctx)
			if err != nil {
				web.Fail(g, err)
				return
			}
			v.Work.OpenAlerts = n.OpenAlerts
		}
	}
	c.k.Render(g, status, "report_day", v)
}

// typedIn reads the form's typed-in fields: what each shows if refused,
// and the service's input, each value raw so that text is a 422 on its
// field; an empty field is not sent (it keeps its value).
func typedIn(g *gin.Context) (map[string]string, map[string]json.RawMessage) {
	typed, in := map[string]string{}, map[string]json.RawMessage{}
	for _, k := range reports.ManualKeys {
		s := strings.TrimSpace(g.PostForm(k))
		typed[k] = s
		if s != "" {
			in[k] = raw(s)
		}
	}
	return typed, in
}

// raw is a typed figure as JSON: a number as it is (the service refuses
// a fraction or a negative on its field), anything else as a string
// (which it refuses as not a whole number).
func raw(s string) json.RawMessage {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return json.RawMessage(s)
	}
	if json.Valid([]byte(s)) && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// saveDraft saves the typed-in part; "save and submit" (and_submit) goes on to the
// confirm step.
func (c *Pages) saveDraft(g *gin.Context) {
	date := g.Param("date")
	typed, in := typedIn(g)
	_, err := c.svc.SaveDraft(g.Request.Context(), date, reports.ManualInput{Manual: in})
	if err == nil {
		if g.PostForm("and_submit") != "" && c.k.Frame(g).Can(submit.Resource, submit.Action) {
			g.Redirect(http.StatusSeeOther, dayURL(g, date, "/submit"))
			return
		}
		g.Redirect(http.StatusSeeOther, dayURL(g, date, "?done=saved"))
		return
	}
	c.refused(g, err, date, "draft", typed, "")
}

// refused shows a service's refusal of a form on the day's page.
func (c *Pages) refused(g *gin.Context, err error, date, which string, typed map[string]string, reason string) {
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showDay(g, web.Status(e.Kind), date, which, typed, reason, console.NewFormState(console.Lang(g), e))
}

type confirmView struct {
	page
	Report     *reports.Report
	Main, More []figureRow
	Manual     []string
	Key        string
}

// confirm is the submission's confirm step: the figures about to be
// frozen, and the button, under a fresh idempotency key.
func (c *Pages) confirm(g *gin.Context) {
	date := g.Param("date")
	rep, err := c.svc.Day(g.Request.Context(), date)
	if err != nil {
		web.Fail(g, err)
		return
	}
	if rep.Status == reports.StatusSubmitted {
		g.Redirect(http.StatusSeeOther, dayURL(g, date, ""))
		return
	}
	f := c.k.Frame(g)
	f.Title = "console.reports.title"
	v := confirmView{page: page{f}, Report: rep, Manual: reports.ManualKeys, Key: console.NewKey()}
	for _, k := range reports.MainKeys {
		v.Main = append(v.Main, figureRow{Key: k, Value: rep.Figures[k]})
	}
	for _, k := range reports.Keys {
		if !slices.Contains(reports.MainKeys, k) {
			v.More = append(v.More, figureRow{Key: k, Value: rep.Figures[k]})
		}
	}
	c.k.Render(g, http.StatusOK, "report_submit", v)
}

// submit freezes the day under the form's idempotency key: a second tap
// or a resend is the first submission, not a 409.
func (c *Pages) submit(g *gin.Context) {
	date := g.Param("date")
	_, err := c.svc.Submit(console.Once(g), date)
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, dayURL(g, date, "?done=submitted"))
		return
	}
	c.refused(g, err, date, "submit", nil, "")
}

// correct adds a version to a submitted day, with its reason.
func (c *Pages) correct(g *gin.Context) {
	date := g.Param("date")
	typed, in := typedIn(g)
	reason := g.PostForm("reason")
	_, err := c.svc.Correct(g.Request.Context(), date, reports.CorrectionInput{Manual: in, Reason: reason})
	if err == nil {
		g.Redirect(http.StatusSeeOther, dayURL(g, date, "?done=corrected"))
		return
	}
	c.refused(g, err, date, "correct", typed, reason)
}

// export streams the day's sheet: the community's, or above the
// communities the table's (reports.Export decides by the org).
func (c *Pages) export(g *gin.Context) {
	date, format := g.Param("date"), g.DefaultQuery("format", "xlsx")
	// Export checks both before it writes a byte, so the name is never
	// sent with anything but a date and a known format.
	web.Download(g, "daily-report-"+g.Param("org")+"-"+date+"."+format, func(w io.Writer) error {
		return c.svc.Export(g.Request.Context(), date, format, w)
	})
}
