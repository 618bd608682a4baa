package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The headers the drill's requests carry for its own bookkeeping (the
// server ignores them): what kind of request, and the key the ledger
// knows it by.
const (
	hdrKind = "X-Load-Kind"
	hdrKey  = "X-Load-Key"
)

// Ledger records, per kind, every keyed write sent and the ones whose
// answer said stored (2xx), with the window they were sent in and the
// group they count in (a case for link check-ins, else the key itself).
type Ledger struct {
	mu      sync.Mutex
	entries map[string]map[string]*entry
}

type entry struct {
	window, group string
	acked         bool
}

func NewLedger() *Ledger { return &Ledger{entries: map[string]map[string]*entry{}} }

func (l *Ledger) Sent(kind, key, window, group string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.entries[kind]
	if m == nil {
		m = map[string]*entry{}
		l.entries[kind] = m
	}
	if group == "" {
		group = key
	}
	m[key] = &entry{window: window, group: group}
}

func (l *Ledger) Ack(kind, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[kind][key]; e != nil {
		e.acked = true
	}
}

// Acked is, per window, how often each group of kind was acked, and the
// count of writes never acked.
func (l *Ledger) Acked(kind string) (byWindow map[string]map[string]int, groupWindow map[string]string, unanswered int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byWindow, groupWindow = map[string]map[string]int{}, map[string]string{}
	for _, e := range l.entries[kind] {
		groupWindow[e.group] = e.window
		if !e.acked {
			unanswered++
			continue
		}
		if byWindow[e.window] == nil {
			byWindow[e.window] = map[string]int{}
		}
		byWindow[e.window][e.group]++
	}
	return byWindow, groupWindow, unanswered
}

// retrier is the clients' transport: requests name the host "api", and
// it sends each to one replica in turn; on no answer or a 5xx (or 429) it
// sends the same request (same Idempotency-Key, same body) to the next
// replica, with a growing pause, for up to a minute. That is what a
// client behind a load balancer does when a replica dies under it.
type retrier struct {
	base    http.RoundTripper
	hosts   []string
	next    atomic.Uint64
	ledger  *Ledger
	rec     *Recorder
	window  func() string
	retries atomic.Int64
	maxWait time.Duration
}

func (t *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	kind := req.Header.Get(hdrKind)
	key := req.Header.Get(hdrKey)
	i := int(t.next.Add(1))
	var resp *http.Response
	var err error
	for try := 0; ; try++ {
		r := req.Clone(req.Context())
		if req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		r.URL.Host = t.hosts[(i+try)%len(t.hosts)]
		r.Host = r.URL.Host
		resp, err = t.base.RoundTrip(r)
		retry := err != nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		if !retry || time.Since(start) > t.maxWait || req.Context().Err() != nil {
			break
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		t.retries.Add(1)
		select {
		case <-time.After(time.Duration(min(try+1, 10)) * 100 * time.Millisecond):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	status := 0
	if err == nil {
		status = resp.StatusCode
		if key != "" && status >= 200 && status < 400 { // the link's form answers 303 to its page
			t.ledger.Ack(kind, key)
		}
	}
	if kind != "" && t.rec != nil {
		t.rec.Add(t.window(), kind, status, time.Since(start))
	}
	return resp, err
}

// API is the drill's HTTP client of the two replicas.
type API struct {
	client *http.Client
}

// Do sends a JSON request (body nil: none) and decodes a 2xx answer into
// out; other answers are errors naming the status and body.
func (a *API) Do(ctx context.Context, kind, method, path, token string, body, out any, hdr map[string]string) (int, error) {
	var rd io.Reader
	var raw []byte
	if b, ok := body.([]byte); ok {
		raw = b
	} else if body != nil {
		raw, _ = json.Marshal(body)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://api"+path, rd)
	if err != nil {
		return 0, err
	}
	if raw != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set(hdrKind, kind)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
