package provider

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// Twilio signs every callback (status callbacks and the incoming-message
// webhook set on the number) with X-Twilio-Signature: HMAC-SHA1, under the
// auth token, of the full URL it called followed by the sorted POST
// parameters. twilio-go's RequestValidator checks it.

// TwilioSignatureHeader carries Twilio's signature.
const TwilioSignatureHeader = "X-Twilio-Signature"

// verify reads a form-encoded callback and checks its signature.
func (p *Twilio) verify(r *http.Request) (url.Values, error) {
	body, err := callbackBody(r)
	if err != nil {
		return nil, err
	}
	if p.callbackBase == nil {
		return nil, fmt.Errorf("%w: neither %s nor %s is set, so the signed URL cannot be rebuilt",
			ErrBadSignature, EnvPublicURL, EnvTwilioStatusCallback)
	}
	sig := r.Header.Get(TwilioSignatureHeader)
	if sig == "" {
		return nil, fmt.Errorf("%w: no %s", ErrBadSignature, TwilioSignatureHeader)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("twilio callback: body is not a form: %w", err)
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0] // as twilio-go's ValidateBody does
	}
	validator := client.NewRequestValidator(p.token.Reveal())
	if !validator.Validate(p.signedURL(r), params, sig) {
		return nil, ErrBadSignature
	}
	if acct := form.Get("AccountSid"); acct != "" && acct != p.sid {
		return nil, fmt.Errorf("%w: callback for another account", ErrBadSignature)
	}
	return form, nil
}

// signedURL is the URL Twilio called: our external base, then the request
// URI as it came (not re-encoded: the signature covers the exact bytes),
// after the base's path unless a proxy left it in place.
func (p *Twilio) signedURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	prefix := p.callbackBase.Path
	if prefix != "" && (uri == prefix || strings.HasPrefix(uri, prefix+"/") || strings.HasPrefix(uri, prefix+"?")) {
		prefix = ""
	}
	return p.callbackBase.Scheme + "://" + p.callbackBase.Host + prefix + uri
}

// Receipts reads a message or call status callback.
func (p *Twilio) Receipts(r *http.Request) ([]Receipt, error) {
	form, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	rc, err := parseTwilioReceipt(form, r.URL.Query().Get("mid"))
	if err != nil {
		return nil, err
	}
	return []Receipt{rc}, nil
}

// Inbound reads the incoming-message webhook.
func (p *Twilio) Inbound(r *http.Request) ([]Inbound, error) {
	form, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	in, err := parseTwilioInbound(form)
	if err != nil {
		return nil, err
	}
	return []Inbound{in}, nil
}

// Ack answers with empty TwiML: no reply to the resident, and a 200 for a
// status callback.
func (*Twilio) Ack(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
}

// parseTwilioReceipt reads a status callback; mid is our message ID from
// the callback URL.
func parseTwilioReceipt(form url.Values, mid string) (Receipt, error) {
	if sid, status := form.Get("MessageSid"), form.Get("MessageStatus"); sid != "" && status != "" {
		if !isSID(sid) {
			return Receipt{}, fmt.Errorf("twilio callback: malformed MessageSid")
		}
		st := twilioMessageStatus(status, form.Get("ErrorCode"))
		return Receipt{MessageID: mid, ProviderID: sid, Channel: ChannelSMS, Status: st}, nil
	}
	if sid, status := form.Get("CallSid"), form.Get("CallStatus"); sid != "" && status != "" {
		if !isSID(sid) {
			return Receipt{}, fmt.Errorf("twilio callback: malformed CallSid")
		}
		st := twilioCallStatus(status)
		st.At = parseTime(form.Get("Timestamp"))
		return Receipt{MessageID: mid, ProviderID: sid, Channel: ChannelVoice, Status: st}, nil
	}
	return Receipt{}, fmt.Errorf("twilio callback: neither MessageSid and MessageStatus nor CallSid and CallStatus")
}

func parseTwilioInbound(form url.Values) (Inbound, error) {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	from := form.Get("From")
	if sid == "" || from == "" || !form.Has("Body") {
		return Inbound{}, fmt.Errorf("twilio callback: an incoming message needs MessageSid, From and Body")
	}
	if !isSID(sid) {
		return Inbound{}, fmt.Errorf("twilio callback: malformed MessageSid")
	}
	return Inbound{From: fromE164(from), Text: form.Get("Body"), ProviderID: sid}, nil
}

var _ Callbacks = (*Twilio)(nil)

// Keypad check-in calls.

// keypadTimeout is how long, in seconds, Twilio waits for the next key.
const keypadTimeout = 10

// keypadURL is the URL of a keypad call's callback (what: "gather" or
// "status") for message id; try > 0 names the prompt a gather answers.
func (p *Twilio) keypadURL(what, id string, try int) string {
	u := p.callbackBase.Scheme + "://" + p.callbackBase.Host + p.callbackBase.Path + KeypadHookPath("twilio", what)
	q := url.Values{"mid": {id}}
	if try > 0 {
		q.Set("try", strconv.Itoa(try))
	}
	return u + "?" + q.Encode()
}

// KeypadTwiML is a keypad call's script: say (if any), then a <Gather>
// that reads prompt and posts the keys, # ending them, to the gather hook
// as try. actionOnEmptyResult makes Twilio call the hook when no key came,
// so that the hook decides whether to ask again.
func (p *Twilio) KeypadTwiML(id, prompt, say string, try int) (string, error) {
	type sayT struct {
		Language string `xml:"language,attr"`
		Voice    string `xml:"voice,attr,omitempty"`
		Text     string `xml:",chardata"`
	}
	type gather struct {
		Input               string `xml:"input,attr"`
		Action              string `xml:"action,attr"`
		Method              string `xml:"method,attr"`
		FinishOnKey         string `xml:"finishOnKey,attr"`
		Timeout             int    `xml:"timeout,attr"`
		ActionOnEmptyResult bool   `xml:"actionOnEmptyResult,attr"`
		Say                 sayT
	}
	doc := struct {
		XMLName xml.Name `xml:"Response"`
		Say     *sayT
		Gather  gather
	}{Gather: gather{Input: "dtmf", Action: p.keypadURL("gather", id, try), Method: http.MethodPost, FinishOnKey: "#",
		Timeout: keypadTimeout, ActionOnEmptyResult: true, Say: sayT{Language: "zh-CN", Voice: p.voice, Text: prompt}}}
	if say != "" {
		doc.Say = &sayT{Language: "zh-CN", Voice: p.voice, Text: say}
	}
	b, err := xml.Marshal(doc)
	if err != nil {
		return "", permanent("bad_body", "the prompt cannot be read aloud: "+err.Error())
	}
	if len(b) > maxTwiML {
		return "", permanent("body_too_long", fmt.Sprintf("the call's script is %d bytes; Twilio takes %d", len(b), maxTwiML))
	}
	return string(b), nil
}

// Keys reads the <Gather> action's callback: the call's SID, the keys
// (Digits, without the # that ended them) and our mid and try.
func (p *Twilio) Keys(r *http.Request) ([]Keys, error) {
	form, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	sid := form.Get("CallSid")
	if sid == "" || !isSID(sid) {
		return nil, fmt.Errorf("twilio callback: a gather needs a well-formed CallSid")
	}
	try, _ := strconv.Atoi(r.URL.Query().Get("try"))
	return []Keys{{MessageID: r.URL.Query().Get("mid"), CallID: sid, Digits: cleanDigits(form.Get("Digits")), Try: max(try, 1)}}, nil
}

// KeysAck answers with TwiML: what to say, then either another <Gather>
// (a.Prompt, as the next try) or the end of the call.
func (p *Twilio) KeysAck(w http.ResponseWriter, k Keys, a KeysAnswer) {
	var body string
	if a.Prompt != "" && p.callbackBase != nil {
		if s, err := p.KeypadTwiML(k.MessageID, a.Prompt, a.Say, k.Try+1); err == nil {
			body = s
		}
	}
	if body == "" {
		type sayT struct {
			Language string `xml:"language,attr"`
			Voice    string `xml:"voice,attr,omitempty"`
			Text     string `xml:",chardata"`
		}
		doc := struct {
			XMLName xml.Name `xml:"Response"`
			Say     *sayT
			Hangup  struct{}
		}{}
		if a.Say != "" {
			doc.Say = &sayT{Language: "zh-CN", Voice: p.voice, Text: a.Say}
		}
		b, _ := xml.Marshal(doc)
		body = string(b)
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + body))
}

var _ KeypadCallbacks = (*Twilio)(nil)
