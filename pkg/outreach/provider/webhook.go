package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook hands messages to a gateway of the deployment's own (a local
// carrier's SMS cat, an SMPP bridge, a government messaging platform) with a
// small signed JSON protocol:
//
// Sending: POST WANJIA_SMS_WEBHOOK_URL with
//
//	{"id":"<our message ID>","channel":"sms|voice","phone":"13812345678",
//	 "body":"…","template_code":"…","sign_name":"…","params":{"name":"…"}}
//
// and the headers X-Wanjia-Timestamp (Unix seconds), X-Wanjia-Signature
// ("sha256=" and the hex HMAC-SHA256 under WANJIA_SMS_WEBHOOK_SECRET of the
// timestamp, ".", and the body; the timestamp is signed so that it cannot be
// replaced), and Idempotency-Key (the message ID: the worker may send a
// message again after a timeout, and the gateway should deliver it once).
// A 2xx answer is success, optionally with {"id":"<the gateway's ID>"}; 4xx
// (but 408 and 429) refuses the message for good, with the reason in the
// body as text or {"error":"…","code":"…"}; anything else is retried.
//
// Status query: GET WANJIA_SMS_WEBHOOK_URL/<our message ID>, signed with
// the same headers over the timestamp, ".", and the message ID (a GET has
// no body; the ID stands in for it, so that a signature names the message
// it asks about). The gateway answers 200 with
//
//	{"id":"<our ID>","status":"received|sent|delivered|failed",
//	 "provider_id":"…","code":"…","reason":"…","at":"<RFC 3339>"}
//
// for a message it has taken (received: taken, not handed on yet), or 404
// with {"id":"<our ID>","status":"not_received"} for one it never got.
// The worker asks when one of its workers died while sending a message,
// and sends it again on not_received: the gateway must therefore record an
// ID before it answers the POST that brought it (or hands it on), keep it
// for at least a day, and still deliver an ID once however often it is
// POSTed (Idempotency-Key). A 404 without that body, 405 or 501 says that
// the gateway has no status query: the message is then marked unknown for
// staff, never sent again blindly.
//
// Callbacks: the gateway POSTs, signed the same way and at most 5 minutes
// old, receipts
//
//	[{"id":"<our ID>","provider_id":"…","status":"delivered|failed|sent",
//	  "code":"…","reason":"…","at":"<RFC 3339>"}]
//
// and replies
//
//	[{"from":"13812345678","text":"…","at":"<RFC 3339>","provider_id":"…"}]
//
// (a single object is taken as an array of one). A call's receipts
// (channel "voice") go to /hooks/voice/webhook/status instead.
//
// Keypad check-in calls: a message with "keypad":true is a call that reads
// body, then gathers keys: 1 (well) or 2 (fever or symptoms), then the
// temperature as digits, # to end. The gateway posts what the resident
// pressed, signed the same way, to /hooks/voice/webhook/gather:
//
//	{"id":"<our ID>","call_id":"<the gateway's call ID>","digits":"1365#","try":1}
//
// (call_id is required: a check-in is stored once per call_id, however
// often it is posted; digits "" when no key came; try counts the prompts
// of the call, from 1) and gets 200 with
//
//	{"outcome":"stored|duplicate|invalid|ignored","say":"…","prompt":"…"}
//
// to read say to the resident, then, when prompt is set, to ask again
// with it in the same call and post the next answer with try+1; without
// prompt, to hang up. An answer that stays invalid is no check-in: the
// call's receipt tells us it ended, and a later call may follow.
//
// A reply's provider_id
// should be given; without it, the request's signature names the reply, so
// the same signed request pushed twice stores it once.
type Webhook struct {
	url     *url.URL
	secret  Secret
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

// NewWebhook checks cfg and returns the webhook provider.
func NewWebhook(cfg Config) (*Webhook, error) {
	var errs []error
	u, err := url.Parse(cfg.WebhookURL)
	if cfg.WebhookURL == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvWebhookURL))
	} else if err != nil || checkURL(cfg.WebhookURL) != nil {
		errs = append(errs, fmt.Errorf("%s: not an absolute http(s) URL", EnvWebhookURL))
	}
	if len(cfg.WebhookSecret.Reveal()) < 16 {
		errs = append(errs, fmt.Errorf("%s must have at least 16 characters", EnvWebhookSecret))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook provider: %w", err)
	}
	return &Webhook{url: u, secret: cfg.WebhookSecret, client: cfg.httpClient(), timeout: cfg.timeout(), now: time.Now}, nil
}

// Name is "webhook".
func (*Webhook) Name() string { return "webhook" }

type webhookMessage struct {
	ID           string            `json:"id"`
	Channel      Channel           `json:"channel"`
	Phone        string            `json:"phone"`
	Body         string            `json:"body"`
	TemplateCode string            `json:"template_code,omitempty"`
	SignName     string            `json:"sign_name,omitempty"`
	Params       map[string]string `json:"params,omitempty"`
	Keypad       bool              `json:"keypad,omitempty"`
}

// Send posts m to the gateway.
func (p *Webhook) Send(ctx context.Context, m Message) (Sent, error) {
	if _, err := m.phone(); err != nil {
		return Sent{}, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// A conversion, so that a field added to Message stops the build here
	// until the protocol says whether the gateway gets it.
	if err := enc.Encode(webhookMessage(m)); err != nil {
		return Sent{}, permanent("bad_params", err.Error())
	}
	body := buf.Bytes()

	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	at := p.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url.String(), bytes.NewReader(body))
	if err != nil {
		return Sent{}, &Error{Code: "bad_request", Reason: "cannot build the request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign([]byte(p.secret.Reveal()), at, body))
	req.Header.Set("Idempotency-Key", m.ID)
	resp, err := p.client.Do(req)
	if err != nil {
		return Sent{}, transportError(ctx, err, p.url.Host)
	}
	defer resp.Body.Close()
	raw, err := readLimited(resp.Body, maxResponse)
	if err != nil {
		return Sent{}, transportError(ctx, err, p.url.Host)
	}
	var answer struct {
		ID      string `json:"id"`
		Error   string `json:"error"`
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	isJSON := json.Unmarshal(raw, &answer) == nil
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		id := answer.ID
		if id == "" {
			id = m.ID
		}
		return Sent{ProviderID: id, At: at}, nil
	}
	reason := strings.TrimSpace(string(raw))
	if isJSON {
		reason = strings.TrimSpace(answer.Error + " " + answer.Message)
	}
	e := statusError(resp.StatusCode, scrub(reason, p.secret.Reveal()), resp.Header)
	if isJSON && answer.Code != "" {
		e.Code = scrub(answer.Code)
	}
	return Sent{}, e
}

// NotReceived is the status query's answer for a message the gateway
// never got.
const NotReceived = "not_received"

// Query asks the gateway about m by our ID (the status query above). A
// gateway's "never received" is StateNotFound; a gateway that does not
// know the query is ErrCannotQuery.
func (p *Webhook) Query(ctx context.Context, m Message, _ Sent) (Status, error) {
	if m.ID == "" {
		return Status{}, ErrCannotQuery
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	at := p.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url.JoinPath(m.ID).String(), nil)
	if err != nil {
		return Status{}, &Error{Code: "bad_request", Reason: "cannot build the request", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign([]byte(p.secret.Reveal()), at, []byte(m.ID)))
	resp, err := p.client.Do(req)
	if err != nil {
		return Status{}, transportError(ctx, err, p.url.Host)
	}
	defer resp.Body.Close()
	raw, err := readLimited(resp.Body, maxResponse)
	if err != nil {
		return Status{}, transportError(ctx, err, p.url.Host)
	}
	var answer struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		ProviderID string `json:"provider_id"`
		Code       string `json:"code"`
		Reason     string `json:"reason"`
		At         string `json:"at"`
	}
	// Only an answer that names our message is one: a router's 404 page,
	// or a catch-all 200, must never read as "never received" (the message
	// would go twice) nor as "sent".
	ours := json.Unmarshal(raw, &answer) == nil && answer.ID == m.ID
	switch {
	case resp.StatusCode == http.StatusNotFound && ours && answer.Status == NotReceived:
		return Status{State: StateNotFound}, nil
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed,
		resp.StatusCode == http.StatusNotImplemented:
		return Status{}, ErrCannotQuery
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if !ours {
			return Status{}, ErrCannotQuery
		}
		st := Status{Code: scrub(answer.Code), Reason: scrub(answer.Reason, p.secret.Reveal()), At: parseTime(answer.At)}
		switch answer.Status {
		case "received", string(StateSent):
			st.State = StateSent
		case string(StateDelivered):
			st.State = StateDelivered
		case string(StateFailed):
			st.State = StateFailed
		default:
			// Taken, in a state we do not know: not final, and certainly
			// not "never received".
			st.State = StateSent
		}
		return st, nil
	}
	return Status{}, statusError(resp.StatusCode, scrub(strings.TrimSpace(string(raw)), p.secret.Reveal()), resp.Header)
}

func (p *Webhook) verify(r *http.Request) ([]byte, error) {
	body, err := callbackBody(r)
	if err != nil {
		return nil, err
	}
	if err := verifySigned(r.Header, body, []byte(p.secret.Reveal()), p.now()); err != nil {
		return nil, err
	}
	return body, nil
}

// Receipts reads the gateway's signed receipts.
func (p *Webhook) Receipts(r *http.Request) ([]Receipt, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	return parseWebhookReceipts(body)
}

// Inbound reads the gateway's signed replies. A reply without
// provider_id is named by the request's signature and its place in the
// batch: a signed request may be replayed (by the gateway pushing it again,
// or by anyone who captured it) for as long as its timestamp is fresh, and
// the hook stores a reply once per provider id. The signature covers the
// timestamp and the body, so a replay has the same one and a new push
// (another timestamp or another text) has another.
func (p *Webhook) Inbound(r *http.Request) ([]Inbound, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	in, err := parseWebhookInbound(body)
	if err != nil {
		return nil, err
	}
	sig := strings.TrimPrefix(r.Header.Get(SignatureHeader), "sha256=")
	for i := range in {
		if in[i].ProviderID == "" {
			in[i].ProviderID = fmt.Sprintf("sig:%s:%d", sig, i)
		}
	}
	return in, nil
}

// Ack answers 204: the protocol needs no body.
func (*Webhook) Ack(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// decodeList decodes a JSON array of T, or a single T, strictly: unknown
// fields are allowed (the gateway may say more), trailing data is not.
func decodeList[T any](body []byte) ([]T, error) {
	trimmed := bytes.TrimSpace(body)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var out []T
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var one T
		if err := dec.Decode(&one); err != nil {
			return nil, err
		}
		out = []T{one}
	} else if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	if out == nil {
		return nil, errors.New("null is not a batch")
	}
	return out, nil
}

func parseWebhookReceipts(body []byte) ([]Receipt, error) {
	items, err := decodeList[struct {
		ID         string  `json:"id"`
		ProviderID string  `json:"provider_id"`
		Channel    Channel `json:"channel"`
		Status     State   `json:"status"`
		Code       string  `json:"code"`
		Reason     string  `json:"reason"`
		At         string  `json:"at"`
	}](body)
	if err != nil {
		return nil, fmt.Errorf("webhook callback: receipts: %w", err)
	}
	out := make([]Receipt, 0, len(items))
	for i, it := range items {
		if it.ID == "" && it.ProviderID == "" {
			return nil, fmt.Errorf("webhook callback: receipt %d has neither id nor provider_id", i)
		}
		switch it.Status {
		case StateDelivered, StateFailed, StateSent:
		default:
			return nil, fmt.Errorf("webhook callback: receipt %d: status must be delivered, failed or sent", i)
		}
		switch it.Channel {
		case "", ChannelSMS, ChannelVoice:
		default:
			return nil, fmt.Errorf("webhook callback: receipt %d: unknown channel", i)
		}
		out = append(out, Receipt{
			MessageID:  it.ID,
			ProviderID: it.ProviderID,
			Channel:    it.Channel,
			Status:     Status{State: it.Status, Code: it.Code, Reason: scrub(it.Reason), At: parseTime(it.At)},
		})
	}
	return out, nil
}

func parseWebhookInbound(body []byte) ([]Inbound, error) {
	items, err := decodeList[struct {
		From       string `json:"from"`
		Text       string `json:"text"`
		At         string `json:"at"`
		ProviderID string `json:"provider_id"`
	}](body)
	if err != nil {
		return nil, fmt.Errorf("webhook callback: replies: %w", err)
	}
	out := make([]Inbound, 0, len(items))
	for i, it := range items {
		if it.From == "" {
			return nil, fmt.Errorf("webhook callback: reply %d has no from", i)
		}
		out = append(out, Inbound{From: fromE164(it.From), Text: it.Text, At: parseTime(it.At), ProviderID: it.ProviderID})
	}
	return out, nil
}

var _ Callbacks = (*Webhook)(nil)

// Keys reads the gateway's signed keys of a keypad call.
func (p *Webhook) Keys(r *http.Request) ([]Keys, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	items, err := decodeList[struct {
		ID     string `json:"id"`
		CallID string `json:"call_id"`
		Digits string `json:"digits"`
		Try    int    `json:"try"`
	}](body)
	if err != nil {
		return nil, fmt.Errorf("webhook callback: keys: %w", err)
	}
	out := make([]Keys, 0, len(items))
	for i, it := range items {
		if it.CallID == "" {
			return nil, fmt.Errorf("webhook callback: keys %d have no call_id", i)
		}
		out = append(out, Keys{MessageID: it.ID, CallID: it.CallID, Digits: cleanDigits(it.Digits), Try: max(it.Try, 1)})
	}
	return out, nil
}

// KeysAck answers 200 with what became of the keys and what to do next.
func (*Webhook) KeysAck(w http.ResponseWriter, _ Keys, a KeysAnswer) {
	b, _ := json.Marshal(struct {
		Outcome string `json:"outcome"`
		Say     string `json:"say,omitempty"`
		Prompt  string `json:"prompt,omitempty"`
	}{a.Outcome, a.Say, a.Prompt})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var _ KeypadCallbacks = (*Webhook)(nil)
