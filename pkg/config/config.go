// Package config holds the process configuration, and is the one place
// that reads the environment: every setting comes from a WANJIA_*
// environment variable and can be overridden by the matching flag (flags
// win because an operator typing one means it), and the SMS providers'
// credentials come from theirs (through provider.ConfigFromEnv, their
// parser). Other packages take what they need from a Config.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wanjia/wanjia/pkg/authn/pwpolicy"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
)

// Config is the effective configuration of one wanjia process.
type Config struct {
	Addr string
	// MetricsAddr is where /metrics is served, apart from the public port;
	// empty: nowhere. Every part (serve, worker, scheduler, all) serves it.
	MetricsAddr     string
	DataDir         string
	DatabaseURL     string
	RedisURL        string
	BaseURL         string
	AdminPassword   string
	DemoPassword    string
	SMSProvider     string
	LogLevel        string
	LogFormat       string // "text", "json" or "" (auto: json in real mode)
	ShutdownTimeout time.Duration
	// SecretKey (or the file SecretKeyFile holds) encrypts secrets at rest,
	// such as the token signing keys; see MasterKey.
	SecretKey     string
	SecretKeyFile string
	// KeyRotation is how long one token signing key signs.
	KeyRotation time.Duration
	// DBStatementTimeout, DBLockTimeout and DBIdleInTransactionTimeout are
	// PostgreSQL's limits on every connection (store.Options; zero: the
	// store's defaults, negative: none).
	DBStatementTimeout         time.Duration
	DBLockTimeout              time.Duration
	DBIdleInTransactionTimeout time.Duration
	// TrustedProxies is a comma-separated list of CIDRs or IPs whose
	// X-Forwarded-For is believed; empty trusts none. See Proxies.
	TrustedProxies string
	// SMSRate is how many messages a second one community's campaigns
	// send, shared by every worker; SMSDailyCap is how many messages one
	// phone gets from one community in a day (urgent ones included).
	SMSRate     int
	SMSDailyCap int
	// VoiceRate and VoiceDailyCap are the same for calls.
	VoiceRate     int
	VoiceDailyCap int
	// PartitionMonthsAhead is how many months after the current one the
	// big tables' partitions are made for (PostgreSQL; `wanjia migrate up`
	// and `wanjia migrate partitions`). PartitionKeepYears is the
	// platform's maximum age of a row: `wanjia migrate partitions` drops a
	// month's partitions whole once the month is that many years old
	// (communities' own retention clears personal data long before).
	PartitionMonthsAhead int
	PartitionKeepYears   int
	// WeComURL is where WeCom group notices are posted instead of WeCom's
	// own address (an egress proxy); empty: WeCom's.
	WeComURL string
	// Provider is the SMS and voice providers' settings and credentials
	// (WANJIA_ALIYUN_*, WANJIA_TWILIO_*, WANJIA_SMS_WEBHOOK_*,
	// WANJIA_SMS_TIMEOUT, each secret also as <name>_FILE); SMS() is what
	// the provider is built from.
	Provider provider.Config

	badProvider error             // ConfigFromEnv's complaint, reported by Validate
	badTimeout  string            // an unparsable WANJIA_SHUTDOWN_TIMEOUT, reported by Validate
	badRotation string            // likewise WANJIA_KEY_ROTATION
	badDB       []string          // likewise the WANJIA_DB_* limits
	badInts     map[string]string // likewise the integer settings, by variable

	// Out receives what must reach the operator's terminal once (generated
	// passwords); nil means standard output.
	Out io.Writer `json:"-"`
}

// Stdout is where one-time notices for the operator go.
func (c *Config) Stdout() io.Writer {
	if c.Out != nil {
		return c.Out
	}
	return os.Stdout
}

// setting describes one configuration key: its flag, environment variable,
// default and whether it is a secret that must be masked in logs.
type setting struct {
	flag, env, def, usage string
	secret                bool
	target                *string
}

func (c *Config) settings() []setting {
	return []setting{
		{"addr", "WANJIA_ADDR", ":8080", "HTTP listen address", false, &c.Addr},
		{"metrics-addr", "WANJIA_METRICS_ADDR", "", "listen address of /metrics (Prometheus), apart from the public port, e.g. :9090; empty: no metrics served", false, &c.MetricsAddr},
		{"data-dir", "WANJIA_DATA_DIR", "./data", "directory of the embedded SQLite database", false, &c.DataDir},
		{"database-url", "WANJIA_DATABASE_URL", "", "PostgreSQL URL (postgres://...); empty: embedded SQLite", true, &c.DatabaseURL},
		{"redis-url", "WANJIA_REDIS_URL", "", "Redis URL: redis://host:6379/0, a cluster (?addr=node2:6379&addr=...) or Sentinel (?master_name=...); empty: in-process Redis", true, &c.RedisURL},
		{"base-url", "WANJIA_BASE_URL", "http://localhost:8080", "public URL used in links sent to residents", false, &c.BaseURL},
		{"admin-password", "WANJIA_ADMIN_PASSWORD", "", "password of the platform admin created on first start", true, &c.AdminPassword},
		{"demo-password", "WANJIA_DEMO_PASSWORD", "", "password of the demo users", true, &c.DemoPassword},
		{"sms-provider", "WANJIA_SMS_PROVIDER", "log", "SMS/voice provider: log, aliyun, twilio, webhook", false, &c.SMSProvider},
		{"log-level", "WANJIA_LOG_LEVEL", "info", "log level: debug, info, warn, error", false, &c.LogLevel},
		{"log-format", "WANJIA_LOG_FORMAT", "", "log format: text or json (default: json in real mode)", false, &c.LogFormat},
		{"secret-key", "WANJIA_SECRET_KEY", "", "secret key (at least 32 characters) that encrypts the token signing keys at rest; empty: WANJIA_SECRET_KEY_FILE, or in embedded mode a key generated into the data dir", true, &c.SecretKey},
		{"secret-key-file", "WANJIA_SECRET_KEY_FILE", "", "file holding the secret key (instead of WANJIA_SECRET_KEY)", false, &c.SecretKeyFile},
		{"trusted-proxies", "WANJIA_TRUSTED_PROXIES", "", "comma-separated CIDRs or IPs of reverse proxies whose X-Forwarded-For is believed; empty: none", false, &c.TrustedProxies},
		// A proxy's URL may carry a token: masked as the other URLs are.
		{"wecom-url", "WANJIA_WECOM_URL", "", "address WeCom group notices are posted to instead of WeCom's own (an egress proxy); empty: WeCom's", true, &c.WeComURL},
	}
}

// Bind registers every setting as a flag on fs, with the environment value
// (or the default) as the flag's default, so that an explicit flag overrides
// the environment.
func (c *Config) Bind(fs *pflag.FlagSet) {
	for _, s := range c.settings() {
		def := s.def
		if v := os.Getenv(s.env); v != "" { // an empty variable counts as unset
			def = v
		}
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		fs.StringVar(s.target, s.flag, def, usage)
		if s.secret {
			// Never print a secret taken from the environment in --help.
			if f := fs.Lookup(s.flag); f != nil {
				f.DefValue = ""
			}
		}
	}
	timeout := 20 * time.Second
	if v := os.Getenv("WANJIA_SHUTDOWN_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			timeout = d
		} else {
			c.badTimeout = v
		}
	}
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", timeout, "how long to wait for in-flight work on shutdown (env WANJIA_SHUTDOWN_TIMEOUT)")
	rotation := DefaultKeyRotation
	if v := os.Getenv("WANJIA_KEY_ROTATION"); v != "" {
		if d, err := ParseDuration(v); err == nil {
			rotation = d
		} else {
			c.badRotation = v
		}
	}
	c.KeyRotation = rotation
	fs.Var((*daysDuration)(&c.KeyRotation), "key-rotation", "how long one token signing key signs before a new one takes over, e.g. 30d or 720h (env WANJIA_KEY_ROTATION)")
	for _, d := range c.dbLimits() {
		if v := os.Getenv(d.env); v != "" {
			if x, err := time.ParseDuration(v); err == nil {
				*d.target = x
			} else {
				c.badDB = append(c.badDB, d.env+"="+strconv.Quote(v))
			}
		}
		fs.DurationVar(d.target, d.flag, *d.target, d.usage+" (env "+d.env+"; 0: the default, negative: none)")
	}
	for _, s := range c.intSettings() {
		v := s.def
		if e := os.Getenv(s.env); e != "" {
			if n, err := strconv.Atoi(e); err == nil {
				v = n
			} else {
				if c.badInts == nil {
					c.badInts = map[string]string{}
				}
				c.badInts[s.env] = e
			}
		}
		fs.IntVar(s.target, s.flag, v, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	// The providers' settings have no flags: credentials on a command line
	// would show in the process list.
	c.Provider, c.badProvider = provider.ConfigFromEnv(os.Getenv, os.ReadFile)
}

// SMS is the providers' configuration with this deployment's public URL
// (WANJIA_BASE_URL, or the flag that overrode it): Twilio signs the URL it
// called, which behind a proxy is not the one the request shows.
func (c *Config) SMS() provider.Config {
	p := c.Provider
	p.PublicURL = c.BaseURL
	return p
}

// intSetting is a setting that takes a whole number; 0 is its default.
type intSetting struct {
	flag, env, usage string
	def              int
	target           *int
}

// The defaults of WANJIA_SMS_RATE and WANJIA_SMS_DAILY_CAP (outreach has
// the same ones; config does not import outreach).
const (
	DefaultSMSRate       = 50
	DefaultSMSDailyCap   = 5
	DefaultVoiceRate     = 5
	DefaultVoiceDailyCap = 2
	// store.DefaultMonthsAhead and store.DefaultKeepYears.
	DefaultPartitionMonthsAhead = 3
	DefaultPartitionKeepYears   = 10
)

func (c *Config) intSettings() []intSetting {
	return []intSetting{
		{"sms-rate", "WANJIA_SMS_RATE", "messages a second one community may send, across every worker", DefaultSMSRate, &c.SMSRate},
		{"sms-daily-cap", "WANJIA_SMS_DAILY_CAP", "messages one phone may get from one community in a day", DefaultSMSDailyCap, &c.SMSDailyCap},
		{"voice-rate", "WANJIA_VOICE_RATE", "calls a second one community may place, across every worker", DefaultVoiceRate, &c.VoiceRate},
		{"voice-daily-cap", "WANJIA_VOICE_DAILY_CAP", "calls one phone may get from one community in a day", DefaultVoiceDailyCap, &c.VoiceDailyCap},
		{"partition-months-ahead", "WANJIA_PARTITION_MONTHS_AHEAD", "months after the current one whose partitions `migrate up` and `migrate partitions` make (PostgreSQL)", DefaultPartitionMonthsAhead, &c.PartitionMonthsAhead},
		{"partition-keep-years", "WANJIA_PARTITION_KEEP_YEARS", "the platform's maximum age of a row in years: `migrate partitions` drops older months' partitions whole (PostgreSQL)", DefaultPartitionKeepYears, &c.PartitionKeepYears},
	}
}

// DefaultKeyRotation is the default of WANJIA_KEY_ROTATION (authn has the
// same default; config does not import authn).
const DefaultKeyRotation = 30 * 24 * time.Hour

// minKeyRotation keeps a typo such as "30s" from making a key a minute.
const minKeyRotation = time.Hour

// ParseDuration is time.ParseDuration that also takes whole days ("30d"),
// the natural unit of key rotation.
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 3650 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// daysDuration is a pflag.Value for durations that also takes days.
type daysDuration time.Duration

func (d *daysDuration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = daysDuration(v)
	return nil
}

func (d *daysDuration) Type() string { return "duration" }

func (d *daysDuration) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return strconv.Itoa(int(v/(24*time.Hour))) + "d"
	}
	return v.String()
}

// Load builds a Config from the environment alone (flags at their defaults).
func Load(args []string) (*Config, error) {
	c := &Config{}
	fs := pflag.NewFlagSet("wanjia", pflag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// Embedded reports whether the database is the embedded SQLite file.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// EmbeddedRedis reports whether Redis runs inside this process.
func (c *Config) EmbeddedRedis() bool { return c.RedisURL == "" }

// Validate checks the settings and says which one is wrong and why.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("WANJIA_ADDR is empty"))
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("WANJIA_METRICS_ADDR: %q is not host:port (e.g. :9090 or 127.0.0.1:9090)", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, errors.New("WANJIA_METRICS_ADDR must differ from WANJIA_ADDR: metrics are kept off the public port"))
		}
	}
	if c.DatabaseURL != "" {
		if err := checkURL(c.DatabaseURL, "postgres", "postgresql"); err != nil {
			errs = append(errs, fmt.Errorf("WANJIA_DATABASE_URL: %w", err))
		}
	} else if c.DataDir == "" {
		errs = append(errs, errors.New("WANJIA_DATA_DIR is empty and no WANJIA_DATABASE_URL is set"))
	}
	if c.RedisURL != "" {
		// One node, a cluster or Sentinel (queue.ParseRedisURL), refused
		// here when the form is wrong, before anything connects.
		if _, err := queue.ParseRedisURL(c.RedisURL); err != nil {
			errs = append(errs, fmt.Errorf("WANJIA_REDIS_URL: %w", err))
		}
	}
	if c.BaseURL != "" {
		if err := checkURL(c.BaseURL, "http", "https"); err != nil {
			errs = append(errs, fmt.Errorf("WANJIA_BASE_URL: %w", err))
		}
	}
	if c.badProvider != nil {
		errs = append(errs, c.badProvider)
	}
	switch c.SMSProvider {
	case "log":
	case "aliyun", "twilio", "webhook":
		// The chosen provider's credentials, checked now: missing, the
		// process would start and fail every message.
		if _, err := provider.New(c.SMSProvider, c.SMS(), slog.New(slog.DiscardHandler)); err != nil && c.badProvider == nil {
			errs = append(errs, fmt.Errorf("WANJIA_SMS_PROVIDER=%s: %w", c.SMSProvider, err))
		}
	default:
		errs = append(errs, fmt.Errorf("WANJIA_SMS_PROVIDER: unknown provider %q (want log, aliyun, twilio or webhook)", c.SMSProvider))
	}
	if c.WeComURL != "" {
		if err := checkURL(c.WeComURL, "http", "https"); err != nil {
			errs = append(errs, fmt.Errorf("WANJIA_WECOM_URL: %w", err))
		}
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("WANJIA_LOG_FORMAT: %q is not text or json", c.LogFormat))
	}
	if c.badTimeout != "" {
		errs = append(errs, fmt.Errorf("WANJIA_SHUTDOWN_TIMEOUT: %q is not a duration such as 20s", c.badTimeout))
	} else if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("WANJIA_SHUTDOWN_TIMEOUT must be positive"))
	}
	for _, b := range c.badDB {
		errs = append(errs, fmt.Errorf("%s is not a duration such as 30s", b))
	}
	if c.badRotation != "" {
		errs = append(errs, fmt.Errorf("WANJIA_KEY_ROTATION: %q is not a duration such as 30d or 720h", c.badRotation))
	} else if c.KeyRotation != 0 && c.KeyRotation < minKeyRotation {
		errs = append(errs, fmt.Errorf("WANJIA_KEY_ROTATION must be at least %v", minKeyRotation))
	}
	for _, s := range c.intSettings() {
		if bad, ok := c.badInts[s.env]; ok {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number", s.env, bad))
		} else if *s.target < 0 {
			// 0 stands for the default, as in a Config built in code.
			errs = append(errs, fmt.Errorf("%s must not be negative", s.env))
		}
	}
	errs = append(errs, c.validateSecretKey()...)
	if _, err := c.Proxies(); err != nil {
		errs = append(errs, err)
	}
	// The same policy as every other password; checked here so that a weak
	// one stops the process at once, with the variable named.
	if c.AdminPassword != "" {
		if p := pwpolicy.Check("admin", c.AdminPassword); p != nil {
			errs = append(errs, fmt.Errorf("WANJIA_ADMIN_PASSWORD: %w", p))
		}
	}
	if c.DemoPassword != "" {
		if p := pwpolicy.Check("", c.DemoPassword); p != nil {
			errs = append(errs, fmt.Errorf("WANJIA_DEMO_PASSWORD: %w", p))
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts only an absolute URL with one of the schemes and a host.
// The error never repeats the URL, which may carry a password.
func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	if !ok {
		return fmt.Errorf("scheme %q is not %s", u.Scheme, strings.Join(schemes, " or "))
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// Level parses LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("WANJIA_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// JSONLogs reports whether logs are JSON: asked for, or real mode by default.
func (c *Config) JSONLogs() bool {
	if c.LogFormat != "" {
		return c.LogFormat == "json"
	}
	return !c.Embedded()
}

// LogValue renders the effective configuration with secrets masked, so that
// logging the whole config at start is safe.
func (c *Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range c.settings() {
		v := *s.target
		if s.secret {
			v = Mask(v)
		}
		attrs = append(attrs, slog.String(s.env, v))
	}
	attrs = append(attrs, slog.String("WANJIA_SHUTDOWN_TIMEOUT", c.ShutdownTimeout.String()),
		slog.String("WANJIA_KEY_ROTATION", (*daysDuration)(&c.KeyRotation).String()))
	for _, d := range c.dbLimits() {
		attrs = append(attrs, slog.String(d.env, d.target.String()))
	}
	for _, s := range c.intSettings() {
		attrs = append(attrs, slog.Int(s.env, *s.target))
	}
	// Its String redacts the secrets and the URLs that may carry a token.
	attrs = append(attrs, slog.String("provider", c.Provider.String()))
	return slog.GroupValue(attrs...)
}

// Mask hides a secret. URLs keep their scheme, host and path so an operator
// can still see where the process connects; only the password goes.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "secret") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	return "*****"
}

type dbLimit struct {
	env, flag, usage string
	target           *time.Duration
}

func (c *Config) dbLimits() []dbLimit {
	return []dbLimit{
		{"WANJIA_DB_STATEMENT_TIMEOUT", "db-statement-timeout", "PostgreSQL: longest a statement may run (default 30s)", &c.DBStatementTimeout},
		{"WANJIA_DB_LOCK_TIMEOUT", "db-lock-timeout", "PostgreSQL: longest a statement waits for a lock (default 10s)", &c.DBLockTimeout},
		{"WANJIA_DB_IDLE_IN_TRANSACTION_TIMEOUT", "db-idle-in-transaction-timeout", "PostgreSQL: longest a transaction may sit idle (default 60s)", &c.DBIdleInTransactionTimeout},
	}
}
