package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

// Offline at the door: the call, door and check-in lists work without a
// network. The pieces:
//
//   - static/sw.js, served as /console/sw.js so its scope is the console.
//     It caches nothing by itself: the page puts the offline shell and the
//     static assets in its cache when the worker downloads the lists, and
//     the worker answers a failed navigation to a list with that shell.
//     Pages are fetched from the network first, always.
//   - static/offline.js keeps the downloaded lists and the records made
//     offline in IndexedDB, each record with its idempotency key, and sends
//     them to the pages' own form endpoints (session cookie and CSRF) when
//     the network is back, with the X-Wanjia-Offline header: the page then
//     answers JSON (OfflineAnswer) instead of a redirect, so a refusal is
//     listed with its reason. A resend of the same key is stored once
//     (idempotency, through Once).
//   - Only a caller who may record (attempts write: grid workers and
//     community staff, never officials) is offered it: the shell, the
//     downloads and the worker's registration are theirs alone.
//   - Signing out answers Clear-Site-Data (cache, storage) and the sign-in
//     page it leads to runs static/signout.js, which deletes the database
//     and the caches and unregisters the worker, for browsers without the
//     header.

// OfflinePerm is the permission the offline lists need: the right to
// record at the door.
var OfflinePerm = authz.Perm{Resource: "attempts", Action: "write"}

// offlineHeader marks a request sent by offline.js's sync.
const offlineHeader = "X-Wanjia-Offline"

// OfflineRequest reports a form post replayed by offline.js.
func OfflineRequest(g *gin.Context) bool { return g.GetHeader(offlineHeader) == "1" }

// OfflineAnswer answers a replayed form post: stored (or stored before,
// the same key) is 200 {"stored": true}; a refusal the worker must see (a
// 4xx) is its status with the reason in the reader's language; an outage
// (5xx) is the error page, which offline.js keeps the record for.
func OfflineAnswer(g *gin.Context, err error) {
	if err == nil || ReusedKey(err) {
		g.JSON(http.StatusOK, gin.H{"stored": true})
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) || web.Status(e.Kind) >= 500 {
		web.Fail(g, err)
		return
	}
	l := Lang(g)
	st := NewFormState(l, e)
	parts := []string{}
	if st.Message != "" {
		parts = append(parts, st.Message)
	}
	fields := make([]string, 0, len(st.Fields))
	for f := range st.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		parts = append(parts, st.Fields[f])
	}
	if len(parts) == 0 {
		parts = append(parts, i18n.T(l, e.MessageKey(), e.Args))
	}
	g.JSON(web.Status(e.Kind), gin.H{"stored": false, "reason": strings.Join(parts, "；")})
}

// serveWorker serves the service worker from the console's root, so its
// scope is every console page; it holds no data and is fetched fresh.
func serveWorker(g *gin.Context) {
	b, err := staticFS.ReadFile("static/sw.js")
	if err != nil {
		g.Status(http.StatusNotFound)
		return
	}
	g.Header("Cache-Control", "no-cache")
	g.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// OfflineText is the words offline.js shows, in the reader's language,
// as JSON for the offline bar's data-t.
func (f *Frame) OfflineText() string {
	text := make(map[string]string, len(offlineText)+10)
	for k, key := range offlineText {
		text[k] = i18n.T(f.Lang, key, nil)
	}
	for _, m := range []string{"phone", "visit"} {
		for _, o := range []string{"reached", "no_answer", "wrong_number", "refused", "moved_out"} {
			text[m+"."+o] = i18n.T(f.Lang, "console.outcome."+m+"."+o, nil)
		}
	}
	b, _ := json.Marshal(text)
	return string(b)
}

// OfflineListsJSON are the lists the page's download button fetches.
func (f *Frame) OfflineListsJSON() string {
	b, _ := json.Marshal(f.OfflineLists)
	if f.OfflineLists == nil {
		b = []byte("[]")
	}
	return string(b)
}

// offlineText are the catalogue keys offline.js uses, by its short names.
var offlineText = map[string]string{
	"waiting": "console.offline.waiting", "failed": "console.offline.failed", "empty": "console.offline.empty",
	"recorded": "console.offline.recorded", "checkins": "console.offline.checkins", "checkin": "console.offline.checkin",
	"temperature": "console.offline.temperature", "downloaded": "console.offline.downloaded", "offline": "console.offline.is_offline",
	"signin": "console.offline.signin", "members": "console.card.members",
	"lost": "console.offline.signout_lost", "dismiss": "console.offline.dismiss", "error": "console.offline.download_failed",
	"checked": "console.offline.checked_today", "calls": "console.calls.title", "visits": "console.visits.title",
}

// offlineShell is the page the service worker answers a list with when
// the network is down: the frame and offline.js, which draws the lists
// from IndexedDB. It holds no resident's data itself.
func (c *Console) offlineShell(g *gin.Context) {
	f := c.frameFor(g)
	f.Title, f.Offline, f.NoHtmx = "console.offline.title", true, true
	c.render(g, http.StatusOK, "offline", f)
}

// offlineSession is the session's CSRF token, which offline.js fetches
// before sending what waits: the shell it was drawn in may be older than
// the session. A signed-out caller is sent to the sign-in page instead.
func (c *Console) offlineSession(g *gin.Context) {
	s, _ := sessionOf(g)
	g.JSON(http.StatusOK, gin.H{"csrf": s.CSRF})
}
