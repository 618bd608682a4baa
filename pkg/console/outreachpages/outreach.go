package outreachpages

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// The outreach pages (通知): templates with a live preview of the text
// and its SMS parts, the campaign builder, a campaign's page that follows
// its sending, the opt-out list and residents' replies. Every rule (who
// is in the audience, opt-outs, quiet hours, what each state allows) is
// outreach's; these pages hand over what was typed and show the answer.
//
// A WeCom group notice (企业微信群通知) is one post to the community's
// group robot: the builder offers it beside the channels of templates,
// with a format and without an audience or a template, and the overview
// shows the robot (never its key) for an admin to set.

var (
	// channels are those of templates and of messages to residents; a
	// WeCom notice is the builder's own choice beside them.
	channels = []string{outreach.ChannelSMS, outreach.ChannelVoice}
	// noticeFormats are a WeCom notice's formats, text the default.
	noticeFormats = outreach.NoticeFormats
	// audienceTags are the residents' tags a campaign's audience may
	// pick: roster's well-known ones.
	audienceTags = []string{roster.TagElderly, roster.TagLivesAlone, roster.TagDisabled, roster.TagChronicIllness, roster.TagPregnant, roster.TagChild}
	// robotDone are what the robot's forms report back (?robot=).
	robotDone = []string{"set", "removed", "tested"}
	// campaignActions are the moves a campaign's buttons post, by path.
	campaignActions  = []string{"send", "pause", "resume", "cancel", "retry-failed"}
	campaignStatuses = []string{outreach.CampaignDraft, outreach.CampaignScheduled, outreach.CampaignRunning,
		outreach.CampaignPaused, outreach.CampaignCancelled, outreach.CampaignFinished}
	// replyKinds are how outreach files a reply (its Filter.Status).
	replyKinds    = []string{"reply", "opt_out", "opt_in", "handled"}
	optOutSources = []string{outreach.SourceReply, outreach.SourceStaff}
	// failureCodes are the failures outreach and its providers name
	// themselves; a carrier's own codes show as the provider wrote them.
	failureCodes = []string{"not_mobile", "phone_invalid", "template_missing", "sign_missing", "empty_body", "body_too_long",
		"timeout", "network", "bad_answer", "cannot_query", "not_found", "not_configured",
		"wecom_no_robot", "wecom_unavailable", "wecom_93000", "invalid_key"}
)

// pollRunning and pollWaiting are how often a campaign's page asks for
// its figures: every 2 s while it sends, now and then while it waits for
// its time or for the quiet hours to end. A campaign at rest is not
// polled.
const (
	pollRunning = "every 2s"
	pollWaiting = "every 30s"
)

// sampleToken stands for a check-in link's token in a preview (outreach
// makes 43-character ones).
const sampleToken = "q7Xf2kLm9Rt4Vw8Yb3Nc6Hd1Js5Pg0Za2Ue7Oi4Ty9Er"

// move is one of the service's state changes, by the path its button posts.
func (c *Pages) move(action string) func(context.Context, string) (*outreach.CampaignView, error) {
	switch action {
	case "send":
		return c.outreach.SendCampaign
	case "pause":
		return c.outreach.PauseCampaign
	case "resume":
		return c.outreach.ResumeCampaign
	case "cancel":
		return c.outreach.CancelCampaign
	}
	return c.outreach.RetryFailedCampaign
}

// outreachPage is what every outreach page shares: the tabs, and names
// for what the service gives as codes.
type outreachPage struct {
	*console.Frame
	Tab string // the tab shown as current
	// DryRun: the log provider takes the messages; the pages say plainly
	// that nothing is sent.
	DryRun bool
}

// Stamp shows a timestamp the service gives as RFC 3339 text in the
// org's time zone.
func (p outreachPage) Stamp(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return p.Time(t)
}

// Masked is a phone with its middle hidden: lists about messages (their
// outcome, their text) show no more of a number than it takes to tell
// two apart.
func (p outreachPage) Masked(phone string) string {
	if phone == "" || strings.Contains(phone, "*") {
		return phone
	}
	return pii.MaskPhone(phone)
}

func (c *Pages) outreachPage(g *gin.Context, title, tab string) outreachPage {
	f := c.k.Frame(g)
	f.Title = title
	return outreachPage{Frame: f, Tab: tab, DryRun: c.outreach.DryRun()}
}

// The campaigns' list.

type campaignsView struct {
	outreachPage
	Campaigns []outreach.CampaignView
	Next      string
	Repeat    bool // a second submission of the builder was not saved again
	// The community's WeCom group robot (nil for a reader who may not see
	// it), the name typed in its form, what the form was refused for, and
	// what it just did.
	Robot      *outreach.RobotView
	RobotName  string
	RobotState console.FormState
	RobotDone  string
}

// campaigns lists the community's campaigns, newest first, above the
// community's WeCom group robot.
func (c *Pages) campaigns(g *gin.Context) {
	c.showCampaigns(g, http.StatusOK, "", console.FormState{})
}

func (c *Pages) showCampaigns(g *gin.Context, status int, robotName string, st console.FormState) {
	ctx := g.Request.Context()
	v := campaignsView{outreachPage: c.outreachPage(g, "console.outreach.title", "campaigns"), Repeat: g.Query("repeat") != "",
		RobotName: robotName, RobotState: st}
	if slices.Contains(robotDone, g.Query("robot")) {
		v.RobotDone = g.Query("robot")
	}
	list, next, err := c.outreach.ListCampaigns(ctx, outreach.Filter{Limit: console.PageSize, Cursor: g.Query("cursor")})
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Campaigns, v.Next = list, console.NextURL(g, next)
	if v.Robot, err = c.robot(ctx, v.Frame); err != nil {
		web.Fail(g, err)
		return
	}
	c.k.Render(g, status, "outreach", v)
}

// robot is the community's WeCom group robot, nil for a reader who may
// not see it.
func (c *Pages) robot(ctx context.Context, f *console.Frame) (*outreach.RobotView, error) {
	if !f.Can("wecom_robot", "read") {
		return nil, nil
	}
	return c.outreach.GetRobot(ctx)
}

// setRobot sets (or replaces) the community's robot from the overview's
// form. The address typed is never shown again, not even on a refusal:
// it is the key to the residents' group.
func (c *Pages) setRobot(g *gin.Context) {
	name := g.PostForm("name")
	_, err := c.outreach.SetRobot(g.Request.Context(), outreach.RobotInput{Name: name, WebhookURL: g.PostForm("webhook_url")})
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach?robot=set#wecom-robot"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showCampaigns(g, web.Status(e.Kind), name, console.NewFormState(console.Lang(g), e))
}

// testRobot posts the test message to the community's robot; WeCom's
// refusal shows on the robot's form.
func (c *Pages) testRobot(g *gin.Context) {
	err := c.outreach.TestRobot(g.Request.Context())
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach?robot=tested#wecom-robot"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showCampaigns(g, web.Status(e.Kind), "", console.NewFormState(console.Lang(g), e))
}

// deleteRobot removes the community's robot. One already gone (removed
// from another screen meanwhile) is what was asked for.
func (c *Pages) deleteRobot(g *gin.Context) {
	err := c.outreach.DeleteRobot(g.Request.Context())
	if err == nil || errs.KindOf(err) == errs.KindNotFound {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach?robot=removed#wecom-robot"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showCampaigns(g, web.Status(e.Kind), "", console.NewFormState(console.Lang(g), e))
}

// The campaign builder.

type builderView struct {
	outreachPage
	Grids     []orgs.Grid
	Tags      []string
	Channels  []string
	Formats   []string
	Templates []outreach.Template
	Robot     *outreach.RobotView // a WeCom notice can be chosen when it is configured
	Fields    []outreach.MergeField
	In        campaignInput
	State     console.FormState
	Preview   textPreview
}

// campaignInput is the builder's form as typed.
type campaignInput struct {
	Key                                                          string
	Name, Channel, TemplateID, Body, Scope, When, SendAt, Format string
	Grids, Tags                                                  []string
	Urgent                                                       bool
}

// Audience scopes and send times, as the builder's radios name them.
const (
	scopeAll   = "all"
	scopeGrids = "grids"
	sendNow    = "now"
	sendLater  = "later"
)

func (c *Pages) newCampaign(g *gin.Context) {
	in := campaignInput{Channel: outreach.ChannelSMS, When: sendNow, Format: outreach.FormatText, TemplateID: g.Query("template")}
	c.showBuilder(g, http.StatusOK, in, console.FormState{})
}

func (c *Pages) showBuilder(g *gin.Context, status int, in campaignInput, st console.FormState) {
	ctx := g.Request.Context()
	_, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	tpls, err := c.allTemplates(ctx)
	if err != nil {
		web.Fail(g, err)
		return
	}
	if in.Key == "" {
		in.Key = console.NewKey()
	}
	v := builderView{outreachPage: c.outreachPage(g, "console.outreach.new", "campaigns"), Grids: mine, Tags: audienceTags,
		Channels: channels, Formats: noticeFormats, Templates: tpls, In: in, State: st}
	v.Fields = withFields(v.Frame, false)
	if v.Robot, err = c.robot(ctx, v.Frame); err != nil {
		web.Fail(g, err)
		return
	}
	v.Preview = c.preview(v.Frame, previewInput{Channel: in.Channel, Body: in.Body, TemplateID: in.TemplateID, Format: in.Format}, tpls)
	c.k.Render(g, status, "outreach_new", v)
}

// CanNotice reports whether a WeCom notice can be chosen: the community
// has a robot.
func (v builderView) CanNotice() bool { return v.Robot != nil && v.Robot.Configured }

// allTemplates are the community's templates, for the builder's choice (a
// community keeps a handful).
func (c *Pages) allTemplates(ctx context.Context) ([]outreach.Template, error) {
	var out []outreach.Template
	cursor := ""
	for {
		page, next, err := c.outreach.ListTemplates(ctx, outreach.Filter{Limit: web.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// createCampaign hands the builder to outreach.CreateCampaign under the
// form's idempotency key: the draft it makes holds every message, and its
// page is the preview before anything is sent. A WeCom notice takes its
// body and format alone: the audience and template choices the page hid
// are not the notice's.
func (c *Pages) createCampaign(g *gin.Context) {
	in := campaignInput{Key: strings.TrimSpace(g.PostForm("idempotency_key")), Name: g.PostForm("name"), Channel: g.PostForm("channel"),
		TemplateID: g.PostForm("template_id"), Body: g.PostForm("body"), Scope: g.PostForm("scope"), When: g.PostForm("when"),
		SendAt: strings.TrimSpace(g.PostForm("send_at")), Grids: g.PostFormArray("grids"), Tags: g.PostFormArray("tags"),
		Urgent: g.PostForm("urgent") != "", Format: g.PostForm("format")}
	req := outreach.CampaignInput{Name: in.Name, Channel: in.Channel, Urgent: in.Urgent}
	var fe []errs.FieldError
	if in.Channel == outreach.ChannelWeCom {
		req.Body, req.Format = in.Body, in.Format
	} else {
		req.TemplateID = in.TemplateID
		if in.TemplateID == "" {
			req.Body = in.Body // a body typed before a template was chosen is not the message
		}
		switch {
		case in.Scope == scopeAll:
			req.Audience.All = true
		case in.Scope == scopeGrids && len(in.Grids) == 0:
			fe = append(fe, errs.Field("audience.grids", "console.outreach.pick_grids", nil))
		default:
			req.Audience.Grids = in.Grids
		}
		req.Audience.Tags = in.Tags
	}
	if in.When == sendLater {
		caller, _ := authz.CallerFrom(g.Request.Context())
		if t, err := time.ParseInLocation("2006-01-02T15:04", in.SendAt, console.Location(caller.Org.Timezone)); err == nil {
			req.SendAt = &t
		} else {
			fe = append(fe, errs.Field("send_at", "console.form.bad_time", nil))
		}
	}
	var err error
	if len(fe) > 0 {
		err = errs.Validation(fe...)
	} else {
		var cv *outreach.CampaignView
		if cv, err = c.outreach.CreateCampaign(console.Once(g), req); err == nil {
			g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach/campaigns/"+url.PathEscape(cv.ID)))
			return
		}
	}
	if console.ReusedKey(err) {
		// The first of two different submissions made its draft; it is
		// first on the list.
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach?repeat=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showBuilder(g, web.Status(e.Kind), in, console.NewFormState(console.Lang(g), e))
}

// A campaign's page.

type campaignPageView struct {
	outreachPage
	C       *outreach.CampaignView
	Grids   map[string]string // grid names by id (a campaign's audience names grids by id)
	Preview *outreach.Preview // a draft's: what will be sent
	Failed  []outreach.MessageView
	Next    string // the failed messages' next page
	// Unknown are the messages a worker left halfway whose provider cannot
	// say whether they went out: never sent again by themselves, so staff
	// check them by phone or at the door.
	Unknown     []outreach.MessageView
	UnknownNext string
	Poll        string // the figures' URL while they change
	Every       string // hx-trigger of the poll
	Done        string // the move just made
	State       console.FormState
}

// Processed is how many messages need nothing more: sent, delivered,
// failed, skipped or cancelled.
func (v campaignPageView) Processed() int {
	st := v.C.Stats
	return st.Total - st.Queued - st.HeldQuietHours - st.Sending
}

// Delivered counts the messages the provider took: sent, and delivered
// since.
func (v campaignPageView) Sent() int { return v.C.Stats.Sent + v.C.Stats.Delivered }

// CanSend reports whether the caller may start, pause and end campaigns.
func (v campaignPageView) CanSend() bool { return v.Can("outreach", "send") }

// Notice reports a WeCom group notice: one post to the community's group.
func (v campaignPageView) Notice() bool { return v.C.Channel == outreach.ChannelWeCom }

// Reason is why a message failed: in the reader's words for what
// outreach and its providers name themselves (a landline, a timeout), as
// the provider wrote it otherwise (a carrier's own codes).
func (v campaignPageView) Reason(m outreach.MessageView) string {
	if _, ok := i18n.Lookup("console.outreach.reason." + m.ErrorCode); ok && m.ErrorCode != "" {
		return v.T("console.outreach.reason." + m.ErrorCode)
	}
	if m.Error != "" {
		return m.Error
	}
	return m.ErrorCode
}

// GridNames are the audience's grids by name.
func (v campaignPageView) GridNames() []string {
	out := make([]string, 0, len(v.C.Audience.Grids))
	for _, id := range v.C.Audience.Grids {
		name := v.Grids[id]
		if name == "" {
			name = id
		}
		out = append(out, name)
	}
	return out
}

func (c *Pages) campaignPage(g *gin.Context) {
	c.showCampaign(g, http.StatusOK, "layout", console.FormState{})
}

// campaignStatus is the figures' panel alone, which htmx polls while the
// campaign sends; the first answer with nothing left to send carries no
// poll, so polling stops, and shows the failures.
func (c *Pages) campaignStatus(g *gin.Context) {
	c.showCampaign(g, http.StatusOK, "campaign-status", console.FormState{})
}

func (c *Pages) showCampaign(g *gin.Context, status int, tmpl string, st console.FormState) {
	ctx := g.Request.Context()
	id := g.Param("id")
	cv, err := c.outreach.GetCampaign(ctx, id)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := campaignPageView{outreachPage: c.outreachPage(g, "console.outreach.campaign", "campaigns"), C: cv, State: st}
	if slices.Contains(campaignActions, g.Query("done")) {
		v.Done = g.Query("done")
	}
	page := console.OrgURL(g, "/outreach/campaigns/"+url.PathEscape(cv.ID))
	switch {
	case cv.Stats.Queued > 0 && cv.Status == outreach.CampaignRunning || cv.Stats.Sending > 0:
		v.Poll, v.Every = page+"/status", pollRunning
	case cv.Status == outreach.CampaignRunning || cv.Status == outreach.CampaignScheduled:
		// Waiting for its time, or for the night's quiet hours to end.
		v.Poll, v.Every = page+"/status", pollWaiting
	}
	if tmpl == "layout" {
		names, _, err := c.k.Grids(g)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Grids = make(map[string]string, len(names.All()))
		for _, gr := range names.All() {
			v.Grids[gr.ID] = gr.Name
		}
		if cv.Status == outreach.CampaignDraft {
			if v.Preview, err = c.outreach.PreviewCampaign(ctx, cv.ID); err != nil {
				web.Fail(g, err)
				return
			}
		}
	}
	// The failures, and the messages of unknown fate, are listed once the
	// sending is over (each list is an audited read: not one every 2 s).
	if v.Poll == "" {
		var err error
		if cv.Stats.Failed > 0 {
			v.Failed, v.Next, err = c.campaignMessages(g, page, cv.ID, outreach.StatusFailed, "cursor", "failed")
		}
		if err == nil && cv.Stats.Unknown > 0 {
			v.Unknown, v.UnknownNext, err = c.campaignMessages(g, page, cv.ID, outreach.StatusUnknown, "unknown_cursor", "unknown")
		}
		if err != nil {
			web.Fail(g, err)
			return
		}
	}
	if tmpl == "layout" {
		c.k.Render(g, status, "outreach_campaign", v)
		return
	}
	c.k.Fragment(g, status, "outreach_campaign", tmpl, v)
}

// campaignMessages is one page of a campaign's messages in status, paged
// by the query parameter param, and the link to the next page (at #anchor).
func (c *Pages) campaignMessages(g *gin.Context, page, id, status, param, anchor string) ([]outreach.MessageView, string, error) {
	ms, next, err := c.outreach.ListMessages(g.Request.Context(), outreach.Filter{Campaign: id, Status: status,
		Limit: console.PageSize, Cursor: g.Query(param)})
	if err != nil || next == "" {
		return ms, "", err
	}
	return ms, page + "?" + param + "=" + url.QueryEscape(next) + "#" + anchor, nil
}

// moveCampaign runs one of a campaign's buttons (send, pause, resume,
// cancel, retry the failed) and shows the campaign again; a move its
// state does not allow (a 409: someone else paused it, it finished
// meanwhile) is said on the page, which shows the state it is in.
func (c *Pages) moveCampaign(action string) gin.HandlerFunc {
	return func(g *gin.Context) {
		id := g.Param("id")
		_, err := c.move(action)(g.Request.Context(), id)
		if err == nil {
			g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach/campaigns/"+url.PathEscape(id)+"?done="+action))
			return
		}
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		c.showCampaign(g, web.Status(e.Kind), "layout", console.NewFormState(console.Lang(g), readableState(console.Lang(g), e)))
	}
}

// readableState names the campaign's state in the reader's words in
// outreach's "wrong state" refusal, which gives it as a code.
func readableState(l i18n.Lang, e *errs.Error) *errs.Error {
	s, ok := e.Args["status"].(string)
	if e.Key != "campaign_wrong_state" || !ok || !slices.Contains(campaignStatuses, s) {
		return e
	}
	out := *e
	out.Args = map[string]any{}
	for k, v := range e.Args {
		out.Args[k] = v
	}
	out.Args["status"] = i18n.T(l, "console.outreach.status."+s, nil)
	return &out
}

// withFields are the merge fields a body's buttons insert (typing {{.Name}}
// on a phone's Chinese keyboard is hard), outreach's own list: all of them
// on a template, which may be sent to residents under isolation; on the
// builder, whose audience is never that, those for anyone. The page loads
// fields.js, which shows the buttons and inserts at the cursor.
func withFields(f *console.Frame, isolation bool) []outreach.MergeField {
	var out []outreach.MergeField
	for _, m := range outreach.MergeFields {
		if isolation || !m.Isolation {
			out = append(out, m)
		}
	}
	f.Scripts = append(f.Scripts, "fields.js")
	return out
}

// Templates.

type templatesView struct {
	outreachPage
	Templates []outreach.Template
	Next      string
	Channels  []string
	In        templateInput
	State     console.FormState
	Added     bool
	Preview   textPreview
	Fields    []outreach.MergeField
}

type templateInput struct {
	Key, Name, Channel, Body, ProviderTemplate, SignName string
}

func (c *Pages) templates(g *gin.Context) {
	c.showTemplates(g, http.StatusOK, templateInput{Channel: outreach.ChannelSMS}, console.FormState{})
}

func (c *Pages) showTemplates(g *gin.Context, status int, in templateInput, st console.FormState) {
	list, next, err := c.outreach.ListTemplates(g.Request.Context(), outreach.Filter{Limit: console.PageSize, Cursor: g.Query("cursor")})
	if err != nil {
		web.Fail(g, err)
		return
	}
	if in.Key == "" {
		in.Key = console.NewKey()
	}
	v := templatesView{outreachPage: c.outreachPage(g, "console.outreach.templates", "templates"), Templates: list, Next: console.NextURL(g, next),
		Channels: channels, In: in, State: st, Added: g.Query("added") != ""}
	v.Fields = withFields(v.Frame, true)
	v.Preview = c.preview(v.Frame, previewInput{Channel: in.Channel, Body: in.Body, SignName: in.SignName}, nil)
	c.k.Render(g, status, "outreach_templates", v)
}

// createTemplate hands the form to outreach.CreateTemplate, which checks
// the fields and the longest rendering against the provider's limits.
func (c *Pages) createTemplate(g *gin.Context) {
	in := templateInput{Key: strings.TrimSpace(g.PostForm("idempotency_key")), Name: g.PostForm("name"), Channel: g.PostForm("channel"),
		Body: g.PostForm("body"), ProviderTemplate: g.PostForm("provider_template"), SignName: g.PostForm("sign_name")}
	_, err := c.outreach.CreateTemplate(console.Once(g), outreach.TemplateInput{Name: in.Name, Channel: in.Channel, Body: in.Body,
		ProviderTemplate: in.ProviderTemplate, SignName: in.SignName})
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach/templates?added=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showTemplates(g, web.Status(e.Kind), in, console.NewFormState(console.Lang(g), e))
}

// The live preview.

// textPreview is a message text rendered with sample values, with its
// length as the provider counts it.
type textPreview struct {
	Text    string
	Chars   int
	Parts   int // SMS parts; 0 for a call or a notice
	Voice   bool
	Notice  bool   // a WeCom group notice
	Format  string // a notice's: text or markdown
	Problem string // why the text cannot be rendered, in the reader's words
	Empty   bool
}

type previewInput struct {
	Channel, Body, TemplateID, SignName, Format string
}

// previewText answers the forms' typing (htmx) with the preview alone.
func (c *Pages) previewText(g *gin.Context) {
	in := previewInput{Channel: g.PostForm("channel"), Body: g.PostForm("body"), TemplateID: g.PostForm("template_id"), SignName: g.PostForm("sign_name"),
		Format: g.PostForm("format")}
	var tpls []outreach.Template
	if in.TemplateID != "" && in.Channel != outreach.ChannelWeCom {
		var err error
		if tpls, err = c.allTemplates(g.Request.Context()); err != nil {
			web.Fail(g, err)
			return
		}
	}
	f := c.k.Frame(g)
	c.k.Fragment(g, http.StatusOK, "outreach_templates", "text-preview", struct {
		*console.Frame
		Preview textPreview
	}{f, c.preview(f, in, tpls)})
}

// preview renders a body (or the chosen template's) with sample values:
// a name, the community's own name, an end date two weeks ahead, a
// check-in link. Its fields are read as outreach reads them (only
// {{.Field}}, of the four it knows) and its problems are outreach's own
// messages; outreach checks the text again, at its longest, on saving.
// A WeCom notice has no template and the community's name alone, and is
// held to the robot's length for its format.
func (c *Pages) preview(f *console.Frame, in previewInput, tpls []outreach.Template) textPreview {
	if in.Channel == outreach.ChannelWeCom {
		return c.noticePreview(f, in)
	}
	if in.TemplateID != "" {
		for _, t := range tpls {
			if t.ID == in.TemplateID {
				in.Channel, in.Body, in.SignName = t.Channel, t.Body, t.SignName
			}
		}
	}
	if strings.TrimSpace(in.Body) == "" {
		return textPreview{Empty: true}
	}
	community := ""
	if f.Org != nil {
		community = f.Org.Name
	}
	text, key, args := renderSample(in.Body, map[string]string{
		outreach.FieldName:       f.T("console.outreach.sample_name"),
		outreach.FieldCommunity:  community,
		outreach.FieldEndDate:    time.Now().In(f.Loc()).AddDate(0, 0, 14).Format(time.DateOnly),
		outreach.FieldCheckinURL: strings.TrimRight(c.k.BaseURL(), "/") + "/r/" + sampleToken,
	})
	if key != "" {
		return textPreview{Problem: f.T(key, args...)}
	}
	p := textPreview{Text: text, Chars: utf8.RuneCountInString(text), Voice: in.Channel == outreach.ChannelVoice}
	if !p.Voice {
		p.Parts = c.outreach.Parts(text, strings.TrimSpace(in.SignName))
	}
	return p
}

// noticePreview is a WeCom notice's preview: the group gets one text, with
// the community's name for {{.Community}}.
func (c *Pages) noticePreview(f *console.Frame, in previewInput) textPreview {
	if strings.TrimSpace(in.Body) == "" {
		return textPreview{Empty: true}
	}
	community := ""
	if f.Org != nil {
		community = f.Org.Name
	}
	text, key, args := renderSample(in.Body, map[string]string{outreach.FieldCommunity: community})
	if key == "template_unknown_field" && len(args) == 2 {
		// A resident's field: outreach's own word for it in a notice.
		if name, _ := args[1].(string); slices.Contains([]string{outreach.FieldName, outreach.FieldEndDate, outreach.FieldCheckinURL}, strings.TrimPrefix(name, ".")) {
			key = "wecom_fields"
		}
	}
	if key != "" {
		return textPreview{Problem: f.T(key, args...)}
	}
	format := in.Format
	if !slices.Contains(noticeFormats, format) {
		format = outreach.FormatText
	}
	if err := outreach.CheckNotice(format, text); err != nil {
		return textPreview{Problem: f.T("wecom_too_long", "detail", err.Error())}
	}
	return textPreview{Text: text, Chars: utf8.RuneCountInString(text), Notice: true, Format: format}
}

// renderSample is outreach.RenderSample with its error as a message key
// and its arguments, for f.T.
func renderSample(body string, values map[string]string) (string, string, []any) {
	text, fe := outreach.RenderSample(body, values)
	if fe == nil {
		return text, "", nil
	}
	args := make([]any, 0, 2*len(fe.Args))
	for _, k := range slices.Sorted(maps.Keys(fe.Args)) {
		args = append(args, k, fe.Args[k])
	}
	return "", fe.Key, args
}

// Replies.

type repliesView struct {
	outreachPage
	Replies []outreach.ReplyView
	Next    string
	Kind    string
	Kinds   []string
	State   console.FormState
}

// replies lists what residents wrote back, newest first, by kind.
func (c *Pages) replies(g *gin.Context) {
	v := repliesView{outreachPage: c.outreachPage(g, "console.replies.title", "replies"), Kind: g.Query("kind"), Kinds: replyKinds}
	if v.Kind != "" && !slices.Contains(replyKinds, v.Kind) {
		v.State = console.NewFormState(console.Lang(g), errs.Validation(errs.Field("kind", "one_of", map[string]any{"allowed": strings.Join(replyKinds, ", ")})))
		c.k.Render(g, http.StatusUnprocessableEntity, "outreach_replies", v)
		return
	}
	list, next, err := c.outreach.ListReplies(g.Request.Context(), outreach.Filter{Status: v.Kind, Limit: console.PageSize, Cursor: g.Query("cursor")})
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Replies, v.Next = list, console.NextURL(g, next)
	c.k.Render(g, http.StatusOK, "outreach_replies", v)
}

// The opt-out list.

type optOutsView struct {
	outreachPage
	OptOuts []outreach.OptOutView
	Next    string
	Key     string
	Phone   string
	State   console.FormState
	Added   bool
	Removed bool
}

func (c *Pages) optOuts(g *gin.Context) {
	c.showOptOuts(g, http.StatusOK, "", console.FormState{})
}

func (c *Pages) showOptOuts(g *gin.Context, status int, phone string, st console.FormState) {
	list, next, err := c.outreach.ListOptOuts(g.Request.Context(), outreach.Filter{Limit: console.PageSize, Cursor: g.Query("cursor")})
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := optOutsView{outreachPage: c.outreachPage(g, "console.opt_outs.title", "opt_outs"), OptOuts: list, Next: console.NextURL(g, next),
		Key: console.NewKey(), Phone: phone, State: st, Added: g.Query("added") != "", Removed: g.Query("removed") != ""}
	c.k.Render(g, status, "outreach_opt_outs", v)
}

// addOptOut puts a phone on the list (a resident's word taken by phone or
// at the door), under the form's idempotency key.
func (c *Pages) addOptOut(g *gin.Context) {
	phone := g.PostForm("phone")
	_, err := c.outreach.AddOptOut(console.Once(g), outreach.OptOutInput{Phone: phone})
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach/opt-outs?added=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showOptOuts(g, web.Status(e.Kind), phone, console.NewFormState(console.Lang(g), e))
}

// removeOptOut takes a phone off the list. One already gone (removed
// from another screen meanwhile) is what was asked for.
func (c *Pages) removeOptOut(g *gin.Context) {
	err := c.outreach.RemoveOptOut(g.Request.Context(), outreach.OptOutInput{Phone: g.PostForm("phone")})
	if err == nil || errs.KindOf(err) == errs.KindNotFound {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/outreach/opt-outs?removed=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showOptOuts(g, web.Status(e.Kind), "", console.NewFormState(console.Lang(g), e))
}
