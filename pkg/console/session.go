package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/seal"
)

// The console's session is the API's token pair, sealed (AES-GCM under a
// key derived from the master key) into one HttpOnly cookie. Nothing is
// kept on the server but what authn already keeps (the refresh token's
// family), so every replica serves every session and signing out is
// authn's Logout. The cookie's value is not a bearer token: the API reads
// only the Authorization header, and what the cookie holds opens only
// with the console's key.
const (
	sessionCookie = "wanjia_session"
	// loginCookie carries the sign-in form's CSRF token (double submit),
	// before there is a session to hold one.
	loginCookie = "wanjia_login"
	langCookie  = "wanjia_lang"
	// sessionIdle signs out a browser unused for a working day: the
	// cookie is set again whenever its tokens are refreshed.
	sessionIdle = 12 * time.Hour
	// refreshEarly refreshes a little before the access token expires, so
	// that it does not expire between the check and the service call.
	refreshEarly = 30 * time.Second
	// rotationGrace is how long the tokens a refresh gave stay at hand for
	// requests that arrive with the refresh token it used (see refresh).
	rotationGrace = time.Minute
)

// session is what the cookie holds.
type session struct {
	Access  string `json:"a"`
	Refresh string `json:"r"`
	Expires int64  `json:"e"` // when Access expires, Unix seconds
	CSRF    string `json:"c"` // the token every unsafe request must carry
	User    string `json:"u"` // who signed in: a kept form goes back to them only
}

type sessions struct {
	authn  *authn.Service
	box    *seal.Box
	secure bool
	now    func() time.Time

	// A refresh token works once: presented again, authn takes it for a
	// theft and revokes the whole session. A page and its htmx requests
	// often arrive together with the same expired cookie, so the refresh
	// is done once per token (singleflight) and its result kept a minute
	// for the stragglers. Replicas do not share this: behind a load
	// balancer, two requests racing on two replicas in the same instant
	// sign the person out (they sign in again).
	flight  singleflight.Group
	mu      sync.Mutex
	rotated map[string]rotation // sha256 of the used refresh token → its successor
}

type rotation struct {
	tokens *authn.Tokens
	at     time.Time
}

func newSessions(a *authn.Service, secret []byte, secure bool) *sessions {
	box, err := seal.New(secret, "wanjia console session v1")
	if err != nil {
		panic("console: " + err.Error()) // the app checked the secret key's length at start
	}
	return &sessions{authn: a, box: box, secure: secure, now: time.Now, rotated: map[string]rotation{}}
}

// seal encrypts s for the cookie; the cookie's name is the additional
// data, so a value cannot be moved to another cookie.
func (m *sessions) seal(s session) string {
	plain, _ := json.Marshal(s)
	return base64.RawURLEncoding.EncodeToString(m.box.Seal(plain, []byte(sessionCookie)))
}

func (m *sessions) open(v string) (session, bool) {
	var s session
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return s, false
	}
	plain, err := m.box.Open(raw, []byte(sessionCookie))
	if err != nil || json.Unmarshal(plain, &s) != nil || s.Refresh == "" || s.CSRF == "" {
		return session{}, false
	}
	return s, true
}

// read returns the session the request carries, if its cookie opens.
func (m *sessions) read(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return m.open(ck.Value)
}

// start makes the session of a fresh sign-in, with a new CSRF token.
func (m *sessions) start(t *authn.Tokens) session {
	return session{Access: t.AccessToken, Refresh: t.RefreshToken, CSRF: randomToken(),
		Expires: m.now().Add(time.Duration(t.ExpiresIn) * time.Second).Unix()}
}

// user authenticates s, refreshing its tokens when the access token has
// expired; the session returned is the one to keep (changed when
// refreshed). An error of kind Unauthenticated means signed out.
func (m *sessions) user(ctx context.Context, s session) (*authn.User, session, error) {
	if m.now().Add(refreshEarly).Before(time.Unix(s.Expires, 0)) {
		u, err := m.authn.Authenticate(ctx, s.Access)
		if err == nil || errs.KindOf(err) != errs.KindUnauthenticated {
			return u, s, err
		}
	}
	t, err := m.refresh(ctx, s.Refresh)
	if err != nil {
		return nil, s, err
	}
	s.Access, s.Refresh = t.AccessToken, t.RefreshToken
	s.Expires = m.now().Add(time.Duration(t.ExpiresIn) * time.Second).Unix()
	u, err := m.authn.Authenticate(ctx, s.Access)
	return u, s, err
}

func (m *sessions) refresh(ctx context.Context, token string) (*authn.Tokens, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if t, ok := m.successor(key); ok {
		return t, nil
	}
	v, err, _ := m.flight.Do(key, func() (any, error) {
		if t, ok := m.successor(key); ok {
			return t, nil
		}
		// Others may be waiting on this call: one of them going away
		// must not cancel it for the rest.
		t, err := m.authn.Refresh(context.WithoutCancel(ctx), token)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		now := m.now()
		for k, r := range m.rotated {
			if now.Sub(r.at) > rotationGrace {
				delete(m.rotated, k)
			}
		}
		m.rotated[key] = rotation{tokens: t, at: now}
		m.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*authn.Tokens), nil
}

func (m *sessions) successor(key string) (*authn.Tokens, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rotated[key]
	if !ok || m.now().Sub(r.at) > rotationGrace {
		return nil, false
	}
	return r.tokens, true
}

// cookie is one of the console's cookies: HttpOnly, SameSite=Lax (a link
// from elsewhere opens the console signed in; a form from elsewhere is
// refused by the CSRF check), Secure when the console is served over
// https, scoped to the console's paths.
func (m *sessions) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: Prefix + "/", HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode}
	switch {
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	case maxAge < 0:
		ck.MaxAge = -1
	}
	return ck
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
