package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/pii"
)

// Aliyun sends SMS through Dysms (SendSms, QuerySendDetails) and calls
// through Dyvms (SingleCallByTts, QueryCallDetailByCallId), over their
// RPC-style HTTP API signed as aliyun_sign.go describes.
//
// SMS and calls are templated at Aliyun: a message goes as TemplateCode (or
// TtsCode) and Params, and Aliyun renders the approved template. Body is not
// sent.
type Aliyun struct {
	keyID, keySecret Secret
	callbackSecret   Secret
	signName         string
	showNumber       string
	keypadCode       string
	keypadBye        string
	smsURL, voiceURL *url.URL
	client           *http.Client
	timeout          time.Duration
	now              func() time.Time
	nonce            func() string
}

const (
	aliyunSMSEndpoint   = "https://dysmsapi.aliyuncs.com"
	aliyunVoiceEndpoint = "https://dyvmsapi.aliyuncs.com"
	aliyunVersion       = "2017-05-25" // both Dysms and Dyvms
	// aliyunTTSProduct is the ProdId of TTS voice notices in
	// QueryCallDetailByCallId.
	aliyunTTSProduct = "11000000300006"
	// aliyunVoiceOutIDMax: Dyvms takes an OutId of at most 15 bytes, too
	// short for our 36-character IDs; calls are then matched by CallId.
	aliyunVoiceOutIDMax = 15
	// aliyunPageSize is QuerySendDetails' largest page.
	aliyunPageSize = 50
	// aliyunMaxPages bounds a search by OutId; Aliyun's own limits allow
	// far fewer messages per number and day.
	aliyunMaxPages = 4
)

// NewAliyun checks cfg and returns the Aliyun provider.
func NewAliyun(cfg Config) (*Aliyun, error) {
	var errs []error
	if !cfg.AliyunAccessKeyID.IsSet() {
		errs = append(errs, fmt.Errorf("%s is not set", EnvAliyunAccessKeyID))
	}
	if !cfg.AliyunAccessKeySecret.IsSet() {
		errs = append(errs, fmt.Errorf("%s is not set", EnvAliyunAccessKeySecret))
	}
	endpoint := func(env, value, def string) *url.URL {
		if value == "" {
			value = def
		}
		u, err := url.Parse(value)
		if err != nil || checkURL(value) != nil {
			errs = append(errs, fmt.Errorf("%s: not an absolute http(s) URL", env))
			return nil
		}
		u.Path = "/"
		u.RawQuery = ""
		return u
	}
	p := &Aliyun{
		keyID:          cfg.AliyunAccessKeyID,
		keySecret:      cfg.AliyunAccessKeySecret,
		callbackSecret: cfg.AliyunCallbackSecret,
		signName:       cfg.AliyunSignName,
		showNumber:     cfg.AliyunShowNumber,
		keypadCode:     cfg.AliyunKeypadTTSCode,
		keypadBye:      cfg.AliyunKeypadByeCode,
		smsURL:         endpoint(EnvAliyunSMSEndpoint, cfg.AliyunSMSEndpoint, aliyunSMSEndpoint),
		voiceURL:       endpoint(EnvAliyunVoiceEndpoint, cfg.AliyunVoiceEndpoint, aliyunVoiceEndpoint),
		client:         cfg.httpClient(),
		timeout:        cfg.timeout(),
		now:            time.Now,
		nonce:          randomNonce,
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("aliyun provider: %w", err)
	}
	return p, nil
}

func randomNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// Name is "aliyun".
func (*Aliyun) Name() string { return "aliyun" }

// Send sends an SMS with SendSms or a TTS call with SingleCallByTts.
func (p *Aliyun) Send(ctx context.Context, m Message) (Sent, error) {
	phone, err := m.phone()
	if err != nil {
		return Sent{}, err
	}
	if m.Keypad {
		return p.ivrCall(ctx, m, phone)
	}
	if m.TemplateCode == "" {
		return Sent{}, permanent("template_missing", "Aliyun sends templates only: the message has no template code")
	}
	params, err := templateParam(m.Params)
	if err != nil {
		return Sent{}, err
	}
	at := p.now()
	switch m.Channel {
	case ChannelSMS:
		sign := m.SignName
		if sign == "" {
			sign = p.signName
		}
		if sign == "" {
			return Sent{}, permanent("sign_missing", "no SMS sign name: set "+EnvAliyunSignName+" or the message's")
		}
		q := map[string]string{
			"PhoneNumbers": phone.Number,
			"SignName":     sign,
			"TemplateCode": m.TemplateCode,
			"OutId":        m.ID,
		}
		if params != "" {
			q["TemplateParam"] = params
		}
		var r aliyunResponse
		if err := p.call(ctx, p.smsURL, "SendSms", q, m.Phone, &r); err != nil {
			return Sent{}, err
		}
		if r.BizID == "" {
			return Sent{}, &Error{Code: "bad_answer", Reason: "SendSms answered OK without a BizId", MaybeSent: true}
		}
		return Sent{ProviderID: r.BizID, At: at}, nil
	default: // ChannelVoice; phone() refused anything else
		q := map[string]string{
			"CalledNumber": nationalDigits(phone),
			"TtsCode":      m.TemplateCode,
		}
		if params != "" {
			q["TtsParam"] = params
		}
		if p.showNumber != "" {
			q["CalledShowNumber"] = p.showNumber
		}
		if len(m.ID) <= aliyunVoiceOutIDMax {
			q["OutId"] = m.ID
		}
		var r aliyunResponse
		if err := p.call(ctx, p.voiceURL, "SingleCallByTts", q, m.Phone, &r); err != nil {
			return Sent{}, err
		}
		if r.CallID == "" {
			return Sent{}, &Error{Code: "bad_answer", Reason: "SingleCallByTts answered OK without a CallId", MaybeSent: true}
		}
		return Sent{ProviderID: r.CallID, At: at}, nil
	}
}

// aliyunKeypadTimeout is how long, in milliseconds, IvrCall waits for
// the resident's keys.
const aliyunKeypadTimeout = 10000

// ivrCall places a keypad check-in call with IvrCall: the keypad template
// is played (twice at most), and keys 1 and 2 are the menu; Aliyun pushes
// every key pressed in the VoiceReport's dtmf field.
func (p *Aliyun) ivrCall(ctx context.Context, m Message, phone pii.Phone) (Sent, error) {
	code := m.TemplateCode
	if code == "" {
		code = p.keypadCode
	}
	if code == "" {
		return Sent{}, transient("not_configured", "keypad calls need "+EnvAliyunKeypadTTSCode)
	}
	if p.showNumber == "" {
		// IvrCall, unlike SingleCallByTts, has no shared pool of numbers.
		return Sent{}, transient("not_configured", "keypad calls need "+EnvAliyunShowNumber)
	}
	params, err := templateParam(m.Params)
	if err != nil {
		return Sent{}, err
	}
	at := p.now()
	q := map[string]string{
		"CalledNumber":     nationalDigits(phone),
		"CalledShowNumber": p.showNumber,
		"StartCode":        code,
		"PlayTimes":        "2",
		"Timeout":          strconv.Itoa(aliyunKeypadTimeout),
	}
	if params != "" {
		q["StartTtsParams"] = params
	}
	for i, key := range []string{"1", "2"} {
		n := strconv.Itoa(i + 1)
		q["MenuKeyMap."+n+".Key"] = key
		if p.keypadBye != "" {
			q["MenuKeyMap."+n+".Code"] = p.keypadBye
		} else {
			q["MenuKeyMap."+n+".Code"] = code
		}
	}
	if p.keypadBye != "" {
		q["ByeCode"] = p.keypadBye
	}
	if len(m.ID) <= aliyunVoiceOutIDMax {
		q["OutId"] = m.ID
	}
	var r aliyunResponse
	if err := p.call(ctx, p.voiceURL, "IvrCall", q, m.Phone, &r); err != nil {
		return Sent{}, err
	}
	if r.CallID == "" {
		return Sent{}, &Error{Code: "bad_answer", Reason: "IvrCall answered OK without a CallId", MaybeSent: true}
	}
	return Sent{ProviderID: r.CallID, At: at}, nil
}

// templateParam is the JSON object of a template's fields, "" for none.
func templateParam(params map[string]string) (string, error) {
	if len(params) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // Aliyun renders the text; \u003c would reach the resident
	if err := enc.Encode(params); err != nil {
		return "", permanent("bad_params", err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Query finds an SMS by BizId, or, when the worker never learnt the BizId,
// by our OutId among the day's messages to the number; a call by CallId
// only (Dyvms cannot search by OutId, which we cannot send anyway).
func (p *Aliyun) Query(ctx context.Context, m Message, sent Sent) (Status, error) {
	phone, err := m.phone()
	if err != nil {
		return Status{}, err
	}
	at := sent.At
	if at.IsZero() {
		at = p.now()
	}
	if m.Channel == ChannelVoice {
		if sent.ProviderID == "" {
			return Status{}, ErrCannotQuery
		}
		return p.queryCall(ctx, m, sent.ProviderID, at)
	}
	// A message sent just before midnight may be filed under the next day.
	days := []string{at.In(chinaTime).Format("20060102")}
	if next := at.Add(2 * time.Minute).In(chinaTime).Format("20060102"); next != days[0] {
		days = append(days, next)
	}
	for _, day := range days {
		st, found, err := p.querySMS(ctx, m, phone.Number, sent.ProviderID, day)
		if err != nil || found {
			return st, err
		}
	}
	return Status{State: StateUnknown}, nil
}

func (p *Aliyun) querySMS(ctx context.Context, m Message, number, bizID, day string) (Status, bool, error) {
	for page := 1; page <= aliyunMaxPages; page++ {
		q := map[string]string{
			"PhoneNumber": number,
			"SendDate":    day,
			"PageSize":    strconv.Itoa(aliyunPageSize),
			"CurrentPage": strconv.Itoa(page),
		}
		if bizID != "" {
			q["BizId"] = bizID
		}
		var r aliyunResponse
		if err := p.call(ctx, p.smsURL, "QuerySendDetails", q, m.Phone, &r); err != nil {
			return Status{}, false, err
		}
		for _, d := range r.SmsSendDetailDTOs.SmsSendDetailDTO {
			if bizID == "" && d.OutID != m.ID {
				continue
			}
			return d.status(), true, nil
		}
		if bizID != "" || len(r.SmsSendDetailDTOs.SmsSendDetailDTO) < aliyunPageSize {
			break
		}
	}
	return Status{}, false, nil
}

func (p *Aliyun) queryCall(ctx context.Context, m Message, callID string, at time.Time) (Status, error) {
	// QueryDate opens a 24-hour window; start it a little before the send.
	from := at.Add(-5 * time.Minute)
	q := map[string]string{
		"CallId":    callID,
		"ProdId":    aliyunTTSProduct,
		"QueryDate": strconv.FormatInt(from.UnixMilli(), 10),
	}
	var r aliyunResponse
	if err := p.call(ctx, p.voiceURL, "QueryCallDetailByCallId", q, m.Phone, &r); err != nil {
		return Status{}, err
	}
	data := r.Data
	// Data is a JSON document inside a JSON string.
	var s string
	if json.Unmarshal(data, &s) == nil {
		data = []byte(s)
	}
	var d struct {
		State     string `json:"state"`
		StateDesc string `json:"stateDesc"`
		EndDate   string `json:"endDate"`
		GmtCreate string `json:"gmtCreate"`
	}
	if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
		return Status{State: StateUnknown}, nil
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return Status{}, &Error{Code: "bad_answer", Reason: "QueryCallDetailByCallId: unreadable Data", Err: err}
	}
	st := callStatus(d.State, d.StateDesc)
	st.At = parseTime(d.EndDate)
	if st.At.IsZero() {
		st.At = parseTime(d.GmtCreate)
	}
	return st, nil
}

// aliyunResponse holds the fields of every answer we read.
type aliyunResponse struct {
	Code      string
	Message   string
	RequestID string `json:"RequestId"`
	BizID     string `json:"BizId"`
	CallID    string `json:"CallId"`
	Data      json.RawMessage
	// SmsSendDetailDTOs is QuerySendDetails' list.
	SmsSendDetailDTOs struct {
		SmsSendDetailDTO []aliyunSMSDetail
	}
}

type aliyunSMSDetail struct {
	OutID       string `json:"OutId"`
	SendStatus  int    // 1 waiting for the carrier, 2 failed, 3 delivered
	ErrCode     string
	SendDate    string
	ReceiveDate string
}

func (d aliyunSMSDetail) status() Status {
	st := Status{Code: d.ErrCode, At: parseTime(d.ReceiveDate)}
	switch d.SendStatus {
	case 3:
		st.State = StateDelivered
	case 2:
		st.State = StateFailed
		st.Reason = d.ErrCode
	default:
		st.State = StateSent
		st.At = parseTime(d.SendDate)
	}
	return st
}

// call signs and POSTs one RPC request and decodes its answer into out.
// POST keeps the signed parameters (and the resident's number) out of the
// URL, which net/http repeats in its errors and proxies write to their
// logs.
func (p *Aliyun) call(ctx context.Context, endpoint *url.URL, action string, params map[string]string, phone string, out *aliyunResponse) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	params["Action"] = action
	params["Version"] = aliyunVersion
	params["Format"] = "JSON"
	params["RegionId"] = "cn-hangzhou"
	params["AccessKeyId"] = p.keyID.Reveal()
	params["SignatureMethod"] = "HMAC-SHA1"
	params["SignatureVersion"] = "1.0"
	params["SignatureNonce"] = p.nonce()
	params["Timestamp"] = p.now().UTC().Format("2006-01-02T15:04:05Z")
	body := aliyunCanonical(params) + "&Signature=" + aliyunEncode(aliyunSignature(http.MethodPost, params, p.keySecret.Reveal()))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(body))
	if err != nil {
		return &Error{Code: "bad_request", Reason: "cannot build the request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return transportError(ctx, err, endpoint.Host)
	}
	defer resp.Body.Close()
	raw, err := readLimited(resp.Body, maxResponse)
	if err != nil {
		return transportError(ctx, err, endpoint.Host)
	}
	if err := json.Unmarshal(raw, out); err != nil || out.Code == "" {
		if resp.StatusCode != http.StatusOK {
			return statusError(resp.StatusCode, "", resp.Header)
		}
		return &Error{Code: "bad_answer", Reason: action + ": unreadable answer", MaybeSent: true, Err: err}
	}
	if out.Code != "OK" {
		e := p.codeError(out.Code, out.Message, phone)
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable && !e.Permanent {
			e.MaybeSent = true
		}
		return e
	}
	return nil
}

// codeError classifies one of Aliyun's error codes.
func (p *Aliyun) codeError(code, message, phone string) *Error {
	// SignatureDoesNotMatch echoes the whole string to sign: our key ID,
	// the number, the template's fields. Keep what comes before it.
	if i := strings.Index(strings.ToLower(message), "string to sign"); i >= 0 {
		message = strings.TrimRight(message[:i], " :,.")
	}
	e := &Error{Code: code, Reason: scrub(message, p.keyID.Reveal(), phone)}
	switch c := aliyunCodes[code]; {
	case c.credentials:
		e.Credentials = true
	case c.permanent:
		e.Permanent = true
	case code == "isv.BUSINESS_LIMIT_CONTROL":
		// Per-number flow control; the message says which window
		// ("触发分钟级流控", "小时级", "天级").
		switch {
		case strings.Contains(message, "分钟"):
			e.RetryAfter = time.Minute
		case strings.Contains(message, "小时"):
			e.RetryAfter = time.Hour
		case strings.Contains(message, "天"):
			e.RetryAfter = 24 * time.Hour
		default:
			e.RetryAfter = time.Minute
		}
	default:
		e.RetryAfter = c.retryAfter
		e.MaybeSent = c.maybeSent
	}
	return e
}

// aliyunCodes lists the codes that need more than the default (transient,
// no hint). Permanent: the message itself is refused (number, content,
// template, sign) and a retry fails the same way. Credentials refused stop
// every message: the worker pauses the campaign and raises the alarm. Other
// account trouble (balance, quotas, permissions) stays transient: the
// operator can fix it while the outbox retries. A code we do not know is
// transient: the worker's attempts bound it.
var aliyunCodes = map[string]struct {
	permanent   bool
	credentials bool
	maybeSent   bool
	retryAfter  time.Duration
}{
	// Our AccessKey: wrong, deleted or disabled, or the secret does not
	// match it. No message goes until the operator fixes it.
	"SignatureDoesNotMatch":       {credentials: true},
	"IncompleteSignature":         {credentials: true},
	"InvalidAccessKeyId":          {credentials: true},
	"InvalidAccessKeyId.NotFound": {credentials: true},
	"InvalidAccessKeyId.Inactive": {credentials: true},
	"InvalidAccessKeySecret":      {credentials: true},
	// The number.
	"isv.MOBILE_NUMBER_ILLEGAL":         {permanent: true},
	"isv.MOBILE_COUNT_OVER_LIMIT":       {permanent: true},
	"isv.DOMESTIC_NUMBER_NOT_SUPPORTED": {permanent: true},
	"isv.CALLED_NUMBER_ILLEGAL":         {permanent: true},
	"isv.COMPLAINT_REJECT":              {permanent: true}, // the resident's number blocks us (防骚扰拦截)
	// The content and the template's fields.
	"isv.BLACK_KEY_CONTROL_LIMIT":     {permanent: true}, // a blacklisted keyword in the fields
	"isv.TEMPLATE_MISSING_PARAMETERS": {permanent: true},
	"isv.TEMPLATE_PARAMS_ILLEGAL":     {permanent: true},
	"isv.INVALID_JSON_PARAM":          {permanent: true},
	"isv.PARAM_LENGTH_LIMIT":          {permanent: true},
	"isv.PARAM_NOT_SUPPORT_URL":       {permanent: true},
	"isv.SMS_CONTENT_ILLEGAL":         {permanent: true},
	"isv.INVALID_PARAMETERS":          {permanent: true},
	"MissingParameter":                {permanent: true},
	"InvalidParameter":                {permanent: true},
	// The template and the sign, as the message names them.
	"isv.SMS_TEMPLATE_ILLEGAL":          {permanent: true},
	"isv.TEMPLATE_ILLEGAL":              {permanent: true},
	"isv.TTS_TEMPLATE_ILLEGAL":          {permanent: true},
	"isv.SMS_SIGNATURE_ILLEGAL":         {permanent: true},
	"isv.SMS_SIGN_ILLEGAL":              {permanent: true},
	"isv.SIGN_STATE_ILLEGAL":            {permanent: true},
	"isv.SMS_SIGNATURE_SCENE_ILLEGAL":   {permanent: true},
	"isv.EXTEND_CODE_ERROR":             {permanent: true},
	"isv.TEMPLATE_NOT_SUPPORT_OVERSEAS": {permanent: true},
	// Throttling at the gateway: retry soon.
	"Throttling":      {retryAfter: time.Second},
	"Throttling.User": {retryAfter: time.Second},
	"Throttling.Api":  {retryAfter: time.Second},
	// The account's own daily quota (set in the console).
	"isv.DAY_LIMIT_CONTROL": {retryAfter: time.Hour},
	// Aliyun failed inside, possibly after taking the message.
	"isp.SYSTEM_ERROR": {maybeSent: true},
	"InternalError":    {maybeSent: true},
}
