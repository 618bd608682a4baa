package isolationpages

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// One case: its facts, the temperature chart, the check-in form (staff
// and grid workers at the door), alerts, support requests, the messages
// sent, and the staff's forms (diagnosis, end, release).

type caseView struct {
	*console.Frame
	Case         *isolation.CaseView
	Chart        chart
	Live, Due    bool
	Admin        bool // may release before the end date
	Which        string
	State        console.FormState
	In           caseForm
	Symptoms     []string
	Diagnoses    []string
	SupportKinds []string
	Done         string
	DryRun       bool
}

// MessageStatus names a message's status; in a dry run nothing was sent,
// so sent and delivered are named as what they were: a rehearsal.
func (v caseView) MessageStatus(status string) string {
	if v.DryRun && (status == "sent" || status == "delivered") {
		return v.T("console.isolation.msg.dry_" + status)
	}
	return v.T("console.isolation.msg." + status)
}

// caseForm is what the case page's forms held.
type caseForm struct {
	Temperature string
	Symptoms    []string
	Diagnosis   string
	Reason      string
	Kind        string
	Details     string
	CheckinKey  string
	SupportKey  string
}

func (c *Pages) casePage(g *gin.Context) {
	c.showCase(g, http.StatusOK, g.Param("id"), "", caseForm{}, console.FormState{})
}

// showCase renders the case page; which names the form st belongs to.
func (c *Pages) showCase(g *gin.Context, status int, id, which string, in caseForm, st console.FormState) {
	cv, err := c.iso.GetCase(g.Request.Context(), id)
	if err != nil {
		web.Fail(g, err)
		return
	}
	f := c.k.Frame(g)
	if in.CheckinKey == "" {
		in.CheckinKey = console.NewKey()
	}
	if in.SupportKey == "" {
		in.SupportKey = console.NewKey()
	}
	today := time.Now().In(f.Loc()).Format(time.DateOnly)
	v := caseView{Frame: f, Case: cv, Chart: newChart(cv, f.Loc()), Admin: isAdmin(g), Which: which, State: st, In: in,
		Live: cv.Status == isolation.StatusActive || cv.Status == isolation.StatusEligible, Due: today >= cv.EndDate,
		Symptoms: isolation.Symptoms, Diagnoses: diagnoses, SupportKinds: isolation.SupportKinds, Done: g.Query("done"),
		DryRun: c.dryRun != nil && c.dryRun()}
	v.Title = "console.isolation.case.title"
	c.k.Render(g, status, "case", v)
}

var diagnoses = []string{isolation.DiagnosisSuspected, isolation.DiagnosisConfirmed, isolation.DiagnosisExcluded}

// recordCheckin records a check-in at the door or on the phone, under the
// form's idempotency key: a double tap records one.
func (c *Pages) recordCheckin(g *gin.Context) {
	id := g.Param("id")
	in := caseForm{Temperature: strings.TrimSpace(g.PostForm("temperature")), Symptoms: g.PostFormArray("symptoms"),
		CheckinKey: g.PostForm("idempotency_key")}
	// The service reads the number (a comma typed for the decimal point
	// is the same number): what it refuses comes back on the field.
	raw := strconv.Quote(strings.ReplaceAll(in.Temperature, "，", "."))
	_, err := c.iso.RecordCheckin(console.Once(g), id, isolation.CheckinInput{Temperature: []byte(raw), Symptoms: in.Symptoms})
	if console.OfflineRequest(g) {
		console.OfflineAnswer(g, err)
		return
	}
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, back(g, id, "checkin"))
		return
	}
	c.refused(g, err, id, "checkin", in)
}

// updateCase records a diagnosis or ends a case with a reason.
func (c *Pages) updateCase(g *gin.Context) {
	id := g.Param("id")
	var p isolation.CasePatch
	in := caseForm{Diagnosis: g.PostForm("diagnosis"), Reason: g.PostForm("reason")}
	which := "diagnosis"
	if g.PostForm("status") != "" {
		which = "end"
		status := g.PostForm("status")
		p.Status, p.Reason = &status, &in.Reason
	} else {
		p.Diagnosis = &in.Diagnosis
	}
	_, err := c.iso.UpdateCase(g.Request.Context(), id, p)
	if err == nil {
		g.Redirect(http.StatusSeeOther, back(g, id, which))
		return
	}
	c.refused(g, err, id, which, in)
}

// Opening a case for one resident: a search for the resident, then the
// form.

type newCaseView struct {
	*console.Frame
	Q        string
	Found    []roster.ResidentView
	Resident *roster.ResidentView
	Kinds    []string
	Channels []string
	Key      string
	In       newCaseForm
	State    console.FormState
	Search   console.FormState
	Today    string
	Default  int
}

type newCaseForm struct {
	ResidentID, Kind, StartDate, Days, Reason string
	Channel                                   string
}

func (c *Pages) newCase(g *gin.Context) {
	c.showNewCase(g, http.StatusOK, console.NewKey(), newCaseForm{ResidentID: g.Query("resident"), Kind: isolation.KindHomeIsolation,
		Channel: isolation.ChannelSMS}, console.FormState{})
}

func (c *Pages) showNewCase(g *gin.Context, status int, key string, in newCaseForm, st console.FormState) {
	f := c.k.Frame(g)
	v := newCaseView{Frame: f, Q: strings.TrimSpace(g.Query("q")), Kinds: isolation.Kinds,
		Channels: []string{isolation.ChannelSMS, isolation.ChannelVoice}, Key: key, In: in, State: st,
		Today: time.Now().In(f.Loc()).Format(time.DateOnly)}
	v.Title = "console.isolation.new.title"
	ctx := g.Request.Context()
	if v.Q != "" {
		found, _, err := c.roster.ListResidents(ctx, roster.Filter{Q: v.Q, Limit: 20})
		if err != nil {
			e, ok := console.FormError(err)
			if !ok {
				web.Fail(g, err)
				return
			}
			v.Search = console.NewFormState(console.Lang(g), e)
		}
		v.Found = found
	}
	if in.ResidentID != "" {
		r, err := c.roster.GetResident(ctx, in.ResidentID)
		if err == nil {
			v.Resident = r
		}
	}
	c.k.Render(g, status, "new_case", v)
}

// createCase opens the case under the form's idempotency key and shows it.
func (c *Pages) createCase(g *gin.Context) {
	in := newCaseForm{ResidentID: g.PostForm("resident_id"), Kind: g.PostForm("kind"), StartDate: strings.TrimSpace(g.PostForm("start_date")),
		Days: strings.TrimSpace(g.PostForm("days")), Reason: g.PostForm("reason"), Channel: g.PostForm("checkin_channel")}
	ci := isolation.CaseInput{ResidentID: in.ResidentID, Kind: in.Kind, StartDate: in.StartDate, Reason: in.Reason,
		CheckinChannel: in.Channel}
	days, ok := parseDays(in.Days)
	if !ok {
		c.showNewCase(g, http.StatusUnprocessableEntity, keyOf(g), in, daysRefused(g))
		return
	}
	ci.Days = days
	cv, err := c.iso.CreateCase(console.Once(g), ci)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/isolation/cases/"+url.PathEscape(cv.ID)+"?done=opened"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showNewCase(g, web.Status(e.Kind), keyOf(g), in, console.NewFormState(console.Lang(g), e))
}

// parseDays reads the days field: empty is the community's default.
func parseDays(s string) (*int, bool) {
	if s == "" {
		return nil, true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, false
	}
	return &n, true
}

// keyOf is the posted form's idempotency key, to render again with a
// refused form (the same form, fixed, is the same submission).
func keyOf(g *gin.Context) string {
	if k := g.PostForm("idempotency_key"); k != "" {
		return k
	}
	return console.NewKey()
}

// daysRefused is the form's answer to days that are not a whole number.
func daysRefused(g *gin.Context) console.FormState {
	return console.NewFormState(console.Lang(g), errs.Validation(errs.Field("days", "expect_integer", nil)))
}
