package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestRedisLogsAreJSON: a go-redis log line comes out as one JSON object
// of the application's log, not a plain line of its own.
func TestRedisLogsAreJSON(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	redisLogger{l.With("component", "redis")}.Printf(context.Background(), "redis: discarding bad PubSub connection: %s\n", "EOF")
	line := strings.TrimSpace(buf.String())
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil || strings.Count(line, "\n") != 0 {
		t.Fatalf("not one JSON line: %q (%v)", line, err)
	}
	if got["msg"] != "redis: discarding bad PubSub connection: EOF" || got["component"] != "redis" || got["level"] != "WARN" {
		t.Fatalf("log entry: %v", got)
	}
}
