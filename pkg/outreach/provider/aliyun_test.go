package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testKeyID     = "LTAI5tTestKeyId000001"
	testKeySecret = "TestKeySecret0000000000000001"
)

// fakeAliyun is Dysms and Dyvms on a local port. Every request must carry a
// valid signature, checked with the reference implementation, a fresh
// timestamp and an unused nonce; handle answers the checked request.
type fakeAliyun struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	nonces map[string]bool
	calls  []url.Values
	handle func(action string, form url.Values) (int, string)
}

func newFakeAliyun(t *testing.T, handle func(action string, form url.Values) (int, string)) *fakeAliyun {
	f := &fakeAliyun{t: t, nonces: map[string]bool{}, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAliyun) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(code, msg string) {
		f.t.Errorf("fake aliyun: %s: %s", code, msg)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"Code":%q,"Message":%q}`, code, msg)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.URL.RawQuery != "" {
		fail("BadRequest", r.Method+" "+r.URL.String())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		fail("BadRequest", "Content-Type "+ct)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail("BadRequest", err.Error())
		return
	}
	params := map[string]string{}
	for k, v := range form {
		if len(v) != 1 {
			fail("BadRequest", "repeated "+k)
			return
		}
		params[k] = v[0]
	}
	if want := refAliyunSignature(http.MethodPost, params, testKeySecret); params["Signature"] != want {
		fail("SignatureDoesNotMatch", "signature "+params["Signature"]+", want "+want)
		return
	}
	for k, want := range map[string]string{
		"AccessKeyId": testKeyID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
		"Format": "JSON", "Version": "2017-05-25", "RegionId": "cn-hangzhou",
	} {
		if params[k] != want {
			fail("InvalidParameter", k+"="+params[k])
			return
		}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"])
	if err != nil || time.Since(ts) > 15*time.Minute || time.Until(ts) > 15*time.Minute {
		fail("InvalidTimeStamp.Expired", params["Timestamp"])
		return
	}
	f.mu.Lock()
	used := f.nonces[params["SignatureNonce"]]
	f.nonces[params["SignatureNonce"]] = true
	f.calls = append(f.calls, form)
	f.mu.Unlock()
	if used || params["SignatureNonce"] == "" {
		fail("SignatureNonceUsed", params["SignatureNonce"])
		return
	}
	status, answer := f.handle(params["Action"], form)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (f *fakeAliyun) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		f.t.Fatal("fake aliyun: no request")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeAliyun) provider(t *testing.T, edit ...func(*Config)) *Aliyun {
	cfg := Config{
		AliyunAccessKeyID:     testKeyID,
		AliyunAccessKeySecret: testKeySecret,
		AliyunSignName:        "万家社区",
		AliyunSMSEndpoint:     f.srv.URL,
		AliyunVoiceEndpoint:   f.srv.URL,
		AliyunCallbackSecret:  "callback-secret-0123456789",
		Timeout:               5 * time.Second,
	}
	for _, e := range edit {
		e(&cfg)
	}
	p, err := NewAliyun(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ok(fields string) (int, string) {
	return http.StatusOK, `{"Code":"OK","Message":"OK","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8D28D0"` + fields + `}`
}

func TestAliyunSendSMS(t *testing.T) {
	f := newFakeAliyun(t, func(action string, form url.Values) (int, string) {
		if action != "SendSms" {
			t.Errorf("Action = %s", action)
		}
		return ok(`,"BizId":"9006197469364984^0"`)
	})
	p := f.provider(t)
	m := smsMessage()
	m.Params["note"] = "<请带身份证 & 口罩> 1+1*2~"
	before := time.Now()
	sent, err := p.Send(ctxTimeout(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderID != "9006197469364984^0" || sent.At.Before(before) {
		t.Errorf("Sent = %+v", sent)
	}
	form := f.last()
	for k, want := range map[string]string{
		"PhoneNumbers": testMobile,
		"SignName":     "万家社区",
		"TemplateCode": "SMS_270000001",
		"OutId":        testID,
	} {
		if got := form.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var params map[string]string
	if err := json.Unmarshal([]byte(form.Get("TemplateParam")), &params); err != nil {
		t.Fatal(err)
	}
	if params["name"] != "张三" || params["note"] != "<请带身份证 & 口罩> 1+1*2~" {
		t.Errorf("TemplateParam = %v", params)
	}
	if strings.Contains(form.Get("TemplateParam"), `\u003c`) {
		t.Errorf("TemplateParam escapes HTML, which Aliyun would show: %s", form.Get("TemplateParam"))
	}
	if form.Has("Body") {
		t.Error("the body went to Aliyun, which renders its own template")
	}

	// The message's own sign wins; no params, no TemplateParam.
	m = smsMessage()
	m.SignName = "某某街道"
	m.Params = nil
	if _, err := p.Send(ctxTimeout(t), m); err != nil {
		t.Fatal(err)
	}
	if form := f.last(); form.Get("SignName") != "某某街道" || form.Has("TemplateParam") {
		t.Errorf("SignName = %q, TemplateParam present = %v", form.Get("SignName"), form.Has("TemplateParam"))
	}
}

func TestAliyunSendVoice(t *testing.T) {
	f := newFakeAliyun(t, func(action string, form url.Values) (int, string) {
		if action != "SingleCallByTts" {
			t.Errorf("Action = %s", action)
		}
		return ok(`,"CallId":"116012354148^10281378"`)
	})
	p := f.provider(t, func(c *Config) { c.AliyunShowNumber = "057112345678" })
	tests := []struct {
		name, id, phone, called, outID string
	}{
		{"mobile", testID, testMobile, testMobile, ""},
		{"landline without its extension", testID, "0773-2851234-801", "07732851234", ""},
		{"a short ID fits OutId", "msg-42", testMobile, testMobile, "msg-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := voiceMessage()
			m.ID, m.Phone = tt.id, tt.phone
			sent, err := p.Send(ctxTimeout(t), m)
			if err != nil {
				t.Fatal(err)
			}
			if sent.ProviderID != "116012354148^10281378" {
				t.Errorf("ProviderID = %q", sent.ProviderID)
			}
			form := f.last()
			if form.Get("CalledNumber") != tt.called || form.Get("TtsCode") != "TTS_270000002" ||
				form.Get("CalledShowNumber") != "057112345678" || form.Get("OutId") != tt.outID {
				t.Errorf("form = %v", form)
			}
			if !strings.Contains(form.Get("TtsParam"), `"name":"张三"`) {
				t.Errorf("TtsParam = %s", form.Get("TtsParam"))
			}
		})
	}
}

func TestAliyunRefusesLocally(t *testing.T) {
	f := newFakeAliyun(t, func(string, url.Values) (int, string) {
		t.Error("the request should not have been sent")
		return ok("")
	})
	p := f.provider(t, func(c *Config) { c.AliyunSignName = "" })
	tests := []struct {
		name string
		edit func(*Message)
		code string
	}{
		{"SMS to a landline", func(m *Message) { m.Phone = "0773-2851234" }, "not_mobile"},
		{"not normalised", func(m *Message) { m.Phone = "+86 138 1234 5678" }, "phone_invalid"},
		{"no template", func(m *Message) { m.TemplateCode = "" }, "template_missing"},
		{"no sign anywhere", func(m *Message) {}, "sign_missing"},
		{"no ID", func(m *Message) { m.ID = "" }, "no_id"},
		{"unknown channel", func(m *Message) { m.Channel = "fax" }, "unsupported_channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := smsMessage()
			tt.edit(&m)
			_, err := p.Send(ctxTimeout(t), m)
			e := wantError(t, err, tt.code, true, false)
			noLeak(t, "reason", e.Error(), "12345678", "2851234")
		})
	}
}

func TestAliyunErrorCodes(t *testing.T) {
	tests := []struct {
		status     int
		code, msg  string
		permanent  bool
		maybeSent  bool
		retryAfter time.Duration
	}{
		{200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号", true, false, 0},
		{200, "isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控", true, false, 0},
		{200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量", true, false, 0},
		{200, "isv.SMS_TEMPLATE_ILLEGAL", "模板不合法", true, false, 0},
		{200, "isv.SMS_SIGNATURE_ILLEGAL", "签名不合法", true, false, 0},
		{200, "isv.TTS_TEMPLATE_ILLEGAL", "TTS模板不合法", true, false, 0},
		{200, "isv.COMPLAINT_REJECT", "防骚扰拦截", true, false, 0},
		{200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", false, false, time.Minute},
		{200, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5", false, false, time.Hour},
		{200, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", false, false, 24 * time.Hour},
		{200, "isv.DAY_LIMIT_CONTROL", "触发日发送限额", false, false, time.Hour},
		{200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足", false, false, 0},
		{200, "isv.OUT_OF_SERVICE", "业务停机", false, false, 0},
		{200, "isp.RAM_PERMISSION_DENY", "RAM权限DENY", false, false, 0},
		{200, "isp.SYSTEM_ERROR", "系统错误", false, true, 0},
		{200, "isv.SOMETHING_NEW", "a code from next year", false, false, 0},
		{400, "Throttling.User", "Request was denied due to user flow control.", false, false, time.Second},
		{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", false, false, 0},
		{400, "MissingParameter", "TemplateCode is mandatory for this action.", true, false, 0},
		{500, "InternalError", "The request processing has failed due to some unknown error.", false, true, 0},
		{503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.msg, func(t *testing.T) {
			f := newFakeAliyun(t, func(string, url.Values) (int, string) {
				return tt.status, fmt.Sprintf(`{"Code":%q,"Message":%q,"RequestId":"x"}`, tt.code, tt.msg)
			})
			_, err := f.provider(t).Send(ctxTimeout(t), smsMessage())
			e := wantError(t, err, tt.code, tt.permanent, tt.maybeSent)
			if e.RetryAfter != tt.retryAfter || RetryAfter(err) != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if e.Reason != tt.msg {
				t.Errorf("Reason = %q, want %q", e.Reason, tt.msg)
			}
		})
	}
}

// SignatureDoesNotMatch repeats the string to sign, which holds the key ID,
// the number and the template's fields.
func TestAliyunErrorsLeakNothing(t *testing.T) {
	f := newFakeAliyun(t, func(string, url.Values) (int, string) {
		msg := "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D" +
			testKeyID + "%26PhoneNumbers%3D" + testMobile + "%26TemplateParam%3D%257B%2522name%2522%253A%2522%E5%BC%A0%E4%B8%89"
		return 400, fmt.Sprintf(`{"Code":"SignatureDoesNotMatch","Message":%q}`, msg)
	})
	_, err := f.provider(t).Send(ctxTimeout(t), smsMessage())
	e := wantError(t, err, "SignatureDoesNotMatch", false, false)
	if e.Reason != "Specified signature is not matched with our calculation. server" {
		t.Errorf("Reason = %q", e.Reason)
	}
	noLeak(t, "error", err.Error(), testKeyID, testKeySecret, testMobile, "张三", "%E5%BC%A0")
}

func TestAliyunHTTPAndNetworkFailures(t *testing.T) {
	t.Run("5xx without a code", func(t *testing.T) {
		f := newFakeAliyun(t, func(string, url.Values) (int, string) { return 502, "<html>bad gateway</html>" })
		_, err := f.provider(t).Send(ctxTimeout(t), smsMessage())
		wantError(t, err, "http_502", false, true)
	})
	t.Run("OK without a BizId", func(t *testing.T) {
		f := newFakeAliyun(t, func(string, url.Values) (int, string) { return ok("") })
		_, err := f.provider(t).Send(ctxTimeout(t), smsMessage())
		wantError(t, err, "bad_answer", false, true)
	})
	t.Run("nothing listens: certainly not sent", func(t *testing.T) {
		p, err := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret,
			AliyunSignName: "x", AliyunSMSEndpoint: closedURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Send(ctxTimeout(t), smsMessage())
		e := wantError(t, err, "network", false, false)
		noLeak(t, "error", e.Error(), testKeyID, testMobile, "Signature=", "张三")
	})
	t.Run("timeout: maybe sent", func(t *testing.T) {
		srv := slowServer(t)
		p, err := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret,
			AliyunSignName: "x", AliyunSMSEndpoint: srv.URL, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Send(context.Background(), smsMessage())
		wantError(t, err, "network", false, true)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded inside", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := slowServer(t)
		p, _ := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret,
			AliyunSignName: "x", AliyunSMSEndpoint: srv.URL})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := p.Send(ctx, smsMessage())
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAliyunQuerySMS(t *testing.T) {
	detail := func(outID string, status int, errCode string) string {
		return fmt.Sprintf(`{"OutId":%q,"SendStatus":%d,"ErrCode":%q,"PhoneNum":"13812345678","SendDate":"2024-03-02 01:00:05","ReceiveDate":"2024-03-02 01:00:09","Content":"【万家社区】…","TemplateCode":"SMS_270000001"}`,
			outID, status, errCode)
	}
	list := func(details ...string) (int, string) {
		return ok(`,"TotalCount":` + fmt.Sprint(len(details)) + `,"SmsSendDetailDTOs":{"SmsSendDetailDTO":[` + strings.Join(details, ",") + `]}`)
	}
	// 17:00 UTC is 01:00 the next day in China: Aliyun files by China date.
	at := time.Date(2024, 3, 1, 17, 0, 0, 0, time.UTC)
	wantAt := time.Date(2024, 3, 2, 1, 0, 9, 0, chinaTime)

	tests := []struct {
		name   string
		bizID  string
		handle func(form url.Values) (int, string)
		want   Status
	}{
		{"delivered by BizId", "9006197469364984^0", func(form url.Values) (int, string) {
			if form.Get("BizId") != "9006197469364984^0" {
				t.Errorf("BizId = %q", form.Get("BizId"))
			}
			return list(detail(testID, 3, "DELIVERED"))
		}, Status{State: StateDelivered, Code: "DELIVERED", At: wantAt}},
		{"failed by BizId", "b", func(url.Values) (int, string) {
			return list(detail(testID, 2, "MK:0001"))
		}, Status{State: StateFailed, Code: "MK:0001", Reason: "MK:0001", At: wantAt}},
		{"waiting for the carrier", "b", func(url.Values) (int, string) {
			return list(detail(testID, 1, ""))
		}, Status{State: StateSent, At: time.Date(2024, 3, 2, 1, 0, 5, 0, chinaTime)}},
		{"found by OutId on the second page", "", func(form url.Values) (int, string) {
			if form.Has("BizId") {
				t.Error("BizId sent without one")
			}
			if form.Get("CurrentPage") == "1" {
				others := make([]string, aliyunPageSize)
				for i := range others {
					others[i] = detail(fmt.Sprintf("other-%d", i), 3, "DELIVERED")
				}
				return list(others...)
			}
			return list(detail("other-x", 2, "X"), detail(testID, 3, "DELIVERED"))
		}, Status{State: StateDelivered, Code: "DELIVERED", At: wantAt}},
		{"never arrived", "", func(url.Values) (int, string) {
			return list(detail("someone-else", 3, "DELIVERED"))
		}, Status{State: StateUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAliyun(t, func(action string, form url.Values) (int, string) {
				if action != "QuerySendDetails" || form.Get("PhoneNumber") != testMobile ||
					form.Get("SendDate") != "20240302" || form.Get("PageSize") != "50" {
					t.Errorf("request %s %v", action, form)
				}
				return tt.handle(form)
			})
			got, err := f.provider(t).Query(ctxTimeout(t), smsMessage(), Sent{ProviderID: tt.bizID, At: at})
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want.State || got.Code != tt.want.Code || got.Reason != tt.want.Reason || !got.At.Equal(tt.want.At) {
				t.Errorf("Status = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAliyunQuerySMSAcrossMidnight(t *testing.T) {
	var days []string
	f := newFakeAliyun(t, func(_ string, form url.Values) (int, string) {
		days = append(days, form.Get("SendDate"))
		return ok(`,"SmsSendDetailDTOs":{"SmsSendDetailDTO":[]}`)
	})
	at := time.Date(2024, 3, 2, 23, 59, 30, 0, chinaTime)
	st, err := f.provider(t).Query(ctxTimeout(t), smsMessage(), Sent{At: at})
	if err != nil || st.State != StateUnknown {
		t.Fatalf("Query = %+v, %v", st, err)
	}
	if strings.Join(days, ",") != "20240302,20240303" {
		t.Errorf("searched %v", days)
	}
}

func TestAliyunQueryCall(t *testing.T) {
	tests := []struct {
		name, data string
		want       Status
	}{
		{"heard", `"{\"state\":\"200000\",\"stateDesc\":\"用户听完语音\",\"endDate\":\"2024-03-02 10:00:30\"}"`,
			Status{State: StateDelivered, Code: "200000", At: time.Date(2024, 3, 2, 10, 0, 30, 0, chinaTime)}},
		{"no answer", `"{\"state\":\"200003\",\"stateDesc\":\"\",\"gmtCreate\":\"2024-03-02 10:00:00\"}"`,
			Status{State: StateFailed, Code: "200003", Reason: "用户未接听 (no answer)", At: time.Date(2024, 3, 2, 10, 0, 0, 0, chinaTime)}},
		{"still ringing", `"{\"state\":\"\"}"`, Status{State: StateSent}},
		{"no record", `""`, Status{State: StateUnknown}},
		{"null", `null`, Status{State: StateUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Date(2024, 3, 2, 9, 59, 0, 0, chinaTime)
			f := newFakeAliyun(t, func(action string, form url.Values) (int, string) {
				if action != "QueryCallDetailByCallId" || form.Get("CallId") != "116012354148^1" ||
					form.Get("ProdId") != "11000000300006" || form.Get("QueryDate") != fmt.Sprint(at.Add(-5*time.Minute).UnixMilli()) {
					t.Errorf("request %s %v", action, form)
				}
				return ok(`,"Data":` + tt.data)
			})
			got, err := f.provider(t).Query(ctxTimeout(t), voiceMessage(), Sent{ProviderID: "116012354148^1", At: at})
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want.State || got.Code != tt.want.Code || got.Reason != tt.want.Reason || !got.At.Equal(tt.want.At) {
				t.Errorf("Status = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("without a CallId", func(t *testing.T) {
		f := newFakeAliyun(t, func(string, url.Values) (int, string) { t.Error("queried"); return ok("") })
		_, err := f.provider(t).Query(ctxTimeout(t), voiceMessage(), Sent{})
		if !errors.Is(err, ErrCannotQuery) {
			t.Errorf("err = %v, want ErrCannotQuery", err)
		}
	})
}

func TestNewAliyunNeedsCredentials(t *testing.T) {
	_, err := NewAliyun(Config{AliyunAccessKeySecret: "s3cr3t-value", AliyunSMSEndpoint: "ftp://x"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{EnvAliyunAccessKeyID, EnvAliyunSMSEndpoint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	noLeak(t, "error", err.Error(), "s3cr3t-value")
}
