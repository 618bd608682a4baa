package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
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
		{name: "malformed database url", env: map[string]string{"WANJIA_DATABASE_URL": "mysql://x/y"}, wantErr: "WANJIA_DATABASE_URL: scheme \"mysql\""},
		{name: "database url without host", env: map[string]string{"WANJIA_DATABASE_URL": "postgres:///x"}, wantErr: "WANJIA_DATABASE_URL: no host"},
		{name: "garbage database url", env: map[string]string{"WANJIA_DATABASE_URL": "postgres://a b:%zz@x"}, wantErr: "WANJIA_DATABASE_URL: not a valid URL"},
		{name: "malformed redis url", env: map[string]string{"WANJIA_REDIS_URL": "http://r"}, wantErr: "WANJIA_REDIS_URL"},
		{name: "unknown sms provider", env: map[string]string{"WANJIA_SMS_PROVIDER": "pigeon"}, wantErr: "unknown provider \"pigeon\""},
		{name: "bad log level", env: map[string]string{"WANJIA_LOG_LEVEL": "loud"}, wantErr: "WANJIA_LOG_LEVEL"},
		{name: "bad log format", env: map[string]string{"WANJIA_LOG_FORMAT": "xml"}, wantErr: "WANJIA_LOG_FORMAT"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "unknown flag: --nope"},
		{name: "bad shutdown timeout", env: map[string]string{"WANJIA_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "WANJIA_SHUTDOWN_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"WANJIA_ADDR", "WANJIA_DATABASE_URL", "WANJIA_REDIS_URL", "WANJIA_SMS_PROVIDER", "WANJIA_LOG_LEVEL", "WANJIA_LOG_FORMAT", "WANJIA_DATA_DIR", "WANJIA_SHUTDOWN_TIMEOUT"} {
				t.Setenv(k, "")
			}
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

func TestSecretsMasked(t *testing.T) {
	c := &Config{DatabaseURL: "postgres://wanjia:s3cret@db:5432/wanjia?sslmode=disable", RedisURL: "redis://:hunter2@r:6379/0", AdminPassword: "adminpw", DemoPassword: "demopw"}
	out := c.LogValue().String()
	for _, secret := range []string{"s3cret", "hunter2", "adminpw", "demopw"} {
		if strings.Contains(out, secret) {
			t.Errorf("log value leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db:5432") {
		t.Errorf("log value should still say where the database is: %s", out)
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
