package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"time"
)

// FakeProvider is the SMS gateway of the webhook provider
// (pkg/outreach/provider/webhook.go), on loopback: it accepts every
// message and counts each by its id, so that the drill can tell a message
// that never arrived from one that arrived twice (a real gateway delivers
// an id once however often it comes; this one counts every POST, so that
// a second send shows as doubled). It answers the contract's status query
// (GET <url>/<id>) from the same counts: 404 not_received for an id never
// posted, 200 received otherwise.
type FakeProvider struct {
	// Secret, when set, is the webhook's secret: a status query must be
	// signed with it (over the timestamp, ".", and the id).
	Secret string

	mu     sync.Mutex
	count  map[string]int
	phones map[string]string // id → phone
	first  map[string]time.Time
	total  atomic.Int64
	last   atomic.Int64 // unix nanos of the last message
	now    func() time.Time
}

// NewFakeProvider returns an empty gateway.
func NewFakeProvider() *FakeProvider {
	return &FakeProvider{count: map[string]int{}, phones: map[string]string{}, first: map[string]time.Time{}, now: time.Now}
}

// ServeHTTP takes one message: {"id":…,"phone":…}; 400 without an id. A
// GET is the status query.
func (p *FakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		p.query(w, r)
		return
	}
	var m struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &m) != nil || m.ID == "" {
		http.Error(w, `{"error":"no message id"}`, http.StatusBadRequest)
		return
	}
	now := p.now()
	p.mu.Lock()
	p.count[m.ID]++
	p.phones[m.ID] = m.Phone
	if _, ok := p.first[m.ID]; !ok {
		p.first[m.ID] = now
	}
	p.mu.Unlock()
	p.total.Add(1)
	p.last.Store(now.UnixNano())
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"fp-` + m.ID + `"}`))
}

func (p *FakeProvider) query(w http.ResponseWriter, r *http.Request) {
	id := path.Base(r.URL.Path)
	if p.Secret != "" {
		ts := r.Header.Get("X-Wanjia-Timestamp")
		m := hmac.New(sha256.New, []byte(p.Secret))
		m.Write([]byte(ts + "." + id))
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("X-Wanjia-Signature")), []byte(want)) {
			http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
	}
	p.mu.Lock()
	n := p.count[id]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if n == 0 {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "not_received"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "received", "provider_id": "fp-" + id})
}

// Counts is a copy of how often each message id arrived.
func (p *FakeProvider) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.count))
	for k, v := range p.count {
		out[k] = v
	}
	return out
}

// Total is how many posts arrived (doubles included).
func (p *FakeProvider) Total() int64 { return p.total.Load() }

// ArrivedSince counts the distinct messages first seen at or after t.
func (p *FakeProvider) ArrivedSince(t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, at := range p.first {
		if !at.Before(t) {
			n++
		}
	}
	return n
}

// FirstAfter is when the first message after t arrived (zero if none).
func (p *FakeProvider) FirstAfter(t time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best time.Time
	for _, at := range p.first {
		if at.After(t) && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	return best
}

// Phones are the phones that got a message.
func (p *FakeProvider) Phones() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for _, ph := range p.phones {
		out[ph] = true
	}
	return out
}
