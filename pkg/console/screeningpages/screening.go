package screeningpages

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

// The screening pages (排查): campaigns and their progress, which staff
// run from office PCs, and the call and door-to-door lists grid workers
// work through on a phone, one household at a time. Every rule (whose
// households, masking, what closes a task, what raises a follow-up) is
// screening's; these pages hand over what was tapped and typed.

// closedPage is how many ended campaigns a page lists: each shows its
// progress, which costs queries of its own.
const closedPage = 20

// upcoming is how many households after the current one a list shows:
// enough to see what is coming (and pick one out of turn), short enough
// to stay below the form on a phone.
const upcoming = 5

var campaignMethods = []string{screening.MethodPhone, screening.MethodVisit, screening.MethodAny}

// callsLeft is how many households of p are still to be phoned: neither
// reached, nor moved out, nor sent to the door-to-door list.
func callsLeft(p screening.Progress) int {
	return max(p.Households-p.Reached-p.MovedOut-p.Door, 0)
}

// withProgress fills in each campaign's progress, which ListScreenings
// leaves out. One that went missing since the list was read is skipped.
func (c *Pages) withProgress(ctx context.Context, list []screening.ScreeningView) ([]screening.ScreeningView, error) {
	out := make([]screening.ScreeningView, 0, len(list))
	for _, s := range list {
		full, err := c.screen.GetScreening(ctx, s.ID)
		if errs.KindOf(err) == errs.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *full)
	}
	return out, nil
}

// openCampaigns are the campaigns still open, with the caller's progress
// (a grid worker's grids only).
func (c *Pages) openCampaigns(ctx context.Context) ([]screening.ScreeningView, error) {
	open, _, err := c.screen.ListScreenings(ctx, screening.Filter{Status: screening.StatusOpen, Limit: web.MaxLimit})
	if err != nil {
		return nil, err
	}
	return c.withProgress(ctx, open)
}

type screeningsView struct {
	*console.Frame
	console.GridNames
	Open, Closed []screening.ScreeningView
	Next         string
	Grids        []orgs.Grid // the grids a new campaign may cover
	Methods      []string
	In           screeningInput
	State        console.FormState
}

type screeningInput struct {
	Key                              string // the form's idempotency key
	Name, Method, StartDate, EndDate string
	Grids                            []string
}

// screenings lists the open campaigns, then the ended ones (newest first,
// paged), each with its progress; staff also get the form to start one.
func (c *Pages) screenings(g *gin.Context) {
	c.showScreenings(g, http.StatusOK, screeningInput{Method: screening.MethodPhone}, console.FormState{})
}

func (c *Pages) showScreenings(g *gin.Context, status int, in screeningInput, st console.FormState) {
	ctx := g.Request.Context()
	names, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	if in.Key == "" {
		in.Key = console.NewKey()
	}
	v := screeningsView{Frame: c.k.Frame(g), GridNames: names, Grids: mine, Methods: campaignMethods, In: in, State: st}
	v.Title = "console.screenings.title"
	if v.Open, err = c.openCampaigns(ctx); err != nil {
		web.Fail(g, err)
		return
	}
	closed, next, err := c.screen.ListScreenings(ctx, screening.Filter{Status: screening.StatusClosed, Limit: closedPage, Cursor: g.Query("cursor")})
	if err != nil {
		web.Fail(g, err)
		return
	}
	if v.Closed, err = c.withProgress(ctx, closed); err != nil {
		web.Fail(g, err)
		return
	}
	v.Next = console.NextURL(g, next)
	c.k.Render(g, status, "screenings", v)
}

// createScreening hands the form to screening.CreateScreening, which
// makes a task of every household in scope; the new campaign's page
// follows.
func (c *Pages) createScreening(g *gin.Context) {
	// A double click starts one campaign: the form's key goes with it. A
	// refused form keeps its key, since nothing was stored under it.
	in := screeningInput{Key: strings.TrimSpace(g.PostForm("idempotency_key")), Name: g.PostForm("name"), Method: g.PostForm("method"),
		Grids: g.PostFormArray("grids"), StartDate: strings.TrimSpace(g.PostForm("start_date")), EndDate: strings.TrimSpace(g.PostForm("end_date"))}
	s, err := c.screen.CreateScreening(console.Once(g), screening.ScreeningInput{Name: in.Name, Method: in.Method,
		Grids: in.Grids, StartDate: in.StartDate, EndDate: in.EndDate})
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/screenings/"+url.PathEscape(s.ID)+"?started=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showScreenings(g, web.Status(e.Kind), in, console.NewFormState(console.Lang(g), e))
}

type screeningPageView struct {
	*console.Frame
	console.GridNames
	S       *screening.ScreeningView
	Started bool // just created
	Ended   bool // just closed
	State   console.FormState
}

// screeningPage is one campaign's progress: the whole, per grid and per
// worker today, with the way to its lists.
func (c *Pages) screeningPage(g *gin.Context) {
	c.showScreening(g, http.StatusOK, console.FormState{})
}

func (c *Pages) showScreening(g *gin.Context, status int, st console.FormState) {
	s, err := c.screen.GetScreening(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	names, _, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := screeningPageView{Frame: c.k.Frame(g), GridNames: names, S: s, State: st,
		Started: g.Query("started") != "", Ended: g.Query("closed") != ""}
	v.Title = "console.screening.title"
	c.k.Render(g, status, "screening", v)
}

// closeScreening ends a campaign (the page asked to confirm first).
func (c *Pages) closeScreening(g *gin.Context) {
	id := g.Param("id")
	_, err := c.screen.CloseScreening(g.Request.Context(), id)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/screenings/"+url.PathEscape(id)+"?closed=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showScreening(g, web.Status(e.Kind), console.NewFormState(console.Lang(g), e))
}

// attemptForm is the outcome form of one household: a button per outcome,
// the findings folded away, and the key that makes a second tap harmless.
type attemptForm struct {
	Key      string
	From     string // "list" or "task": the page that shows it again if refused
	Method   string // screening.MethodPhone or MethodVisit
	Outcomes []string
	In       attemptInput
	State    console.FormState
	refused  bool // shown again after the service refused it
}

type attemptInput struct {
	Outcome, TravelFrom, ReturnedOn, Occupants, Notes string
	Symptoms, CloseContact                            bool
}

// findingFields are the inputs folded away under "findings".
var findingFields = []string{"travel_from", "returned_on", "symptoms", "close_contact", "occupants", "notes"}

// Unfold reports whether the findings should show open: something was
// typed there, or the service has something to say about it.
func (f attemptForm) Unfold() bool {
	in := f.In
	if in.TravelFrom != "" || in.ReturnedOn != "" || in.Occupants != "" || in.Notes != "" || in.Symptoms || in.CloseContact {
		return true
	}
	for _, name := range findingFields {
		if f.State.Field(name) != "" {
			return true
		}
	}
	return false
}

// outcomesFor are the outcomes a method's form offers: at the door there
// is no number to be wrong.
func outcomesFor(method string) []string {
	if method == screening.MethodVisit {
		return []string{screening.OutcomeReached, screening.OutcomeNoAnswer, screening.OutcomeRefused, screening.OutcomeMovedOut}
	}
	return screening.Outcomes
}

func newAttemptForm(method, from string) attemptForm {
	return attemptForm{Key: console.NewKey(), From: from, Method: method, Outcomes: outcomesFor(method)}
}

// listMethod pairs each list with the way its households are worked.
func listMethod(list string) string {
	if list == screening.ListDoor {
		return screening.MethodVisit
	}
	return screening.MethodPhone
}

// listPath is the page of a list ("calls" or "visits") under a campaign.
func listPath(list string) string {
	if list == screening.ListDoor {
		return "/visits"
	}
	return "/calls"
}

type worklistView struct {
	*console.Frame
	console.GridNames
	S         *screening.ScreeningView
	List      string // screening.ListCall or ListDoor
	Task      *screening.TaskView
	Remaining int
	Upcoming  []screening.TaskView
	CanRecord bool
	Form      attemptForm
	Done      *screening.TaskView // the household just recorded
	Repeat    bool                // a second submission of it was not saved
	FollowUp  bool                // its findings went to staff
	// The household on the card: who lives there (name, age, tags such
	// as elderly or lives alone) and its last attempts, what a worker
	// reads before dialling.
	Members []member
	Last    []screening.AttemptView
	// The door list's number form, for a household whose number was
	// marked wrong (phone.go): what was typed and what roster said of it.
	CanCorrect bool
	Phone      phoneForm
	Corrected  *screening.TaskView // the household just given its right number
}

// member is a resident as the call card shows them.
type member struct {
	Name string
	Age  int // 0: unknown
	Tags []string
}

// lastShown is how many of a household's attempts the card lists.
const lastShown = 3

// Visits reports whether this is the door-to-door list.
func (v worklistView) Visits() bool { return v.List == screening.ListDoor }

// callList is a grid worker's main page: the next household to phone,
// its number as one big tap target, and the outcome form under it.
func (c *Pages) callList(g *gin.Context) {
	c.showWorklist(g, http.StatusOK, screening.ListCall, nil, attemptForm{})
}

// doorList is the same for the households to visit.
func (c *Pages) doorList(g *gin.Context) {
	c.showWorklist(g, http.StatusOK, screening.ListDoor, nil, attemptForm{})
}

// showWorklist renders a list: its next household, or (a refused
// submission) the household that was posted, with everything typed.
func (c *Pages) showWorklist(g *gin.Context, status int, list string, posted *screening.TaskView, form attemptForm) {
	c.showList(g, status, list, posted, form, phoneForm{})
}

// showList is showWorklist with the number form as posted (phone.go).
func (c *Pages) showList(g *gin.Context, status int, list string, posted *screening.TaskView, form attemptForm, phone phoneForm) {
	ctx := g.Request.Context()
	id := g.Param("id")
	s, err := c.screen.GetScreening(ctx, id)
	if err != nil {
		web.Fail(g, err)
		return
	}
	names, _, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	f := c.k.Frame(g)
	v := worklistView{Frame: f, GridNames: names, S: s, List: list, Repeat: g.Query("repeat") != "", FollowUp: g.Query("follow_up") != ""}
	v.Title = "console.calls.title"
	if list == screening.ListDoor {
		v.Title = "console.visits.title"
	}
	if s.Status == screening.StatusOpen {
		next, err := c.screen.NextTask(ctx, id, screening.Filter{List: list, Peek: !f.Can("attempts", "write")})
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Task, v.Remaining = next.Task, next.Remaining
		more, _, err := c.screen.ListTasks(ctx, id, screening.Filter{List: list, Limit: upcoming + 1})
		if err != nil {
			web.Fail(g, err)
			return
		}
		for _, t := range more {
			if len(v.Upcoming) < upcoming && (v.Task == nil || t.ID != v.Task.ID) && (posted == nil || t.ID != posted.ID) {
				v.Upcoming = append(v.Upcoming, t)
			}
		}
	}
	if posted != nil {
		v.Task = posted
	}
	if v.Task != nil {
		if err := c.describe(g, &v); err != nil {
			web.Fail(g, err)
			return
		}
	}
	if done := g.Query("done"); done != "" && posted == nil {
		if t, err := c.screen.GetTask(ctx, id, done); err == nil && len(t.History) > 0 {
			v.Done = t
		}
	}
	if id := g.Query("corrected"); id != "" && posted == nil {
		// The household given its right number: dial it from here.
		if t, err := c.screen.GetTask(ctx, s.ID, id); err == nil {
			v.Corrected = t
		}
	}
	// A refused form stays on screen even when the campaign closed
	// meanwhile (a 409): what was typed is not lost.
	v.CanRecord = v.Task != nil && f.Can("attempts", "write") && (s.Status == screening.StatusOpen || posted != nil)
	if v.CanRecord {
		if !form.refused {
			form = newAttemptForm(listMethod(list), "list")
		}
		v.Form = form
	}
	if f.Can(console.OfflinePerm.Resource, console.OfflinePerm.Action) && s.Status == screening.StatusOpen {
		f.Offline = true
		f.OfflineLists = []string{console.OrgURL(g, "/screenings/"+url.PathEscape(id)+"/offline")}
		if f.Can("checkins", "write") {
			f.OfflineLists = append(f.OfflineLists, console.OrgURL(g, "/isolation/offline"))
		}
	}
	// The lists are plain forms and links: no htmx to download at the door.
	f.NoHtmx = true
	v.CanCorrect = v.CanRecord && list == screening.ListDoor && wrongNumber(v.Task) && f.Can("roster", "write") && c.people != nil
	if v.CanCorrect {
		v.Phone = phone
	}
	c.k.Render(g, status, "worklist", v)
}

type taskPageView struct {
	*console.Frame
	console.GridNames
	S         *screening.ScreeningView
	Task      *screening.TaskView
	CanRecord bool
	Form      attemptForm
	Other     string // the other method, to switch the form to
}

// taskPage is one household in a campaign: its attempts, newest first,
// and (open) the form to record another, by phone or at the door.
func (c *Pages) taskPage(g *gin.Context) {
	c.showTask(g, http.StatusOK, attemptForm{})
}

func (c *Pages) showTask(g *gin.Context, status int, form attemptForm) {
	ctx := g.Request.Context()
	s, err := c.screen.GetScreening(ctx, g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	t, err := c.screen.GetTask(ctx, s.ID, g.Param("task"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	names, _, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	f := c.k.Frame(g)
	v := taskPageView{Frame: f, GridNames: names, S: s, Task: t}
	v.Title = "console.task.title"
	v.CanRecord = f.Can("attempts", "write") && (form.refused || s.Status == screening.StatusOpen && t.Status == screening.StatusOpen)
	if v.CanRecord {
		if !form.refused {
			method := g.Query("method")
			if method != screening.MethodPhone && method != screening.MethodVisit {
				method = screening.MethodPhone
				if t.Door {
					method = screening.MethodVisit
				}
			}
			form = newAttemptForm(method, "task")
		}
		v.Form = form
		v.Other = screening.MethodVisit
		if form.Method == screening.MethodVisit {
			v.Other = screening.MethodPhone
		}
	}
	c.k.Render(g, status, "task", v)
}

// recordAttempt hands an outcome to screening.RecordAttempt under the
// form's idempotency key and moves on to the list's next household
// (post, redirect, get). A second submission of the same form redirects
// alike, to the same answer; what the service refuses shows on the form
// it came from, with everything typed.
func (c *Pages) recordAttempt(g *gin.Context) {
	id, taskID := g.Param("id"), g.Param("task")
	form := attemptForm{Key: strings.TrimSpace(g.PostForm("idempotency_key")), From: g.PostForm("from"), Method: g.PostForm("method")}
	in := attemptInput{Outcome: g.PostForm("outcome"), TravelFrom: g.PostForm("travel_from"), ReturnedOn: strings.TrimSpace(g.PostForm("returned_on")),
		Occupants: strings.TrimSpace(g.PostForm("occupants")), Notes: g.PostForm("notes"),
		Symptoms: g.PostForm("symptoms") != "", CloseContact: g.PostForm("close_contact") != ""}
	req := screening.AttemptInput{Method: form.Method, Outcome: in.Outcome, TravelFrom: in.TravelFrom, ReturnedOn: in.ReturnedOn,
		Symptoms: in.Symptoms, CloseContact: in.CloseContact, Notes: in.Notes}
	var err error
	if in.Occupants != "" {
		// The JSON API refuses a non-number before the service sees it;
		// so does the form, with the same message.
		if n, perr := strconv.Atoi(in.Occupants); perr == nil {
			req.Occupants = &n
		} else {
			err = errs.Validation(errs.Field("occupants", "expect_integer", nil))
		}
	}
	var a *screening.AttemptView
	if err == nil {
		a, err = c.screen.RecordAttempt(console.Once(g), id, taskID, req)
	}
	if console.OfflineRequest(g) {
		console.OfflineAnswer(g, err)
		return
	}
	list := screening.ListCall
	if form.Method == screening.MethodVisit {
		list = screening.ListDoor
	}
	next := "/screenings/" + url.PathEscape(id) + listPath(list) + "?done=" + url.QueryEscape(taskID)
	switch {
	case err == nil:
		if a.FollowUpID != "" {
			next += "&follow_up=1"
		}
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, next))
		return
	case console.ReusedKey(err):
		// The first of two different taps was saved; the list says so
		// rather than showing the second as an error to fix.
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, next+"&repeat=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	if form.Method != screening.MethodPhone && form.Method != screening.MethodVisit {
		form.Method = screening.MethodPhone
	}
	form.Outcomes, form.In, form.State, form.refused = outcomesFor(form.Method), in, console.NewFormState(console.Lang(g), e), true
	if form.Key == "" {
		form.Key = console.NewKey()
	}
	if form.From == "task" {
		c.showTask(g, web.Status(e.Kind), form)
		return
	}
	t, terr := c.screen.GetTask(g.Request.Context(), id, taskID)
	if terr != nil {
		web.Fail(g, terr)
		return
	}
	c.showWorklist(g, web.Status(e.Kind), list, t, form)
}

// printLimit bounds a printed list: a grid's households fit many times
// over; a whole community's is paper nobody carries.
const printLimit = 3000

// printView is a list on paper: every open household of the list, by
// building, with room to write the outcome and a note by hand.
type printView struct {
	*console.Frame
	console.GridNames
	S         *screening.ScreeningView
	List      string
	Buildings []printBuilding
	Total     int
	Cut       bool // more than printLimit: the rest are not printed
}

type printBuilding struct {
	Name  string
	Tasks []screening.TaskView
}

// Visits reports whether this is the door-to-door list.
func (v printView) Visits() bool { return v.List == screening.ListDoor }

// printList is the call or door list (?list=) to print: no holds are
// taken, it is a read like the list's table.
func (c *Pages) printList(g *gin.Context) {
	ctx := g.Request.Context()
	id := g.Param("id")
	list := g.Query("list")
	if list != screening.ListCall {
		list = screening.ListDoor
	}
	s, err := c.screen.GetScreening(ctx, id)
	if err != nil {
		web.Fail(g, err)
		return
	}
	names, _, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := printView{Frame: c.k.Frame(g), GridNames: names, S: s, List: list}
	v.Title = "console.print.door"
	if list == screening.ListCall {
		v.Title = "console.print.call"
	}
	var all []screening.TaskView
	cursor := ""
	for {
		items, next, err := c.screen.ListTasks(ctx, id, screening.Filter{List: list, Limit: web.MaxLimit, Cursor: cursor})
		if err != nil {
			web.Fail(g, err)
			return
		}
		all = append(all, items...)
		if next == "" || len(all) >= printLimit {
			v.Cut = next != ""
			break
		}
		cursor = next
	}
	if len(all) > printLimit {
		all, v.Cut = all[:printLimit], true
	}
	v.Total = len(all)
	v.Buildings = byBuilding(all)
	c.k.Render(g, http.StatusOK, "print_list", v)
}

// byBuilding groups tasks by their address without its last part (the
// room: "育才路12号 12栋 1单元 102" is in "育才路12号 12栋 1单元"), in
// address order, so a worker walks a stairwell from one sheet.
func byBuilding(tasks []screening.TaskView) []printBuilding {
	sorted := slices.Clone(tasks)
	slices.SortStableFunc(sorted, func(a, b screening.TaskView) int { return strings.Compare(a.Address, b.Address) })
	var out []printBuilding
	for _, t := range sorted {
		name := strings.TrimSpace(t.Address)
		if i := strings.LastIndexAny(name, " \u3000"); i > 0 {
			name = strings.TrimSpace(name[:i])
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, printBuilding{Name: name})
		}
		out[len(out)-1].Tasks = append(out[len(out)-1].Tasks, t)
	}
	return out
}

// describe fills the card's household: its members (masked as the
// roster masks them for the caller) and its last attempts.
func (c *Pages) describe(g *gin.Context, v *worklistView) error {
	ctx := g.Request.Context()
	if c.people != nil {
		people, _, err := c.people.ListResidents(ctx, roster.Filter{HouseholdID: v.Task.HouseholdID, Limit: web.MaxLimit})
		if err != nil {
			return err
		}
		year := time.Now().In(v.Loc()).Year()
		for _, p := range people {
			m := member{Name: p.Name, Tags: p.Tags}
			if p.BirthYear != nil && *p.BirthYear > 1900 && *p.BirthYear <= year {
				m.Age = year - *p.BirthYear
			}
			v.Members = append(v.Members, m)
		}
	}
	if v.Task.Attempts > 0 {
		t, err := c.screen.GetTask(ctx, v.S.ID, v.Task.ID)
		if err != nil {
			return err
		}
		v.Last = t.History[:min(len(t.History), lastShown)]
	}
	return nil
}

// offlineList is a campaign's open tasks of the caller's grids, with
// members and last attempts, for offline.js to keep on the device. Only
// those who may record download it (the route's permission); phones are
// as the caller's role sees them, and the read is audited (screening).
func (c *Pages) offlineList(g *gin.Context) {
	list, err := c.screen.OfflineTasks(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	g.JSON(http.StatusOK, list)
}
