package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WeCom posts to WeCom group robots (企业微信群机器人): an office adds a robot
// to its staff group and gives us the robot's webhook key, and we post
// notices there. Unlike the providers above it reaches staff, not residents,
// so it is not a Provider: there is no phone number, no receipt, and no way
// to ask what became of a post.
//
// The protocol (developer.work.weixin.qq.com/document/path/91770): POST
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY with a JSON body
//
//	{"msgtype":"text","text":{"content":"…","mentioned_list":["@all"]}}
//	{"msgtype":"markdown","markdown":{"content":"…"}}
//
// The answer is HTTP 200 with {"errcode":0,"errmsg":"ok"}, and a refusal is
// HTTP 200 too, with a non-zero errcode.
//
// The key is the robot's only credential: whoever has it can post to the
// group. It appears in no error and no log; MaskWeComKey is what to show.
type WeCom struct {
	base   *url.URL
	err    error // base did not parse; every Post answers it
	client *http.Client
}

// WeComFormat is a robot message's msgtype.
type WeComFormat string

// The formats we send. The robot has others (image, news, file, card) that
// nothing here needs.
const (
	WeComText     WeComFormat = "text"
	WeComMarkdown WeComFormat = "markdown"
)

// WeComPost is one message to a group.
type WeComPost struct {
	Format  WeComFormat
	Content string
	// MentionAll notifies everyone in the group (@所有人). Only text
	// messages can: the robot's markdown has no mentioned_list.
	MentionAll bool
}

const (
	weComHost = "qyapi.weixin.qq.com"
	weComPath = "/cgi-bin/webhook/send"
	// The robot's limits on content, in bytes of UTF-8, not characters: a
	// Chinese character is three.
	weComMaxText     = 2048
	weComMaxMarkdown = 4096
	// maxWeComResponse bounds what we read of an answer: WeCom's are under
	// 200 bytes.
	maxWeComResponse = 64 << 10
	// weComTimeout bounds a post when the caller gives no client.
	weComTimeout = 10 * time.Second
	// weComWindow is how long a throttled robot stays throttled: it takes 20
	// messages a minute.
	weComWindow = time.Minute
)

// CheckWeComPost checks p against the robot's limits, so that a message the
// robot would refuse is refused before it is queued. Its errors are for the
// office that wrote the message.
func CheckWeComPost(p WeComPost) error {
	limit := 0
	switch p.Format {
	case WeComText:
		limit = weComMaxText
	case WeComMarkdown:
		limit = weComMaxMarkdown
		if p.MentionAll {
			// Dropping the mention quietly would leave the office believing
			// everyone was notified.
			return errors.New("企业微信 markdown 消息不能 @所有人，请改用文本消息")
		}
	default:
		return fmt.Errorf("企业微信消息格式只能是 %s 或 %s", WeComText, WeComMarkdown)
	}
	if strings.TrimSpace(p.Content) == "" {
		return errors.New("企业微信消息内容为空")
	}
	if !utf8.ValidString(p.Content) {
		// encoding/json would turn each bad byte into a three-byte U+FFFD,
		// so the length checked below would not be the length sent.
		return errors.New("企业微信消息内容不是有效的 UTF-8 文本")
	}
	if n := len(p.Content); n > limit {
		return fmt.Errorf("企业微信%s消息最多 %d 字节（UTF-8，一个汉字占 3 字节），这条有 %d 字节", formatName(p.Format), limit, n)
	}
	return nil
}

func formatName(f WeComFormat) string {
	if f == WeComMarkdown {
		return " markdown "
	}
	return "文本"
}

// ParseWeComKey takes what an office pastes, the robot's key or the whole
// webhook URL the WeCom client shows, and returns the key. A URL must be the
// robot's own, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…: we
// keep only the key and always post to qyapi.weixin.qq.com, never to a host
// an office typed, which would let anyone who can edit an office's settings
// make our server send requests into our network. The URL is checked even
// so, so that a wrong paste (another robot endpoint, a phishing host) is
// refused rather than quietly half-used. Errors never repeat the input.
func ParseWeComKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("企业微信机器人地址为空")
	}
	if validWeComKey(s) {
		return s, nil
	}
	bad := errors.New("企业微信机器人地址应为 https://" + weComHost + weComPath + "?key=… 或其中的 key")
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil ||
		!strings.EqualFold(u.Host, weComHost) || u.Path != weComPath || u.RawPath != "" ||
		u.Fragment != "" || u.RawFragment != "" {
		return "", bad
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q["key"]) != 1 {
		return "", bad
	}
	key := strings.TrimSpace(q["key"][0])
	if !validWeComKey(key) {
		return "", ErrWeComKey
	}
	return key, nil
}

// ErrWeComKey is a robot address of the right form whose key is not one:
// the office pasted the address whole but the key got cut or mangled.
var ErrWeComKey = errors.New("企业微信机器人 key 无效：应为 1 到 64 个字母、数字或连字符")

// validWeComKey accepts 1 to 64 of [A-Za-z0-9-]; WeCom's keys are UUIDs.
// The key goes into our URL's query, so the charset also keeps it from
// adding parameters of its own.
func validWeComKey(k string) bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// MaskWeComKey shows enough of a key for an office to tell its robots
// apart: "****5aaa". A key too short to spare four characters shows none.
func MaskWeComKey(key string) string {
	if key == "" {
		return ""
	}
	r := []rune(key)
	if len(r) < 16 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// NewWeCom returns a client posting to base, "" for
// https://qyapi.weixin.qq.com (tests pass a local server). A nil client is
// one of our own with a 10-second timeout. Redirects are never followed,
// with either: WeCom does not redirect, and following one would send an
// office's message somewhere else.
func NewWeCom(base string, client *http.Client) *WeCom {
	if base == "" {
		base = "https://" + weComHost
	}
	w := &WeCom{}
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		w.err = errors.New("not an absolute http(s) URL")
	} else {
		w.base = u
	}
	if client == nil {
		w.client = &http.Client{Timeout: weComTimeout}
	} else {
		c := *client
		w.client = &c
	}
	w.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return w
}

type weComContent struct {
	Content       string   `json:"content"`
	MentionedList []string `json:"mentioned_list,omitempty"`
}

type weComBody struct {
	MsgType  WeComFormat   `json:"msgtype"`
	Text     *weComContent `json:"text,omitempty"`
	Markdown *weComContent `json:"markdown,omitempty"`
}

// Post sends p to the robot with key (as ParseWeComKey returns it). Errors
// are *Error, with Reason in words for the office; a throttled robot's says
// when to try again (RetryAfter). A transient error with MaybeSent may have
// reached the group already: WeCom does not deduplicate, so a retry may show
// the message twice.
func (w *WeCom) Post(ctx context.Context, key string, p WeComPost) error {
	if w.err != nil {
		return &Error{Code: "bad_config", Reason: "企业微信接口地址配置有误", Err: w.err}
	}
	if !validWeComKey(key) {
		return permanent("invalid_key", "企业微信机器人 key 无效")
	}
	if err := CheckWeComPost(p); err != nil {
		return &Error{Permanent: true, Code: "invalid_post", Reason: err.Error(), Err: err}
	}
	c := &weComContent{Content: p.Content}
	body := weComBody{MsgType: p.Format}
	if p.Format == WeComText {
		if p.MentionAll {
			c.MentionedList = []string{"@all"}
		}
		body.Text = c
	} else {
		body.Markdown = c
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Markdown is full of <font> tags; \u003c is valid JSON too, but there
	// is no reason to send it.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return permanent("invalid_post", "消息无法编码")
	}

	u := *w.base
	u.Path += weComPath
	u.RawPath = ""
	u.RawQuery = url.Values{"key": {key}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	if err != nil {
		// NewRequest's errors quote the URL.
		return &Error{Code: "bad_request", Reason: "无法构造企业微信请求", Err: errors.New(scrub(err.Error(), key))}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return w.transportError(ctx, err, key)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxWeComResponse+1))
	if err != nil {
		return w.transportError(ctx, err, key)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return weComStatusError(resp.StatusCode, resp.Header, raw, key)
	}
	var answer struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if len(raw) > maxWeComResponse || json.Unmarshal(raw, &answer) != nil || answer.ErrCode == nil {
		// A 2xx we cannot read (a proxy's page, a cut answer) may follow a
		// post that went through.
		return &Error{Code: "bad_answer", Reason: "企业微信的应答无法识别", MaybeSent: true,
			Err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, scrub(string(raw), key))}
	}
	if *answer.ErrCode == 0 {
		return nil
	}
	return weComCodeError(*answer.ErrCode, answer.ErrMsg, key)
}

// weComReasons are the errcodes an office can meet, in its words. An
// errcode not here is a refusal all the same.
var weComReasons = map[int]string{
	93000: "机器人地址无效：key 错误，或机器人已被移出群聊",
	45009: "发送过于频繁：每个机器人每分钟最多 20 条，稍后自动重试",
	40008: "消息类型无效",
	44004: "消息内容为空",
	40058: "内容过长或参数不合法",
	-1:    "企业微信系统繁忙，稍后自动重试",
}

// weComCodeError classifies a refusal. Only throttling and WeCom's own
// trouble pass with time; anything else would be refused again.
func weComCodeError(code int, msg, key string) *Error {
	reason, ok := weComReasons[code]
	if !ok {
		reason = "企业微信拒绝了消息（错误码 " + strconv.Itoa(code) + "）"
	}
	e := &Error{
		Permanent: true,
		Code:      "wecom_" + strconv.Itoa(code),
		Reason:    reason,
		// errmsg carries WeCom's hint, worth having when asking them why;
		// Error does not print it, and the key is cut out in case.
		Err: fmt.Errorf("wecom errcode %d: %s", code, scrub(msg, key)),
	}
	switch code {
	case 45009:
		e.Permanent = false
		e.RetryAfter = weComWindow
	case -1:
		e.Permanent = false
	}
	return e
}

// weComStatusError classifies an HTTP status other than 2xx, which WeCom
// itself does not send for a refusal: it comes from a gateway or a proxy on
// the way, and says nothing about the message except for 4xx.
func weComStatusError(status int, h http.Header, raw []byte, key string) *Error {
	e := statusError(status, "", h)
	e.Err = fmt.Errorf("HTTP %d: %s", status, scrub(string(raw), key))
	switch {
	case status == http.StatusTooManyRequests:
		e.Permanent = false
		e.Reason = weComReasons[45009]
		// A Retry-After shorter than the robot's minute would only be
		// throttled again.
		e.RetryAfter = max(e.RetryAfter, weComWindow)
	case status >= 500:
		// statusError's choice stands: MaybeSent for a gateway's 500, 502
		// and 504, Retry-After for a 503.
		e.Permanent = false
		e.Reason = "企业微信暂时不可用（HTTP " + strconv.Itoa(status) + "），稍后自动重试"
	case status == http.StatusRequestTimeout:
		e.Permanent, e.MaybeSent = false, true
		e.Reason = "企业微信应答超时，稍后自动重试"
	case status >= 400:
		e.Permanent, e.MaybeSent, e.RetryAfter = true, false, 0
		e.Reason = "企业微信拒绝了请求（HTTP " + strconv.Itoa(status) + "）"
	default:
		// A 1xx or a redirect we did not follow: the request never reached
		// the robot.
		e.Permanent, e.MaybeSent, e.RetryAfter = false, false, 0
		e.Reason = "企业微信返回了意外的应答（HTTP " + strconv.Itoa(status) + "）"
	}
	return e
}

// transportError is the package's, which already drops the URL from
// net/http's errors, with the reason in the office's words and the key cut
// out of it as well: a custom transport's errors are not ours to trust.
func (w *WeCom) transportError(ctx context.Context, err error, key string) *Error {
	e := transportError(ctx, err, w.base.Host)
	e.Reason = scrub("连接企业微信失败，稍后自动重试（"+e.Reason+"）", key)
	return e
}
