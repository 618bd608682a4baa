// Package residentpages is the resident's own page, /r/{token}: the link
// a resident under isolation gets by SMS when their case opens. With no
// account and no menu, on a phone, in Chinese first: today's check-in
// (temperature and symptoms), a request for help, and the day the
// isolation ends. The token is the only credential; an unknown, forged
// or expired one is the same 404. Every rule is pkg/isolation's
// (ByLink, SelfCheckin, SelfSupport); this package renders, limits the
// rate per link and per address, and carries the forms' CSRF token and
// idempotency key.
package residentpages

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/web"
)

//go:embed templates/*.html
var templates embed.FS

// Pages is the resident's page over isolation's service.
type Pages struct {
	svc   *isolation.Service
	redis *queue.Redis
	// Limits are the rate limits (DefaultLimits unless changed before the
	// console is built).
	Limits Limits
	lim    limiter
	k      *console.Kit
}

// New makes the resident's page; r (nil: in-process only) holds the rate
// limits' counts.
func New(svc *isolation.Service, r *queue.Redis) *Pages {
	return &Pages{svc: svc, redis: r, Limits: DefaultLimits}
}

// Mount registers the templates; the page itself is public (MountPublic).
func (p *Pages) Mount(_ *authz.OrgRoutes, k *console.Kit) {
	p.k = k
	k.Templates("residentpages", templates, nil)
}

// MountPublic registers /r/{token} and its two forms.
func (p *Pages) MountPublic(r *gin.RouterGroup, k *console.Kit) {
	p.k = k
	if p.redis != nil && p.redis.Client != nil {
		p.lim.redis = redis_rate.NewLimiter(p.redis.Client)
	}
	g := r.Group("/:token", p.limit)
	g.GET("", p.page)
	g.POST("/checkin", p.checkin)
	g.POST("/help", p.help)
}

// limit counts the request against its address, then its link; over
// either, a 429 page says when to come back.
func (p *Pages) limit(g *gin.Context) {
	ctx := g.Request.Context()
	ok, wait := p.lim.allow(ctx, key("ip", g.ClientIP()), p.Limits.PerAddress)
	if ok {
		ok, wait = p.lim.allow(ctx, key("token", g.Param("token")), p.Limits.PerToken)
	}
	if !ok {
		secs := int(wait.Seconds()) + 1
		g.Header("Retry-After", fmt.Sprint(secs))
		v := p.base(g)
		v.Base = ""
		p.k.Fragment(g, http.StatusTooManyRequests, "resident", "resident-busy", v)
		g.Abort()
		return
	}
	g.Next()
}

// view is what the page's templates read.
type view struct {
	Lang    i18n.Lang
	Base    string // /r/{token}: the page, and its forms below it
	CSRF    string
	Key     string // the forms' idempotency key
	Done    string // "checkin", "fever", "help": what was just recorded
	Case    *isolation.ResidentView
	Typed   string          // the temperature as typed, shown again with its error
	Checked map[string]bool // the symptoms ticked
	Errors  map[string]string
	Kind    string // the help asked for, shown again with its error
	Details string
}

// T is the catalogue's text in the reader's language.
func (v *view) T(key string, args ...any) string {
	var m map[string]any
	if len(args) > 1 {
		m = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			m[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return i18n.T(v.Lang, key, m)
}

// EN reports whether the page is in English (the switch shows the other).
func (v *view) EN() bool { return v.Lang == i18n.EN }

func (p *Pages) base(g *gin.Context) *view {
	return &view{Lang: p.k.PublicLang(g), Base: console.PublicPrefix + "/" + url.PathEscape(g.Param("token"))}
}

// missing is the one answer for an unknown, forged or expired link: the
// same page, status and headers whichever it was.
func (p *Pages) missing(g *gin.Context) {
	v := p.base(g)
	v.Base = "" // nothing of the token on it, not even the language switch
	p.k.Fragment(g, http.StatusNotFound, "resident", "resident-missing", v)
}

// ctx is the request's context with its address and request id for the
// audit log (isolation adds the resident and the community).
func ctx(g *gin.Context) context.Context {
	return audit.WithActor(g.Request.Context(), audit.Actor{IP: g.ClientIP(), Request: web.RequestID(g)})
}

// find is the link of the request, or the 404 page (false).
func (p *Pages) find(g *gin.Context) (*isolation.Link, bool) {
	l, err := p.svc.ByLink(g.Request.Context(), g.Param("token"))
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			p.missing(g)
		} else {
			web.Fail(g, err)
		}
		return nil, false
	}
	return l, true
}

func (p *Pages) page(g *gin.Context) {
	l, ok := p.find(g)
	if !ok {
		return
	}
	v := p.base(g)
	switch d := g.Query("done"); d {
	case "checkin", "fever", "help":
		v.Done = d
	}
	p.render(g, l, v, http.StatusOK)
}

// render shows the page with v's flash or errors; a link that died
// meanwhile is the 404.
func (p *Pages) render(g *gin.Context, l *isolation.Link, v *view, status int) {
	rv, err := p.svc.LinkPage(ctx(g), l)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			p.missing(g)
			return
		}
		web.Fail(g, err)
		return
	}
	v.Case, v.CSRF, v.Key = rv, p.k.PublicCSRF(g), console.NewKey()
	if v.Checked == nil {
		v.Checked = map[string]bool{}
	}
	p.k.Fragment(g, status, "resident", "resident-page", v)
}

// once makes ctx carry the form's idempotency key: a form sent twice (a
// double tap, a resend on a weak signal) is recorded once.
func once(g *gin.Context, ctx context.Context) context.Context {
	k := strings.TrimSpace(g.PostForm("idempotency_key"))
	if !idempotency.ValidKey(k) {
		return ctx
	}
	vals := url.Values{}
	for name, v := range g.Request.PostForm {
		if name != "csrf" {
			vals[name] = v
		}
	}
	return idempotency.With(ctx, idempotency.Request{Key: k, Fingerprint: idempotency.Fingerprint("resident", g.Request.URL.Path, vals.Encode())})
}

func (p *Pages) checkin(g *gin.Context) {
	l, ok := p.find(g)
	if !ok {
		return
	}
	temp := strings.TrimSpace(g.PostForm("temperature"))
	symptoms := g.PostFormArray("symptoms")
	k, err := p.svc.SelfCheckin(once(g, ctx(g)), l, temp, symptoms)
	if err == nil {
		done := "checkin"
		if k.AlertID != "" || k.Temperature >= float64(isolation.FeverTemperature)/10 || len(k.Symptoms) > 0 {
			done = "fever"
		}
		g.Redirect(http.StatusSeeOther, p.base(g).Base+"?done="+done)
		return
	}
	if console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, p.base(g).Base)
		return
	}
	v := p.base(g)
	v.Typed, v.Checked = temp, map[string]bool{}
	for _, s := range symptoms {
		v.Checked[s] = true
	}
	p.failed(g, l, v, err)
}

func (p *Pages) help(g *gin.Context) {
	l, ok := p.find(g)
	if !ok {
		return
	}
	kind, details := g.PostForm("kind"), g.PostForm("details")
	_, err := p.svc.SelfSupport(once(g, ctx(g)), l, kind, details)
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, p.base(g).Base+"?done=help")
		return
	}
	v := p.base(g)
	v.Kind, v.Details = kind, details
	p.failed(g, l, v, err)
}

// failed shows a refused form again with its errors (422); a link that
// died meanwhile is the 404; anything else is the console's error page.
func (p *Pages) failed(g *gin.Context, l *isolation.Link, v *view, err error) {
	var e *errs.Error
	switch {
	case errs.KindOf(err) == errs.KindNotFound:
		p.missing(g)
	case errors.As(err, &e) && e.Kind == errs.KindValidation:
		v.Errors = map[string]string{}
		for _, f := range e.Fields {
			field := f.Field
			if i := strings.IndexByte(field, '['); i > 0 {
				field = field[:i]
			}
			v.Errors[field] = i18n.T(v.Lang, f.Key, f.Args)
		}
		p.render(g, l, v, http.StatusUnprocessableEntity)
	default:
		web.Fail(g, err)
	}
}
