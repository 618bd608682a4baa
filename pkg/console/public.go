package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// PublicPrefix is where pages for people without an account live: the
// resident's check-in link, /r/{token}. They have no session and no menu;
// the link's token is their only credential.
const PublicPrefix = "/r"

// publicCookie carries the public forms' CSRF token (double submit, as
// the sign-in form's loginCookie), and publicLangCookie the reader's
// choice of language there; both only under PublicPrefix.
const (
	publicCookie     = "wanjia_r"
	publicLangCookie = "wanjia_r_lang"
)

// PublicPages are a page package's pages outside the console's session
// (the resident's link page). The core mounts them on PublicPrefix with
// its error pages, security headers and CSRF check; MountPublic
// registers them on r.
type PublicPages interface {
	MountPublic(r *gin.RouterGroup, k *Kit)
}

func isPublic(p string) bool { return strings.HasPrefix(p, PublicPrefix+"/") }

// PublicCSRF is the CSRF token for a public page's forms: the token of
// the browser's cookie, or a fresh one set now. checkCSRF compares what a
// form posts with the cookie; a cross-site form can set neither.
func (k *Kit) PublicCSRF(g *gin.Context) string {
	if ck, err := g.Request.Cookie(publicCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	token := randomToken()
	http.SetCookie(g.Writer, k.publicCookie(publicCookie, token, 24*time.Hour))
	return token
}

// PublicLang is a public page's language: ?lang= (kept for a year), the
// cookie it set, then Accept-Language, Chinese by default.
func (k *Kit) PublicLang(g *gin.Context) i18n.Lang {
	switch l := g.Query("lang"); l {
	case string(i18n.EN), string(i18n.ZH):
		http.SetCookie(g.Writer, k.publicCookie(publicLangCookie, l, 365*24*time.Hour))
		return i18n.Lang(l)
	}
	if ck, err := g.Request.Cookie(publicLangCookie); err == nil {
		switch ck.Value {
		case string(i18n.EN):
			return i18n.EN
		case string(i18n.ZH):
			return i18n.ZH
		}
	}
	return Lang(g)
}

// publicCookie is a cookie of the public pages: as the console's, but
// under PublicPrefix, so neither side sees the other's.
func (k *Kit) publicCookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := k.c.sessions.cookie(name, value, maxAge)
	ck.Path = PublicPrefix + "/"
	return ck
}
