package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/pii"
)

// chinaTime is the zone of the times Aliyun writes without one. A fixed
// offset, because the binary must not depend on the host's tzdata for it
// (China has had no daylight saving since 1991).
var chinaTime = time.FixedZone("CST", 8*60*60)

// maxResponse bounds what we read of a provider's answer: theirs are a few
// hundred bytes, and a misbehaving gateway must not cost us memory.
const maxResponse = 1 << 20

// maxCallbackBody bounds a callback's body; Aliyun batches receipts, but a
// batch is far below this.
const maxCallbackBody = 1 << 20

// maxReason bounds the provider's words we keep on a message.
const maxReason = 300

// phone checks that m can go out on its channel and parses its number.
func (m Message) phone() (pii.Phone, error) {
	p, err := pii.ParsePhone(m.Phone)
	if err != nil || p.Number != m.Phone {
		// The outbox stores normalised numbers; anything else is a bug
		// upstream that no retry will fix.
		return pii.Phone{}, permanent("phone_invalid", "not a normalised phone number: "+pii.MaskPhone(m.Phone))
	}
	switch m.Channel {
	case ChannelSMS:
		if p.Kind != pii.PhoneMobile {
			return pii.Phone{}, permanent("not_mobile", "SMS needs a mobile number: "+pii.MaskPhone(m.Phone))
		}
	case ChannelVoice:
	default:
		return pii.Phone{}, permanent("unsupported_channel", fmt.Sprintf("unknown channel %q", m.Channel))
	}
	if m.Keypad && m.Channel != ChannelVoice {
		return pii.Phone{}, permanent("unsupported_channel", "a keypad check-in is a call, not "+string(m.Channel))
	}
	if m.ID == "" {
		return pii.Phone{}, permanent("no_id", "message has no ID")
	}
	return p, nil
}

// nationalDigits is the number as dialled inside the mainland: a mobile's 11
// digits, a landline's area code and subscriber number without the hyphen.
// A landline extension is dropped: no provider here dials one.
func nationalDigits(p pii.Phone) string {
	if p.Kind == pii.PhoneMobile {
		return p.Number
	}
	parts := strings.SplitN(p.Number, "-", 3)
	if len(parts) < 2 {
		return p.Number
	}
	return parts[0] + parts[1]
}

// e164 is the number in international form: +86, then the national number
// without a landline's trunk 0.
func e164(p pii.Phone) string {
	return "+86" + strings.TrimPrefix(nationalDigits(p), "0")
}

// fromE164 turns a +86 number a provider reports back into our normalised
// form, and leaves anything else (a foreign number) as it came.
func fromE164(s string) string {
	if n, err := pii.NormalizePhone(s); err == nil {
		return n
	}
	return s
}

// scrub makes a provider's words fit to keep and log: every run of seven or
// more digits (a phone number, in any format) is masked, the given secrets
// are removed, and the result is cut to maxReason characters.
func scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i >= 7 {
			run := s[i:j]
			if n, err := pii.NormalizePhone(run); err == nil {
				run = n // 8613812345678 masks as 138****5678
			}
			b.WriteString(pii.MaskPhone(run))
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	s = strings.ToValidUTF8(strings.TrimSpace(b.String()), "�")
	if utf8.RuneCountInString(s) > maxReason {
		r := []rune(s)
		s = string(r[:maxReason]) + "…"
	}
	return s
}

// transportError turns a failure to get an answer into a transient *Error
// that names only the host: net/http's *url.Error repeats the whole URL,
// and a URL may carry a signature or a token.
func transportError(ctx context.Context, err error, host string) *Error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	e := &Error{Code: "network", Reason: "no answer from " + host + ": " + scrub(inner.Error()), Err: inner}
	if ctx.Err() != nil {
		e.Err = ctx.Err()
	}
	// A request that never left (no route, no name, refused) cannot have
	// been taken; any later failure might have been.
	var oe *net.OpError
	var de *net.DNSError
	e.MaybeSent = !(errors.As(inner, &de) || errors.As(inner, &oe) && oe.Op == "dial")
	return e
}

// statusError classifies an HTTP status that came without an answer we
// understand.
func statusError(status int, reason string, h http.Header) *Error {
	e := &Error{Code: "http_" + strconv.Itoa(status), Reason: reason}
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		e.RetryAfter = retryAfter(h)
	case status >= 500:
		// A gateway's 500, 502 or 504 may come after the provider took it.
		e.MaybeSent = true
	case status == http.StatusRequestTimeout:
		e.MaybeSent = true
	case status == http.StatusUnauthorized:
		// Our credentials (the webhook's secret): nothing goes until the
		// operator fixes them.
		e.Credentials = true
	case status == http.StatusForbidden, status == http.StatusNotFound:
		// Our credentials or URL, not the message: retrying gives the
		// operator time to fix the deployment.
	default:
		e.Permanent = true
	}
	if e.Reason == "" {
		e.Reason = http.StatusText(status)
	}
	return e
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b, nil
}

// callbackBody reads a callback's body, refusing anything but a POST.
func callbackBody(r *http.Request) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("provider: callback must be a POST, got %s", r.Method)
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := readLimited(r.Body, maxCallbackBody)
	if err != nil {
		return nil, fmt.Errorf("provider: callback body: %w", err)
	}
	return b, nil
}

// Our signature scheme, used by the webhook both ways and by relays in front
// of Aliyun's hooks: the timestamp is signed with the body, so a captured
// request cannot be replayed later under a fresh timestamp.
const (
	SignatureHeader = "X-Wanjia-Signature"
	TimestampHeader = "X-Wanjia-Timestamp"
	// maxSkew is how old (or how far in the future) a signed request may
	// be.
	maxSkew = 5 * time.Minute
)

// Sign computes the X-Wanjia-Signature value for body sent at ts:
// "sha256=" and the hex HMAC-SHA256, under secret, of the decimal Unix
// timestamp, a dot, and the body.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// verifySigned checks our signature on a callback.
func verifySigned(h http.Header, body, secret []byte, now time.Time) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no callback secret configured", ErrBadSignature)
	}
	ts := h.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: missing or malformed %s", ErrBadSignature, TimestampHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: timestamp outside ±%v", ErrBadSignature, maxSkew)
	}
	got, ok := strings.CutPrefix(h.Get(SignatureHeader), "sha256=")
	if !ok {
		return fmt.Errorf("%w: missing %s", ErrBadSignature, SignatureHeader)
	}
	sum, err := hex.DecodeString(got)
	if err != nil || !hmac.Equal(sum, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	return nil
}

// parseTime reads the times providers write: Aliyun's "2017-01-01
// 00:00:00" (and an older "20170101000000") in China time, RFC 1123 with a
// zone, or RFC 3339. A time in another shape is zero rather than an error: a
// receipt is worth more than its timestamp, and the hook knows when it came.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02 15:04:05", "20060102150405"} {
		if t, err := time.ParseInLocation(layout, s, chinaTime); err == nil {
			return t
		}
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
