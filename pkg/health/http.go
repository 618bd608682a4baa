package health

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/web"
)

// Routes mounts /healthz and /readyz.
func Routes(r gin.IRoutes, c *Checker) {
	r.GET("/healthz", func(ctx *gin.Context) {
		ctx.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(ctx *gin.Context) {
		rep := c.Check(ctx.Request.Context())
		status, code := "ok", http.StatusOK
		if !rep.Ready {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
		body := gin.H{"status": status, "checks": rep.Checks}
		if rep.Scheduler != nil {
			body["scheduler"] = rep.Scheduler
		}
		if !rep.Ready {
			// Also the API's error shape, so a client that only knows that
			// shape still learns which dependency failed.
			var details []gin.H
			for _, name := range rep.Failed() {
				details = append(details, gin.H{"field": name, "message": i18n.T(web.Lang(ctx), "unavailable", nil)})
			}
			body["error"] = gin.H{"code": "unavailable", "message": i18n.T(web.Lang(ctx), "unavailable", nil), "details": details}
		}
		ctx.JSON(code, body)
	})
}
