package provider

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Aliyun pushes SMS reports (SmsReport), SMS replies (SmsUp) and call
// reports (VoiceCallReport) to URLs set in its console, as a JSON array per
// POST, in its "HTTP batch push" mode.
//
// Aliyun's HTTP push carries no signature, and the console takes nothing
// but a URL, so the hook is guarded by a secret of our own
// (WANJIA_ALIYUN_CALLBACK_SECRET), in one of two ways:
//
//   - the URL set in the console carries ?token=CallbackToken(), a value
//     derived from the secret, compared in constant time. It is a bearer
//     credential in a URL: serve the hook over HTTPS and keep it out of
//     access logs;
//   - or a relay in front of the hook (a gateway that receives Aliyun's push
//     and forwards it) signs the body as the webhook provider does
//     (X-Wanjia-Timestamp, X-Wanjia-Signature), which also stops replays.
//
// Without a configured secret every push is refused: an open hook would let
// anyone mark messages delivered.

// CallbackToken is the token parameter for the hook URLs set in Aliyun's
// console, or "" without a callback secret. It is derived from the secret
// rather than being it, so that a leaked URL does not leak the secret, and
// changes when the secret does.
func (p *Aliyun) CallbackToken() string {
	if !p.callbackSecret.IsSet() {
		return ""
	}
	m := hmac.New(sha256.New, []byte(p.callbackSecret.Reveal()))
	m.Write([]byte("wanjia aliyun callback token v1"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// verify reads and authenticates a push.
func (p *Aliyun) verify(r *http.Request) ([]byte, error) {
	body, err := callbackBody(r)
	if err != nil {
		return nil, err
	}
	if !p.callbackSecret.IsSet() {
		return nil, fmt.Errorf("%w: %s is not set", ErrBadSignature, EnvAliyunCallbackSecret)
	}
	if r.Header.Get(SignatureHeader) != "" {
		if err := verifySigned(r.Header, body, []byte(p.callbackSecret.Reveal()), p.now()); err != nil {
			return nil, err
		}
		return body, nil
	}
	token := r.URL.Query().Get("token")
	if token == "" || !hmac.Equal([]byte(token), []byte(p.CallbackToken())) {
		return nil, ErrBadSignature
	}
	return body, nil
}

// Receipts reads a SmsReport or VoiceCallReport push.
func (p *Aliyun) Receipts(r *http.Request) ([]Receipt, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	return parseAliyunReceipts(body)
}

// Inbound reads a SmsUp push.
func (p *Aliyun) Inbound(r *http.Request) ([]Inbound, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	return parseAliyunInbound(body)
}

// Ack answers as Aliyun requires: 200 with a numeric code, or it pushes the
// batch again (after 1, 5 and 10 minutes).
func (*Aliyun) Ack(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"code":0,"msg":"接收成功"}`))
}

// aliyunPush is one element of any of the three pushes.
type aliyunPush struct {
	// SmsReport.
	PhoneNumber string `json:"phone_number"`
	SendTime    string `json:"send_time"`
	ReportTime  string `json:"report_time"`
	Success     *bool  `json:"success"`
	ErrCode     string `json:"err_code"`
	ErrMsg      string `json:"err_msg"`
	BizID       string `json:"biz_id"`
	OutID       string `json:"out_id"`
	// VoiceCallReport.
	CallID     string `json:"call_id"`
	StatusCode string `json:"status_code"`
	StatusMsg  string `json:"status_msg"`
	StatusTime string `json:"status_time"`
	EndTime    string `json:"end_time"`
	// VoiceReport (the call's record): the keys pressed.
	DTMF *string `json:"dtmf"`
	// SmsUp.
	Content *string `json:"content"`
	// SequenceID is a number in older documentation and a string in newer.
	SequenceID json.RawMessage `json:"sequence_id"`
}

func decodeAliyunPush(body []byte) ([]aliyunPush, error) {
	var items []aliyunPush
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&items); err != nil {
		return nil, fmt.Errorf("aliyun callback: not a JSON array of reports: %w", err)
	}
	if dec.More() {
		return nil, errors.New("aliyun callback: data after the array")
	}
	if items == nil {
		return nil, errors.New("aliyun callback: null is not a batch")
	}
	return items, nil
}

func parseAliyunReceipts(body []byte) ([]Receipt, error) {
	items, err := decodeAliyunPush(body)
	if err != nil {
		return nil, err
	}
	out := make([]Receipt, 0, len(items))
	for i, it := range items {
		switch {
		case it.CallID != "":
			st := callStatus(it.StatusCode, it.StatusMsg)
			if st.At = parseTime(it.StatusTime); st.At.IsZero() {
				st.At = parseTime(it.EndTime)
			}
			out = append(out, Receipt{MessageID: it.OutID, ProviderID: it.CallID, Channel: ChannelVoice, Status: st})
		case it.BizID != "" && it.Success != nil:
			st := Status{State: StateDelivered, Code: it.ErrCode, At: parseTime(it.ReportTime)}
			if !*it.Success {
				st.State = StateFailed
				st.Reason = scrub(strings.TrimSpace(it.ErrCode + " " + it.ErrMsg))
			}
			out = append(out, Receipt{MessageID: it.OutID, ProviderID: it.BizID, Channel: ChannelSMS, Status: st})
		default:
			return nil, fmt.Errorf("aliyun callback: report %d is neither an SMS report (biz_id, success) nor a call report (call_id)", i)
		}
	}
	return out, nil
}

func parseAliyunInbound(body []byte) ([]Inbound, error) {
	items, err := decodeAliyunPush(body)
	if err != nil {
		return nil, err
	}
	out := make([]Inbound, 0, len(items))
	for i, it := range items {
		if it.PhoneNumber == "" || it.Content == nil {
			return nil, fmt.Errorf("aliyun callback: reply %d has no phone_number or content", i)
		}
		out = append(out, Inbound{
			From:       fromE164(it.PhoneNumber),
			Text:       *it.Content,
			At:         parseTime(it.SendTime),
			ProviderID: jsonScalar(it.SequenceID),
		})
	}
	return out, nil
}

// jsonScalar is a JSON string's value or a number's text; "" otherwise.
func jsonScalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// callStatus maps Dyvms' call result codes, from its documentation.
func callStatus(code, desc string) Status {
	st := Status{Code: code}
	switch code {
	case "200000", "200001", "200100":
		// Heard to the end; hung up before the end; (two-way) call ended
		// after it connected. Someone answered.
		st.State = StateDelivered
	case "", "200101", "200102", "200103", "200201":
		st.State = StateSent // still connecting or talking
	default:
		st.State = StateFailed
		st.Reason = desc
		if st.Reason == "" {
			st.Reason = callFailures[code]
		}
		st.Reason = scrub(st.Reason)
	}
	return st
}

var callFailures = map[string]string{
	"200002": "用户占线 (busy)",
	"200003": "用户未接听 (no answer)",
	"200004": "号码不合法 (invalid number)",
	"200005": "被叫无法接通 (unreachable or rejected)",
	"200006": "语音播放失败 (playback failed)",
	"200007": "不在服务区 (out of service area)",
	"200010": "关机 (powered off)",
	"200011": "停机 (suspended)",
	"200012": "呼损 (call restricted)",
	"999999": "系统错误 (system error)",
}

var _ Callbacks = (*Aliyun)(nil)

// Keys reads a VoiceReport push (the record of each call, sent when it
// ends): the keys pressed (dtmf) and how the call ended. A record without
// a call_id is refused; one without dtmf is a call that gathered no key.
func (p *Aliyun) Keys(r *http.Request) ([]Keys, error) {
	body, err := p.verify(r)
	if err != nil {
		return nil, err
	}
	items, err := decodeAliyunPush(body)
	if err != nil {
		return nil, err
	}
	out := make([]Keys, 0, len(items))
	for i, it := range items {
		if it.CallID == "" {
			return nil, fmt.Errorf("aliyun callback: call record %d has no call_id", i)
		}
		st := callStatus(it.StatusCode, it.StatusMsg)
		if st.At = parseTime(it.EndTime); st.At.IsZero() {
			st.At = parseTime(it.StatusTime)
		}
		k := Keys{MessageID: it.OutID, CallID: it.CallID, Ended: &st}
		if it.DTMF != nil {
			k.Digits = cleanDigits(*it.DTMF)
		}
		out = append(out, k)
	}
	return out, nil
}

// KeysAck acknowledges the push; the call is over, nothing is said.
func (p *Aliyun) KeysAck(w http.ResponseWriter, _ Keys, _ KeysAnswer) { p.Ack(w) }

var _ KeypadCallbacks = (*Aliyun)(nil)
