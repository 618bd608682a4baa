package idempotency

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/web"
)

// Middleware reads the Idempotency-Key header of a write and puts the
// Request in the request context, for the service's scope.Once. Without
// the header the request passes unchanged.
//
// The fingerprint covers the caller, the route, the org and the raw body:
// the same key from another user, on another route or with another body is
// a different request (a 422 from Once), never a replay of this one, which
// might show that user what their role may not see.
//
// It reads the whole body, so it must come after any web.BodyLimit on the
// route: the limit already in force is what bounds the read.
func Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		values := c.Request.Header.Values(Header)
		if len(values) == 0 {
			c.Next()
			return
		}
		key := strings.TrimSpace(values[0])
		// Two keys on one request leave the retry's meaning to guesswork.
		if len(values) > 1 || !ValidKey(key) {
			web.Fail(c, errs.Validation(errs.Field(Header, "idempotency_key_invalid", nil)))
			return
		}
		var body []byte
		if r := c.Request; r.Body != nil && r.Body != http.NoBody {
			var err error
			body, err = io.ReadAll(r.Body)
			if err != nil {
				// A body over the limit surfaces as *http.MaxBytesError,
				// which web renders as the 413 it is.
				web.Fail(c, err)
				return
			}
			r.Body = readCloser{bytes.NewReader(body), r.Body}
		}
		var user string
		if caller, ok := authz.CallerFrom(c.Request.Context()); ok {
			user = caller.UserID
		}
		req := Request{Key: key, Fingerprint: Fingerprint(user, c.Request.Method, c.FullPath(), c.Param("org"), string(body))}
		c.Request = c.Request.WithContext(With(c.Request.Context(), req))
		c.Next()
	}
}

// readCloser replays the body already read and still closes the original.
type readCloser struct {
	io.Reader
	io.Closer
}
