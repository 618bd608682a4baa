package provider

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Twilio sends SMS through the Messages API and calls that read the body
// aloud (TwiML <Say language="zh-CN">), with twilio-go.
//
// twilio-go builds every request with context.Background() and reads the
// edge from the environment; we want the caller's context and our own
// settings. So each call gets a client.Client whose http.Client has a
// transport that puts the call's context on the request (cancellation and
// our timeout both live in that context), and a RequestHandler with our
// edge. The clients are cheap structs; the connection pool is the shared
// transport's.
type Twilio struct {
	sid            string
	token          Secret
	from           string
	messaging      string
	statusCallback string
	voice          string
	edge           string
	// callbackBase is the external URL Twilio calls us at (scheme, host and
	// any path prefix a proxy strips), to rebuild the URL it signed.
	callbackBase *url.URL
	transport    http.RoundTripper
	timeout      time.Duration
	now          func() time.Time
}

// maxTwiML is Twilio's limit on the Twiml parameter of a call.
const maxTwiML = 4000

// NewTwilio checks cfg and returns the Twilio provider.
func NewTwilio(cfg Config) (*Twilio, error) {
	var errs []error
	if cfg.TwilioAccountSID == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvTwilioAccountSID))
	} else if !isSID(cfg.TwilioAccountSID) {
		errs = append(errs, fmt.Errorf("%s: not an account SID", EnvTwilioAccountSID))
	}
	if !cfg.TwilioAuthToken.IsSet() {
		errs = append(errs, fmt.Errorf("%s is not set", EnvTwilioAuthToken))
	} else if !isSID(cfg.TwilioAuthToken.Reveal()) {
		// twilio-go refuses anything but letters and digits, on every
		// request; say so once, at start.
		errs = append(errs, fmt.Errorf("%s: must be letters and digits only", EnvTwilioAuthToken))
	}
	if cfg.TwilioFrom == "" && cfg.TwilioMessagingServiceSID == "" {
		errs = append(errs, fmt.Errorf("%s or %s must be set", EnvTwilioFrom, EnvTwilioMessagingSID))
	}
	if cfg.TwilioStatusCallbackURL != "" && checkURL(cfg.TwilioStatusCallbackURL) != nil {
		errs = append(errs, fmt.Errorf("%s: not an absolute http(s) URL", EnvTwilioStatusCallback))
	}
	var base *url.URL
	for _, s := range []string{cfg.PublicURL, cfg.TwilioStatusCallbackURL} {
		if s == "" {
			continue
		}
		if u, err := url.Parse(s); err == nil && checkURL(s) == nil {
			base = &url.URL{Scheme: u.Scheme, Host: u.Host}
			if s == cfg.PublicURL {
				base.Path = strings.TrimSuffix(u.Path, "/")
			}
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("twilio provider: %w", err)
	}
	transport := cfg.httpClient().Transport
	if transport == nil { // a test's client on the default transport
		transport = http.DefaultTransport
	}
	return &Twilio{
		sid:            cfg.TwilioAccountSID,
		token:          cfg.TwilioAuthToken,
		from:           cfg.TwilioFrom,
		messaging:      cfg.TwilioMessagingServiceSID,
		statusCallback: cfg.TwilioStatusCallbackURL,
		voice:          cfg.TwilioVoice,
		edge:           cfg.TwilioEdge,
		callbackBase:   base,
		transport:      transport,
		timeout:        cfg.timeout(),
		now:            time.Now,
	}, nil
}

// isSID: Twilio's SIDs and tokens are letters and digits. A SID goes into a
// URL path unescaped by twilio-go, so anything else is refused.
func isSID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Name is "twilio".
func (*Twilio) Name() string { return "twilio" }

// ctxTransport sends every request of one call with that call's context.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// api is a client for one call, bound to ctx.
func (p *Twilio) api(ctx context.Context) *openapi.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(p.sid, p.token.Reveal()),
		HTTPClient: &http.Client{
			Transport:     ctxTransport{ctx: ctx, base: p.transport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(p.sid)
	return openapi.NewApiService(&client.RequestHandler{Client: c, Edge: p.edge})
}

// Send sends an SMS, or places a call that reads the body.
func (p *Twilio) Send(ctx context.Context, m Message) (Sent, error) {
	phone, err := m.phone()
	if err != nil {
		return Sent{}, err
	}
	if strings.TrimSpace(m.Body) == "" {
		return Sent{}, permanent("empty_body", "Twilio sends the body, and it is empty")
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	at := p.now()
	callback := p.callbackFor(m.ID)

	if m.Channel == ChannelSMS {
		params := &openapi.CreateMessageParams{}
		params.SetTo(e164(phone)).SetBody(m.Body)
		if p.messaging != "" {
			params.SetMessagingServiceSid(p.messaging)
		} else {
			params.SetFrom(p.from)
		}
		if callback != "" {
			params.SetStatusCallback(callback)
		}
		msg, err := p.api(ctx).CreateMessage(params)
		if err != nil {
			return Sent{}, p.error(ctx, err)
		}
		if msg.Sid == nil || *msg.Sid == "" {
			return Sent{}, &Error{Code: "bad_answer", Reason: "Twilio answered without a message SID", MaybeSent: true}
		}
		return Sent{ProviderID: *msg.Sid, At: at}, nil
	}

	if p.from == "" {
		return Sent{}, transient("not_configured", "calls need "+EnvTwilioFrom)
	}
	var twiml string
	if m.Keypad {
		if p.callbackBase == nil {
			return Sent{}, transient("not_configured", "keypad calls need "+EnvPublicURL+" for Twilio to call back")
		}
		twiml, err = p.KeypadTwiML(m.ID, m.Body, "", 1)
		callback = p.keypadURL("status", m.ID, 0)
	} else {
		twiml, err = p.twiml(m.Body)
	}
	if err != nil {
		return Sent{}, err
	}
	params := &openapi.CreateCallParams{}
	params.SetTo(e164(phone)).SetFrom(p.from).SetTwiml(twiml)
	if callback != "" {
		params.SetStatusCallback(callback)
	}
	call, err := p.api(ctx).CreateCall(params)
	if err != nil {
		return Sent{}, p.error(ctx, err)
	}
	if call.Sid == nil || *call.Sid == "" {
		return Sent{}, &Error{Code: "bad_answer", Reason: "Twilio answered without a call SID", MaybeSent: true}
	}
	return Sent{ProviderID: *call.Sid, At: at}, nil
}

// callbackFor is the status callback URL with our message ID in it, so
// that the receipt names the message even when the worker never learnt the
// SID.
func (p *Twilio) callbackFor(id string) string {
	if p.statusCallback == "" {
		return ""
	}
	u, err := url.Parse(p.statusCallback)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("mid", id)
	u.RawQuery = q.Encode()
	return u.String()
}

// twiml is the call's script: the body read once in Mandarin.
func (p *Twilio) twiml(body string) (string, error) {
	type say struct {
		Language string `xml:"language,attr"`
		Voice    string `xml:"voice,attr,omitempty"`
		Text     string `xml:",chardata"`
	}
	b, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"Response"`
		Say     say
	}{Say: say{Language: "zh-CN", Voice: p.voice, Text: body}})
	if err != nil {
		return "", permanent("bad_body", "the body cannot be read aloud: "+err.Error())
	}
	if len(b) > maxTwiML {
		return "", permanent("body_too_long", fmt.Sprintf("the call's script is %d bytes; Twilio takes %d", len(b), maxTwiML))
	}
	return string(b), nil
}

// Query fetches the message or the call by SID.
func (p *Twilio) Query(ctx context.Context, m Message, sent Sent) (Status, error) {
	if sent.ProviderID == "" {
		return Status{}, ErrCannotQuery
	}
	if !isSID(sent.ProviderID) {
		return Status{}, permanent("bad_provider_id", "not a Twilio SID")
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if m.Channel == ChannelVoice {
		call, err := p.api(ctx).FetchCall(sent.ProviderID, nil)
		if err != nil {
			return p.queryError(ctx, err)
		}
		st := twilioCallStatus(deref(call.Status))
		if st.At = parseTime(deref(call.EndTime)); st.At.IsZero() {
			st.At = parseTime(deref(call.DateUpdated))
		}
		return st, nil
	}
	msg, err := p.api(ctx).FetchMessage(sent.ProviderID, nil)
	if err != nil {
		return p.queryError(ctx, err)
	}
	code := ""
	if msg.ErrorCode != nil && *msg.ErrorCode != 0 {
		code = strconv.Itoa(*msg.ErrorCode)
	}
	st := twilioMessageStatus(deref(msg.Status), code)
	if st.State == StateFailed && msg.ErrorMessage != nil && *msg.ErrorMessage != "" {
		st.Reason = scrub(code + " " + *msg.ErrorMessage)
	}
	st.At = parseTime(deref(msg.DateUpdated))
	return st, nil
}

func (p *Twilio) queryError(ctx context.Context, err error) (Status, error) {
	var re *client.TwilioRestError
	if errors.As(err, &re) && re.Status == http.StatusNotFound {
		return Status{State: StateUnknown}, nil
	}
	return Status{}, p.error(ctx, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// error classifies what twilio-go returned.
func (p *Twilio) error(ctx context.Context, err error) error {
	var (
		re  *client.TwilioRestError
		v1  *client.RestErrorV1
		ue  *url.Error
		e   *Error
		tok = p.token.Reveal()
	)
	switch {
	case errors.As(err, &re):
		e = twilioStatusError(re.Status, re.Code, scrub(re.Message, tok))
	case errors.As(err, &v1):
		e = twilioStatusError(v1.HttpStatusCode, v1.Code, scrub(v1.Message, tok))
	case errors.As(err, &ue):
		return transportError(ctx, err, "api.twilio.com")
	case ctx.Err() != nil:
		return &Error{Code: "network", Reason: "no answer from api.twilio.com", MaybeSent: true, Err: ctx.Err()}
	default:
		// An answer twilio-go could not decode, such as a gateway's HTML
		// error page.
		return &Error{Code: "bad_answer", Reason: scrub(err.Error(), tok), MaybeSent: true}
	}
	e.Err = err
	return e
}

// twilioConfigCodes are 4xx codes about our account or sender, not the
// message: transient, for the operator to fix.
var twilioConfigCodes = map[int]bool{
	20003: true, // authentication
	20404: true, // resource (account) not found
	20429: true, // too many requests
	14107: true, // rate limit
	21212: true, // invalid From
	21219: true, // To not verified (trial account)
	21408: true, // permission to send to this region not enabled
	21603: true, // From required
	21606: true, // From cannot send SMS
	21611: true, // From has too many queued messages
	30001: true, // queue overflow
}

func twilioStatusError(status, code int, message string) *Error {
	e := &Error{Code: strconv.Itoa(code), Reason: message}
	if code == 0 {
		e.Code = "http_" + strconv.Itoa(status)
	}
	switch {
	case status >= 500:
		e.MaybeSent = status != http.StatusServiceUnavailable
	case status == http.StatusUnauthorized, code == 20003:
		// Account SID or auth token wrong (or the key revoked).
		e.Credentials = true
	case status == http.StatusTooManyRequests,
		status == http.StatusForbidden, status == http.StatusNotFound, status == http.StatusRequestTimeout:
	case twilioConfigCodes[code]:
	case status >= 400:
		// 21211 invalid To, 21610 opted out (STOP), 21612 cannot route,
		// 21614 not a mobile, 21617 body too long: the message itself.
		e.Permanent = true
	}
	return e
}

func twilioMessageStatus(status, errorCode string) Status {
	st := Status{Code: errorCode}
	switch status {
	case "delivered", "read":
		st.State = StateDelivered
	case "failed", "undelivered", "canceled":
		st.State = StateFailed
		st.Reason = twilioErrors[errorCode]
		if st.Reason == "" {
			st.Reason = status
		}
		if st.Code == "" {
			st.Code = status
		}
	default: // accepted, scheduled, queued, sending, sent, partially_delivered
		st.State = StateSent
	}
	return st
}

func twilioCallStatus(status string) Status {
	switch status {
	case "completed":
		return Status{State: StateDelivered, Code: status}
	case "busy", "no-answer", "failed", "canceled":
		return Status{State: StateFailed, Code: status, Reason: status}
	}
	return Status{State: StateSent, Code: status} // queued, initiated, ringing, in-progress
}

// twilioErrors names the usual delivery failures.
var twilioErrors = map[string]string{
	"21610": "21610 recipient opted out (STOP)",
	"30003": "30003 unreachable destination handset",
	"30004": "30004 message blocked",
	"30005": "30005 unknown destination handset",
	"30006": "30006 landline or unreachable carrier",
	"30007": "30007 message filtered by the carrier",
	"30008": "30008 unknown error",
}
