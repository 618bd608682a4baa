package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

func TestLoad(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("gateway-secret-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	webhook := map[string]string{"WANJIA_SMS_PROVIDER": "webhook", "WANJIA_SMS_WEBHOOK_URL": "https://gw.example.org/sms"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults are embedded mode", check: func(t *testing.T, c *Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || !c.Embedded() || !c.EmbeddedRedis() || c.SMSProvider != "log" {
				t.Fatalf("unexpected defaults: %+v", c)
			}
			if c.JSONLogs() {
				t.Fatal("embedded mode should log text")
			}
			if c.ShutdownTimeout != 20*time.Second {
				t.Fatalf("shutdown timeout %v", c.ShutdownTimeout)
			}
		}},
		{name: "environment is read", env: map[string]string{"WANJIA_ADDR": ":9090", "WANJIA_DATABASE_URL": "postgres://u:p@db:5432/wanjia", "WANJIA_REDIS_URL": "redis://r:6379/2"},
			check: func(t *testing.T, c *Config) {
				if c.Addr != ":9090" || c.Embedded() || c.EmbeddedRedis() || !c.JSONLogs() {
					t.Fatalf("env not applied: %+v", c)
				}
			}},
		{name: "flag beats environment", env: map[string]string{"WANJIA_ADDR": ":9090"}, args: []string{"--addr", ":7070"},
			check: func(t *testing.T, c *Config) {
				if c.Addr != ":7070" {
					t.Fatalf("addr %q", c.Addr)
				}
			}},
		{name: "bad database limit", env: map[string]string{"WANJIA_DB_LOCK_TIMEOUT": "soon"}, wantErr: `WANJIA_DB_LOCK_TIMEOUT="soon" is not a duration`},
		{name: "malformed database url", env: map[string]string{"WANJIA_DATABASE_URL": "mysql://x/y"}, wantErr: "WANJIA_DATABASE_URL: scheme \"mysql\""},
		{name: "database url without host", env: map[string]string{"WANJIA_DATABASE_URL": "postgres:///x"}, wantErr: "WANJIA_DATABASE_URL: no host"},
		{name: "garbage database url", env: map[string]string{"WANJIA_DATABASE_URL": "postgres://a b:%zz@x"}, wantErr: "WANJIA_DATABASE_URL: not a valid URL"},
		{name: "malformed redis url", env: map[string]string{"WANJIA_REDIS_URL": "http://r"}, wantErr: "WANJIA_REDIS_URL"},
		{name: "redis cluster form", env: map[string]string{"WANJIA_REDIS_URL": "redis://:pw@n1:6379?addr=n2:6379&addr=n3:6379"}, check: func(t *testing.T, c *Config) {
			if c.EmbeddedRedis() || c.RedisURL != "redis://:pw@n1:6379?addr=n2:6379&addr=n3:6379" {
				t.Fatalf("redis url %q", c.RedisURL)
			}
		}},
		{name: "redis sentinel form", env: map[string]string{"WANJIA_REDIS_URL": "redis://s1:26379/2?master_name=mymaster&addr=s2:26379&password=pw"}, check: func(t *testing.T, c *Config) {}},
		{name: "redis cluster with a database number", env: map[string]string{"WANJIA_REDIS_URL": "redis://n1:6379/3?addr=n2:6379&addr=n3:6379"},
			wantErr: "WANJIA_REDIS_URL: a cluster URL (several addr=) cannot name a database"},
		{name: "redis cluster with db=", env: map[string]string{"WANJIA_REDIS_URL": "redis://n1:6379?addr=n2:6379&db=1"},
			wantErr: "WANJIA_REDIS_URL: a cluster URL (several addr=) cannot name a database"},
		{name: "redis cluster and sentinel at once", env: map[string]string{"WANJIA_REDIS_URL": "redis://n1:6379?addr=n2:6379&master_name=mymaster&max_redirects=3"},
			wantErr: "WANJIA_REDIS_URL: the cluster and Sentinel forms at once"},
		{name: "redis sentinel without a master name", env: map[string]string{"WANJIA_REDIS_URL": "redis://s1:26379?master_name=&addr=s2:26379"},
			wantErr: "WANJIA_REDIS_URL: master_name is empty"},
		{name: "redis cluster with a bad seed", env: map[string]string{"WANJIA_REDIS_URL": "redis://n1:6379?addr=n2"},
			wantErr: "WANJIA_REDIS_URL: cluster form: unable to parse addr param: n2"},
		{name: "redis unknown option", env: map[string]string{"WANJIA_REDIS_URL": "redis://r:6379/0?colour=red"},
			wantErr: "WANJIA_REDIS_URL: single form: unexpected option: colour"},
		{name: "unknown sms provider", env: map[string]string{"WANJIA_SMS_PROVIDER": "pigeon"}, wantErr: "unknown provider \"pigeon\""},
		{name: "bad log level", env: map[string]string{"WANJIA_LOG_LEVEL": "loud"}, wantErr: "WANJIA_LOG_LEVEL"},
		{name: "bad log format", env: map[string]string{"WANJIA_LOG_FORMAT": "xml"}, wantErr: "WANJIA_LOG_FORMAT"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "unknown flag: --nope"},
		{name: "bad shutdown timeout", env: map[string]string{"WANJIA_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "WANJIA_SHUTDOWN_TIMEOUT"},
		{name: "key rotation defaults to 30 days", check: func(t *testing.T, c *Config) {
			if c.KeyRotation != 30*24*time.Hour {
				t.Fatalf("key rotation %v", c.KeyRotation)
			}
		}},
		{name: "key rotation in days", env: map[string]string{"WANJIA_KEY_ROTATION": "7d"}, check: func(t *testing.T, c *Config) {
			if c.KeyRotation != 7*24*time.Hour {
				t.Fatalf("key rotation %v", c.KeyRotation)
			}
		}},
		{name: "key rotation flag", args: []string{"--key-rotation", "90d"}, check: func(t *testing.T, c *Config) {
			if c.KeyRotation != 90*24*time.Hour {
				t.Fatalf("key rotation %v", c.KeyRotation)
			}
		}},
		{name: "bad key rotation", env: map[string]string{"WANJIA_KEY_ROTATION": "monthly"}, wantErr: "WANJIA_KEY_ROTATION"},
		{name: "key rotation too short", env: map[string]string{"WANJIA_KEY_ROTATION": "30s"}, wantErr: "WANJIA_KEY_ROTATION must be at least"},
		{name: "trusted proxies", env: map[string]string{"WANJIA_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,fd00::/8"}, check: func(t *testing.T, c *Config) {
			p, err := c.Proxies()
			if err != nil || strings.Join(p, " ") != "10.0.0.0/8 192.0.2.1 fd00::/8" {
				t.Fatalf("proxies = %q, %v", p, err)
			}
		}},
		{name: "no trusted proxies by default", check: func(t *testing.T, c *Config) {
			if p, err := c.Proxies(); p != nil || err != nil {
				t.Fatalf("proxies = %q, %v; want none", p, err)
			}
		}},
		{name: "bad trusted proxy", env: map[string]string{"WANJIA_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, wantErr: `WANJIA_TRUSTED_PROXIES: "lb.internal" is not an IP address`},
		{name: "bad trusted cidr", env: map[string]string{"WANJIA_TRUSTED_PROXIES": "10.0.0.0/33"}, wantErr: `WANJIA_TRUSTED_PROXIES: "10.0.0.0/33" is not a CIDR`},
		{name: "short secret key", env: map[string]string{"WANJIA_SECRET_KEY": "hunter2"}, wantErr: "WANJIA_SECRET_KEY: must have at least 32 characters"},
		{name: "secret key twice", env: map[string]string{"WANJIA_SECRET_KEY": strings.Repeat("k", 32), "WANJIA_SECRET_KEY_FILE": "/etc/wanjia/key"}, wantErr: "both set"},
		{name: "weak admin password", env: map[string]string{"WANJIA_ADMIN_PASSWORD": "a"}, wantErr: "WANJIA_ADMIN_PASSWORD: The password must have at least 10 characters"},
		{name: "common admin password", env: map[string]string{"WANJIA_ADMIN_PASSWORD": "12345678"}, wantErr: "WANJIA_ADMIN_PASSWORD"},
		{name: "common demo password", env: map[string]string{"WANJIA_DEMO_PASSWORD": "woaini1314"}, wantErr: "WANJIA_DEMO_PASSWORD: This password is too common"},
		{name: "huge demo password", env: map[string]string{"WANJIA_DEMO_PASSWORD": strings.Repeat("x", 500<<10)}, wantErr: "WANJIA_DEMO_PASSWORD: The password must have at most 128"},
		{name: "sms rules default", check: func(t *testing.T, c *Config) {
			if c.SMSRate != DefaultSMSRate || c.SMSDailyCap != DefaultSMSDailyCap {
				t.Fatalf("sms rate %d, daily cap %d", c.SMSRate, c.SMSDailyCap)
			}
		}},
		{name: "sms rules from env and flag", env: map[string]string{"WANJIA_SMS_RATE": "20", "WANJIA_SMS_DAILY_CAP": "3"}, args: []string{"--sms-daily-cap", "8"},
			check: func(t *testing.T, c *Config) {
				if c.SMSRate != 20 || c.SMSDailyCap != 8 {
					t.Fatalf("sms rate %d, daily cap %d", c.SMSRate, c.SMSDailyCap)
				}
			}},
		{name: "bad sms rate", env: map[string]string{"WANJIA_SMS_RATE": "fast"}, wantErr: `WANJIA_SMS_RATE: "fast" is not a whole number`},
		{name: "negative sms daily cap", args: []string{"--sms-daily-cap", "-1"}, wantErr: "WANJIA_SMS_DAILY_CAP must not be negative"},
		{name: "no metrics address by default", check: func(t *testing.T, c *Config) {
			if c.MetricsAddr != "" {
				t.Fatalf("metrics addr %q, want none", c.MetricsAddr)
			}
		}},
		{name: "metrics address", env: map[string]string{"WANJIA_METRICS_ADDR": ":9090"}, check: func(t *testing.T, c *Config) {
			if c.MetricsAddr != ":9090" {
				t.Fatalf("metrics addr %q", c.MetricsAddr)
			}
		}},
		{name: "metrics address without a port", env: map[string]string{"WANJIA_METRICS_ADDR": "localhost"}, wantErr: `WANJIA_METRICS_ADDR: "localhost" is not host:port`},
		{name: "metrics on the public port", env: map[string]string{"WANJIA_METRICS_ADDR": ":8080"}, wantErr: "WANJIA_METRICS_ADDR must differ from WANJIA_ADDR"},
		{name: "provider credentials from the environment", env: with(webhook, "WANJIA_SMS_WEBHOOK_SECRET", "gateway-secret-0123456789", "WANJIA_SMS_TIMEOUT", "3s"),
			check: func(t *testing.T, c *Config) {
				p := c.SMS()
				if p.WebhookURL != "https://gw.example.org/sms" || p.WebhookSecret.Reveal() != "gateway-secret-0123456789" || p.Timeout != 3*time.Second {
					t.Fatalf("provider config %v, timeout %v", p, p.Timeout)
				}
			}},
		{name: "provider secret from a file", env: with(webhook, "WANJIA_SMS_WEBHOOK_SECRET_FILE", secretFile),
			check: func(t *testing.T, c *Config) {
				if got := c.Provider.WebhookSecret.Reveal(); got != "gateway-secret-from-a-file" {
					t.Fatalf("secret %q", got)
				}
			}},
		{name: "the base-url flag reaches the provider", env: map[string]string{"WANJIA_BASE_URL": "http://old.example.org"}, args: []string{"--base-url", "https://wanjia.example.org/x"},
			check: func(t *testing.T, c *Config) {
				if got := c.SMS().PublicURL; got != "https://wanjia.example.org/x" {
					t.Fatalf("provider's public URL %q", got)
				}
			}},
		{name: "chosen provider without credentials", env: webhook, wantErr: "WANJIA_SMS_PROVIDER=webhook: webhook provider: WANJIA_SMS_WEBHOOK_SECRET must have at least 16 characters"},
		{name: "credentials of another provider are not required", env: map[string]string{"WANJIA_SMS_PROVIDER": "log"}, check: func(t *testing.T, c *Config) {}},
		{name: "twilio without its account", env: map[string]string{"WANJIA_SMS_PROVIDER": "twilio"}, wantErr: "WANJIA_TWILIO_ACCOUNT_SID is not set"},
		{name: "bad provider timeout", env: map[string]string{"WANJIA_SMS_TIMEOUT": "soon"}, wantErr: `WANJIA_SMS_TIMEOUT: "soon" is not a positive duration`},
		{name: "provider secret and its file", env: with(webhook, "WANJIA_SMS_WEBHOOK_SECRET", "gateway-secret-0123456789", "WANJIA_SMS_WEBHOOK_SECRET_FILE", secretFile),
			wantErr: "WANJIA_SMS_WEBHOOK_SECRET and WANJIA_SMS_WEBHOOK_SECRET_FILE are both set"},
		{name: "missing provider secret file", env: with(webhook, "WANJIA_SMS_WEBHOOK_SECRET_FILE", secretFile+".nope"), wantErr: "WANJIA_SMS_WEBHOOK_SECRET_FILE"},
		{name: "wecom through a proxy", env: map[string]string{"WANJIA_WECOM_URL": "http://egress.internal:8080"}, check: func(t *testing.T, c *Config) {
			if c.WeComURL != "http://egress.internal:8080" {
				t.Fatalf("wecom url %q", c.WeComURL)
			}
		}},
		{name: "wecom's own by default", check: func(t *testing.T, c *Config) {
			if c.WeComURL != "" {
				t.Fatalf("wecom url %q, want none", c.WeComURL)
			}
		}},
		{name: "bad wecom url", env: map[string]string{"WANJIA_WECOM_URL": "egress.internal:8080"}, wantErr: "WANJIA_WECOM_URL"},
		{name: "the test passwords", env: map[string]string{"WANJIA_ADMIN_PASSWORD": "admin-pass-123", "WANJIA_DEMO_PASSWORD": "demo-pass-123"}, check: func(t *testing.T, c *Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Load(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// clearEnv unsets every WANJIA_ variable the test may inherit.
func clearEnv(t *testing.T) {
	for _, k := range os.Environ() {
		if name, _, _ := strings.Cut(k, "="); strings.HasPrefix(name, "WANJIA_") {
			t.Setenv(name, "")
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	c := &Config{DatabaseURL: "postgres://wanjia:s3cret@db:5432/wanjia?sslmode=disable", RedisURL: "redis://:hunter2@r:6379/0", AdminPassword: "adminpw",
		DemoPassword: "demopw", SecretKey: "the-very-secret-key-0123456789abcdef", WeComURL: "https://proxy:pr0xypw@egress.internal/wecom",
		Provider: provider.Config{WebhookURL: "https://gw.example.org/sms?token=t0ken", WebhookSecret: "gateway-secret-0123456789",
			TwilioAuthToken: "tw1liotoken", AliyunAccessKeySecret: "al1yunsecret"}}
	out := c.LogValue().String()
	for _, secret := range []string{"s3cret", "hunter2", "adminpw", "demopw", "the-very-secret", "pr0xypw", "t0ken", "gateway-secret", "tw1liotoken", "al1yunsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log value leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db:5432") {
		t.Errorf("log value should still say where the database is: %s", out)
	}
	// Sentinel's master password travels in the query.
	for _, u := range []string{"redis://:s3ntinel@s1:26379/0?master_name=m&addr=s2:26379&password=m4ster", "redis://:cl0ster@n1:6379?addr=n2:6379"} {
		if m := Mask(u); strings.Contains(m, "s3ntinel") || strings.Contains(m, "m4ster") || strings.Contains(m, "cl0ster") || !strings.Contains(m, "6379") {
			t.Errorf("Mask(%s) = %s", u, m)
		}
	}
	var _ slog.LogValuer = c
}

func TestErrorsNeverEchoURL(t *testing.T) {
	t.Setenv("WANJIA_DATABASE_URL", "mysql://u:topsecret@h/db")
	_, err := Load(nil)
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v", err)
	}
}
