package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Secret is a credential. It prints, logs and marshals as "[redacted]", so
// that a Config, or the secret alone, can go into a log line or an error
// without leaking; Reveal is the one way to the value, and easy to grep for.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that signs with it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String hides the value.
func (s Secret) String() string { return s.mask() }

// GoString hides the value from %#v.
func (s Secret) GoString() string { return fmt.Sprintf("provider.Secret(%q)", s.mask()) }

// Format hides the value from every verb, %x and %q included.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.mask())
}

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalJSON hides the value from encoding/json.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.mask()) }

// MarshalText hides the value from encoders that use it (map keys, YAML).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// Config is every provider's settings. Secrets are of type Secret.
type Config struct {
	// Aliyun (Dysms for SMS, Dyvms for calls).
	AliyunAccessKeyID     Secret
	AliyunAccessKeySecret Secret
	// AliyunSignName is the SMS sign name for messages that name none.
	AliyunSignName string
	// AliyunShowNumber is the caller ID of calls (CalledShowNumber); empty
	// uses Aliyun's shared pool.
	AliyunShowNumber string
	// AliyunSMSEndpoint and AliyunVoiceEndpoint default to Aliyun's; tests
	// point them at a fake.
	AliyunSMSEndpoint   string
	AliyunVoiceEndpoint string
	// AliyunCallbackSecret guards the hooks Aliyun pushes receipts and
	// replies to (see Aliyun.CallbackToken).
	AliyunCallbackSecret Secret
	// AliyunKeypadTTSCode is the approved TTS template a keypad check-in
	// call (IvrCall) starts with, for a message that names none; it asks
	// for 1 or 2, then the temperature, # to end. AliyunKeypadByeCode
	// (optional, a TTS template without fields) thanks the resident.
	AliyunKeypadTTSCode string
	AliyunKeypadByeCode string

	// Twilio.
	TwilioAccountSID string
	TwilioAuthToken  Secret
	// TwilioFrom is the number SMS and calls come from; SMS may use
	// TwilioMessagingServiceSID instead.
	TwilioFrom                string
	TwilioMessagingServiceSID string
	// TwilioStatusCallbackURL is where Twilio posts receipts; empty asks
	// for none. Our message ID is added to it as the mid parameter.
	TwilioStatusCallbackURL string
	// TwilioVoice is the <Say> voice for zh-CN ("Polly.Zhiyu", a Google
	// voice); empty lets Twilio choose.
	TwilioVoice string
	// TwilioEdge is Twilio's edge location ("singapore", "tokyo"); empty
	// uses the default.
	TwilioEdge string

	// Webhook.
	WebhookURL    string
	WebhookSecret Secret

	// PublicURL is this deployment's external URL (WANJIA_BASE_URL). Twilio
	// signs the URL it called, which behind a proxy is not the one we see.
	PublicURL string
	// Timeout bounds one call to a provider; zero is 10 seconds.
	Timeout time.Duration
	// HTTPClient is for tests; nil is a client of our own with Timeout.
	HTTPClient *http.Client `json:"-"`
}

// The environment variables ConfigFromEnv reads. A secret may instead be in
// the file named by the same variable with _FILE appended (a mounted
// Kubernetes or Docker secret), never both.
const (
	EnvAliyunAccessKeyID     = "WANJIA_ALIYUN_ACCESS_KEY_ID"
	EnvAliyunAccessKeySecret = "WANJIA_ALIYUN_ACCESS_KEY_SECRET"
	EnvAliyunSignName        = "WANJIA_ALIYUN_SIGN_NAME"
	EnvAliyunShowNumber      = "WANJIA_ALIYUN_SHOW_NUMBER"
	EnvAliyunSMSEndpoint     = "WANJIA_ALIYUN_SMS_ENDPOINT"
	EnvAliyunVoiceEndpoint   = "WANJIA_ALIYUN_VOICE_ENDPOINT"
	EnvAliyunCallbackSecret  = "WANJIA_ALIYUN_CALLBACK_SECRET"
	EnvAliyunKeypadTTSCode   = "WANJIA_ALIYUN_KEYPAD_TTS_CODE"
	EnvAliyunKeypadByeCode   = "WANJIA_ALIYUN_KEYPAD_BYE_CODE"
	EnvTwilioAccountSID      = "WANJIA_TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken       = "WANJIA_TWILIO_AUTH_TOKEN"
	EnvTwilioFrom            = "WANJIA_TWILIO_FROM"
	EnvTwilioMessagingSID    = "WANJIA_TWILIO_MESSAGING_SERVICE_SID"
	EnvTwilioStatusCallback  = "WANJIA_TWILIO_STATUS_CALLBACK_URL"
	EnvTwilioVoice           = "WANJIA_TWILIO_VOICE"
	EnvTwilioEdge            = "WANJIA_TWILIO_EDGE"
	EnvWebhookURL            = "WANJIA_SMS_WEBHOOK_URL"
	EnvWebhookSecret         = "WANJIA_SMS_WEBHOOK_SECRET"
	EnvPublicURL             = "WANJIA_BASE_URL"
	EnvTimeout               = "WANJIA_SMS_TIMEOUT"
)

// ConfigFromEnv reads the configuration through getenv, and the secret files
// through readFile (os.Getenv and os.ReadFile in production). It checks the
// form of what is set, not that a provider has what it needs: New does that
// for the provider chosen. Errors name the variable, never its value.
func ConfigFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	var errs []error
	secret := func(name string) Secret {
		v, f := getenv(name), getenv(name+"_FILE")
		switch {
		case v != "" && f != "":
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; set one", name, name))
			return ""
		case f != "":
			b, err := readFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return ""
			}
			s := strings.TrimSpace(string(b))
			if s == "" {
				errs = append(errs, fmt.Errorf("%s_FILE: %s is empty", name, f))
			}
			return Secret(s)
		}
		return Secret(strings.TrimSpace(v))
	}
	plain := func(name string) string { return strings.TrimSpace(getenv(name)) }

	c := Config{
		AliyunAccessKeyID:         secret(EnvAliyunAccessKeyID),
		AliyunAccessKeySecret:     secret(EnvAliyunAccessKeySecret),
		AliyunSignName:            plain(EnvAliyunSignName),
		AliyunShowNumber:          plain(EnvAliyunShowNumber),
		AliyunSMSEndpoint:         plain(EnvAliyunSMSEndpoint),
		AliyunVoiceEndpoint:       plain(EnvAliyunVoiceEndpoint),
		AliyunCallbackSecret:      secret(EnvAliyunCallbackSecret),
		AliyunKeypadTTSCode:       plain(EnvAliyunKeypadTTSCode),
		AliyunKeypadByeCode:       plain(EnvAliyunKeypadByeCode),
		TwilioAccountSID:          plain(EnvTwilioAccountSID),
		TwilioAuthToken:           secret(EnvTwilioAuthToken),
		TwilioFrom:                plain(EnvTwilioFrom),
		TwilioMessagingServiceSID: plain(EnvTwilioMessagingSID),
		TwilioStatusCallbackURL:   plain(EnvTwilioStatusCallback),
		TwilioVoice:               plain(EnvTwilioVoice),
		TwilioEdge:                plain(EnvTwilioEdge),
		WebhookURL:                plain(EnvWebhookURL),
		WebhookSecret:             secret(EnvWebhookSecret),
		PublicURL:                 plain(EnvPublicURL),
	}
	if v := plain(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 10s", EnvTimeout, v))
		}
		c.Timeout = d
	}
	for _, u := range []struct{ name, value string }{
		{EnvAliyunSMSEndpoint, c.AliyunSMSEndpoint},
		{EnvAliyunVoiceEndpoint, c.AliyunVoiceEndpoint},
		{EnvTwilioStatusCallback, c.TwilioStatusCallbackURL},
		{EnvWebhookURL, c.WebhookURL},
		{EnvPublicURL, c.PublicURL},
	} {
		if u.value != "" {
			if err := checkURL(u.value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", u.name, err))
			}
		}
	}
	return c, errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL. Its error never repeats the URL,
// which may hold a token.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// plainConfig has Config's fields and none of its methods, so that
// formatting it does not recurse.
type plainConfig Config

// redacted is c with the URLs that may carry a token cut down; the Secret
// fields redact themselves.
func (c Config) redacted() plainConfig {
	p := plainConfig(c)
	p.HTTPClient = nil
	p.WebhookURL = redactURL(c.WebhookURL)
	p.TwilioStatusCallbackURL = redactURL(c.TwilioStatusCallbackURL)
	return p
}

// String is %+v with every secret redacted.
func (c Config) String() string { return fmt.Sprintf("%+v", c.redacted()) }

// GoString keeps %#v as safe as %v.
func (c Config) GoString() string { return "provider.Config" + c.String() }

// Format makes every verb print String (or GoString for %#v): without it,
// a verb such as %d would print the fields one by one, URLs included.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// MarshalJSON marshals the redacted settings.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.redacted()) }

// LogValue lists the settings with secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("aliyun_access_key_id", c.AliyunAccessKeyID),
		slog.Any("aliyun_access_key_secret", c.AliyunAccessKeySecret),
		slog.String("aliyun_sign_name", c.AliyunSignName),
		slog.String("aliyun_show_number", c.AliyunShowNumber),
		slog.String("aliyun_sms_endpoint", c.AliyunSMSEndpoint),
		slog.String("aliyun_voice_endpoint", c.AliyunVoiceEndpoint),
		slog.Any("aliyun_callback_secret", c.AliyunCallbackSecret),
		slog.String("aliyun_keypad_tts_code", c.AliyunKeypadTTSCode),
		slog.String("aliyun_keypad_bye_code", c.AliyunKeypadByeCode),
		slog.String("twilio_account_sid", c.TwilioAccountSID),
		slog.Any("twilio_auth_token", c.TwilioAuthToken),
		slog.String("twilio_from", c.TwilioFrom),
		slog.String("twilio_messaging_service_sid", c.TwilioMessagingServiceSID),
		slog.String("twilio_status_callback_url", redactURL(c.TwilioStatusCallbackURL)),
		slog.String("twilio_voice", c.TwilioVoice),
		slog.String("twilio_edge", c.TwilioEdge),
		slog.String("webhook_url", redactURL(c.WebhookURL)),
		slog.Any("webhook_secret", c.WebhookSecret),
		slog.String("public_url", c.PublicURL),
		slog.Duration("timeout", c.Timeout),
	)
}

// redactURL drops a URL's user info and query, where people put tokens.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if s == "" {
			return ""
		}
		return redacted
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = redacted
	}
	u.Fragment = ""
	return u.String()
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 10 * time.Second
}

// idleConns is how many connections to a provider a worker keeps open:
// as many as it sends at once (queue.DefaultConcurrency).
const idleConns = 256

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	// The default transport keeps 2 idle connections a host: with a
	// worker's sends side by side, every other message would open a new
	// connection (a TLS handshake, a port in TIME_WAIT) to the provider.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = idleConns, idleConns
	return &http.Client{
		Transport: t,
		Timeout:   c.timeout(),
		// A provider answers; it does not redirect. Following one would
		// resend a signed request to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
