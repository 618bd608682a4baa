// Package i18n holds the user-facing messages in Chinese and English. Each
// package registers its own messages from an init(), so a message lives next
// to the code that raises it, and errors carry keys rather than text.
package i18n

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Lang is a supported language tag.
type Lang string

// The supported languages. ZH is the default: the platform serves Chinese
// communities, English is for integrators and visiting staff.
const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// Message is one text in every supported language.
type Message struct {
	ZH, EN string
}

var (
	mu       sync.RWMutex
	messages = map[string]Message{}
)

// Register adds messages. A duplicate key or a missing translation is a
// programmer error found at start-up, so it panics rather than letting two
// packages silently fight over a key or a client see an empty message.
func Register(msgs map[string]Message) {
	mu.Lock()
	defer mu.Unlock()
	for k, m := range msgs {
		if k == "" {
			panic("i18n: empty message key")
		}
		if _, dup := messages[k]; dup {
			panic("i18n: duplicate message key " + strconv.Quote(k))
		}
		if m.ZH == "" || m.EN == "" {
			panic("i18n: message " + strconv.Quote(k) + " lacks a zh-CN or en text")
		}
	}
	// Checked first and added after, so a panic leaves no half-registered map
	// behind (matters for tests that recover).
	for k, m := range msgs {
		messages[k] = m
	}
}

// Lookup returns the message registered under key.
func Lookup(key string) (Message, bool) {
	mu.RLock()
	defer mu.RUnlock()
	m, ok := messages[key]
	return m, ok
}

// Keys returns every registered key, sorted, so tests can check coverage.
func Keys() []string {
	mu.RLock()
	defer mu.RUnlock()
	ks := make([]string, 0, len(messages))
	for k := range messages {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// T returns the message for key in lang with {name} placeholders replaced by
// args. An unknown key yields the key itself: a visible, greppable defect is
// better than a panic in the middle of rendering an error.
func T(lang Lang, key string, args map[string]any) string {
	m, ok := Lookup(key)
	if !ok {
		return key
	}
	s := m.ZH
	if lang == EN {
		s = m.EN
	}
	return format(s, args)
}

// format replaces {name} with fmt.Sprint(args[name]); placeholders without an
// argument stay as written so the omission shows in tests.
func format(s string, args map[string]any) string {
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		name := s[open+1 : open+end]
		v, ok := args[name]
		b.WriteString(s[:open])
		if ok {
			b.WriteString(fmt.Sprint(v))
		} else {
			b.WriteString(s[open : open+end+1])
		}
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return b.String()
}

// Parse picks the language for an Accept-Language header: the acceptable
// entry with the highest q-value that is English or Chinese decides; empty,
// malformed or only other languages give ZH.
//
// It is hand-rolled rather than a language.Matcher because we only ever
// choose between two base languages and want that choice obvious: any en-*
// is English, any zh-* (including zh-TW) is Chinese.
func Parse(acceptLanguage string) Lang {
	best, bestQ := ZH, -1.0
	// Bound the work per request; real browsers send a handful of entries.
	for i, part := range strings.SplitN(acceptLanguage, ",", 33) {
		if i == 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p := strings.TrimSpace(params); p != "" {
			name, val, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q == 0 {
			continue // explicitly not acceptable
		}
		var l Lang
		switch base(tag) {
		case "en":
			l = EN
		case "zh":
			l = ZH
		default:
			continue
		}
		// Strictly greater keeps the earlier entry on a tie, as the header's
		// order expresses preference among equal q-values.
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

func base(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}
