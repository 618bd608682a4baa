package console

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
)

// A form posted after its session ended (a phone left in a pocket past
// the idle timeout, a sign-in in another tab that changed the token) is
// not thrown away with a 403: what was typed is kept in a sealed cookie,
// the person signs in and is sent back to the page the form was on, and
// the page fills the form again for them to check and send. Nothing is
// ever sent on their behalf: a state-changing POST replayed without the
// person seeing it would be the very thing CSRF protection is for.
const (
	stashCookie = "wanjia_stash"
	// stashLife is how long typed input waits for its person to sign in.
	// Short: on a shared office PC the next person must not find it.
	stashLife = 30 * time.Minute
	// stashMax bounds the sealed cookie (browsers keep 4 KiB a cookie);
	// longer input keeps the way back but not the fields.
	stashMax = 3800
)

// stash is what the cookie holds.
type stash struct {
	Action string              `json:"a"` // the form's action (path and query)
	Return string              `json:"r"` // the page the form was on
	User   string              `json:"u,omitempty"`
	Fields map[string][]string `json:"f,omitempty"`
	Lost   bool                `json:"l,omitempty"` // too long to keep
	Htmx   bool                `json:"h,omitempty"` // an htmx request: no form to fill
	At     int64               `json:"t"`
}

// Restored is a stash back on its page, for the layout to show: a notice
// and the fields the page's script puts back into the form.
type Restored struct {
	Action string
	Fields string // JSON of the fields
	Lost   bool
	Htmx   bool
}

func (m *sessions) sealStash(s stash) string {
	plain, _ := json.Marshal(s)
	return base64.RawURLEncoding.EncodeToString(m.box.Seal(plain, []byte(stashCookie)))
}

func (m *sessions) openStash(r *http.Request) (stash, bool) {
	var s stash
	ck, err := r.Cookie(stashCookie)
	if err != nil {
		return s, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return s, false
	}
	plain, err := m.box.Open(raw, []byte(stashCookie))
	if err != nil || json.Unmarshal(plain, &s) != nil || s.Return == "" {
		return stash{}, false
	}
	return s, true
}

// sameOrigin reports a request a page of this site made. A cross-site
// form is still refused with a 403: it must not even get to pre-fill a
// form the person might send without reading.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// keepForm answers an unsafe request refused by the CSRF check, when it
// is a form of this site whose session ended (signed out) or whose token
// is an earlier session's (signed in again meanwhile): the input goes in
// the stash and the person to sign-in, then back to the form's page. It
// reports whether it answered; anything else stays a 403.
func (c *Console) keepForm(g *gin.Context, signedIn bool, token string) bool {
	r := g.Request
	if r.Method != http.MethodPost || !sameOrigin(r) || isPublic(r.URL.Path) ||
		r.URL.Path == Prefix+"/login" || r.URL.Path == Prefix+"/logout" {
		return false
	}
	// Signed in and no token at all is no stale page: something else
	// made this request.
	if signedIn && token == "" {
		return false
	}
	s := stash{Action: r.URL.RequestURI(), Return: returnTo(r), Htmx: g.GetHeader("HX-Request") != "", At: c.sessions.now().Unix()}
	if u, ok := authn.UserFrom(r.Context()); ok {
		s.User = u.ID
	} else if old, ok := c.sessions.read(r); ok {
		s.User = old.User // the session that ended: only its person gets the input back
	}
	if strings.HasPrefix(g.ContentType(), "application/x-www-form-urlencoded") && r.ParseForm() == nil {
		s.Fields = map[string][]string{}
		for k, v := range r.PostForm {
			if k != "csrf" && k != "idempotency_key" {
				s.Fields[k] = v
			}
		}
	}
	v := c.sessions.sealStash(s)
	if len(v) > stashMax {
		s.Fields, s.Lost = nil, true
		v = c.sessions.sealStash(s)
	}
	http.SetCookie(g.Writer, c.sessions.cookie(stashCookie, v, stashLife))
	target := s.Return
	if !signedIn {
		target = Prefix + "/login?next=" + url.QueryEscape(s.Return)
	}
	if s.Htmx {
		g.Header("HX-Redirect", target)
		g.AbortWithStatus(http.StatusUnauthorized)
		return true
	}
	g.Redirect(http.StatusSeeOther, target)
	g.Abort()
	return true
}

// returnTo is the page the form was on: the Referer (sent within the site,
// Referrer-Policy same-origin), htmx's current URL, or the console's start.
func returnTo(r *http.Request) string {
	for _, h := range []string{r.Header.Get("Referer"), r.Header.Get("HX-Current-URL")} {
		u, err := url.Parse(h)
		if h == "" || err != nil || u.Host != r.Host {
			continue
		}
		if next := safeNext(u.RequestURI()); next != Prefix+"/" && !strings.HasPrefix(next, Prefix+"/login") {
			return next
		}
	}
	return Prefix + "/"
}

const keyRestored = "console.restored"

// restoreForm gives a stash back to its page: the first full page load of
// the page it returns to, by the person it was kept for. It is used once;
// an old one, or one kept for someone else, is dropped.
func (c *Console) restoreForm(g *gin.Context) {
	if g.Request.Method != http.MethodGet || g.GetHeader("HX-Request") != "" {
		g.Next()
		return
	}
	s, ok := c.sessions.openStash(g.Request)
	if !ok {
		if _, err := g.Request.Cookie(stashCookie); err == nil {
			http.SetCookie(g.Writer, c.sessions.cookie(stashCookie, "", -1))
		}
		g.Next()
		return
	}
	u, _ := authn.UserFrom(g.Request.Context())
	stale := c.sessions.now().Sub(time.Unix(s.At, 0)) > stashLife || (s.User != "" && u != nil && s.User != u.ID)
	if stale || s.Return == g.Request.URL.RequestURI() {
		http.SetCookie(g.Writer, c.sessions.cookie(stashCookie, "", -1))
	}
	if !stale && s.Return == g.Request.URL.RequestURI() {
		fields, _ := json.Marshal(s.Fields)
		g.Set(keyRestored, &Restored{Action: s.Action, Fields: string(fields), Lost: s.Lost, Htmx: s.Htmx})
	}
	g.Next()
}

func restoredOf(g *gin.Context) *Restored {
	if v, ok := g.Get(keyRestored); ok {
		r, _ := v.(*Restored)
		return r
	}
	return nil
}
