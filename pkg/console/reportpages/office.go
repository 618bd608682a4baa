package reportpages

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/web"
)

// Above the communities: the day's table (每日汇总). Each community the
// caller may read, its status (submitted with its time, late, missing)
// and main figures, the totals, the 30-day trend of the totals and the
// export. The office's home shows today's; its page any day's.

type officeView struct {
	page
	Date, Today, Prev, Next  string
	Rollup                   *reports.Rollup
	Keys                     []string
	Submitted, Late, Missing int
	Trend                    trend
	Home                     bool
}

// Line is a community's main figures, in Keys' order.
func (v officeView) Line(f reports.Figures) []int {
	out := make([]int, len(v.Keys))
	for i, k := range v.Keys {
		out[i] = f[k]
	}
	return out
}

// TrendURL is the day's trend, which the table loads after it.
func (v officeView) TrendURL() string { return v.URL("/reports/daily/" + v.Date + "/trend") }

// DrillURL is a community's page of the day (read-only for an official).
func (v officeView) DrillURL(slug string) string {
	return console.Prefix + "/orgs/" + slug + "/reports/daily/" + v.Date
}

// dayTable reads the day's rollup. Its trend is a request of its own
// (trend): the 30 days' figures are the costly part, and the table, what
// an office opens the page for, should not wait for them.
func (c *Pages) dayTable(g *gin.Context, f *console.Frame, date string) (officeView, error) {
	ctx := g.Request.Context()
	v := officeView{page: page{f}, Today: c.today(f), Keys: reports.MainKeys}
	if date == "" {
		date = v.Today
	}
	r, err := c.svc.Rollup(ctx, date)
	if err != nil {
		return v, err
	}
	v.Date, v.Rollup, v.Prev, v.Next = date, r, shift(date, -1), shift(date, 1)
	if v.Next > v.Today {
		v.Next = ""
	}
	for _, l := range r.Communities {
		switch l.Status {
		case reports.StatusSubmitted:
			v.Submitted++
		case reports.StatusLate:
			v.Late++
		default:
			v.Missing++
		}
	}
	return v, nil
}

// trend is the 30 days up to the day, drawn: a fragment htmx swaps into
// the table's page, or the same as a page of its own for a browser
// without script (the placeholder's link).
func (c *Pages) trend(g *gin.Context) {
	f := c.k.Frame(g)
	f.Title = "console.reports.trend"
	caller, _ := authz.CallerFrom(g.Request.Context())
	if caller.Org.IsCommunity() {
		web.Fail(g, errs.NotFound())
		return
	}
	date := g.Param("date")
	s, err := c.svc.Series(g.Request.Context(), shift(date, -29), date)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := officeView{page: page{f}, Date: date, Today: c.today(f), Keys: reports.MainKeys, Trend: newTrend(s, reports.MainKeys)}
	if g.GetHeader("HX-Request") != "" {
		c.k.Fragment(g, http.StatusOK, "report_trend", "trend", v)
		return
	}
	c.k.Render(g, http.StatusOK, "report_trend", v)
}

// office is the day's table as a page (the menu's 日报, the date picker).
func (c *Pages) office(g *gin.Context) {
	f := c.k.Frame(g)
	f.Title = "console.reports.communities"
	v, err := c.dayTable(g, f, dateOf(g))
	if err != nil {
		web.Fail(g, err)
		return
	}
	c.k.Render(g, http.StatusOK, "reports_office", v)
}

// homePanel is the office's home: today's table, first.
func (c *Pages) homePanel(g *gin.Context, f *console.Frame) (template.HTML, error) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if caller.Org.IsCommunity() || !f.Can(read.Resource, read.Action) {
		return "", nil
	}
	v, err := c.dayTable(g, f, "")
	if err != nil {
		return "", err
	}
	v.Home = true
	return c.k.HTML("home_reports", "panel", v)
}
