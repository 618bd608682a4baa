package provider

import (
	"fmt"
	"net/http"
	"net/url"
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
