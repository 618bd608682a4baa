package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The handler adapter: every JSON route of every domain is one service
// call between binding and rendering, so handlers stay one line and the
// services stay plain Go. Errors go to Fail, which maps them to the API's
// error shape in one place.

// NoBody is the input of a handler that reads no JSON body.
type NoBody struct{}

// Handle binds the JSON body into In (unless In is NoBody), calls call and
// answers status with its result.
func Handle[In, Out any](status int, call func(c *gin.Context, in In) (Out, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		if _, none := any(in).(NoBody); !none {
			if err := BindJSON(c, &in); err != nil {
				Fail(c, err)
				return
			}
		}
		out, err := call(c, in)
		if err != nil {
			Fail(c, err)
			return
		}
		OK(c, status, out)
	}
}

// Create answers 201 with what call made of the body.
func Create[In, Out any](call func(ctx context.Context, in In) (Out, error)) gin.HandlerFunc {
	return Handle(http.StatusCreated, func(c *gin.Context, in In) (Out, error) { return call(c.Request.Context(), in) })
}

// Read answers 200 with the record named by the path's :id.
func Read[Out any](call func(ctx context.Context, id string) (Out, error)) gin.HandlerFunc {
	return Handle(http.StatusOK, func(c *gin.Context, _ NoBody) (Out, error) { return call(c.Request.Context(), c.Param("id")) })
}

// Update answers 200 with the record named by :id after applying the body.
func Update[In, Out any](call func(ctx context.Context, id string, in In) (Out, error)) gin.HandlerFunc {
	return Handle(http.StatusOK, func(c *gin.Context, in In) (Out, error) { return call(c.Request.Context(), c.Param("id"), in) })
}

// Remove answers 204 once call has removed the record named by :id.
func Remove(call func(ctx context.Context, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := call(c.Request.Context(), c.Param("id")); err != nil {
			Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// Paged answers a page of a list: filter reads the query (with the page
// already parsed), call lists.
func Paged[F, T any](filter func(c *gin.Context, p Page) (F, error), call func(ctx context.Context, f F) ([]T, string, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := ParsePage(c)
		if err != nil {
			Fail(c, err)
			return
		}
		f, err := filter(c, p)
		if err != nil {
			Fail(c, err)
			return
		}
		items, next, err := call(c.Request.Context(), f)
		if err != nil {
			Fail(c, err)
			return
		}
		OK(c, http.StatusOK, NewList(items, next))
	}
}

// All answers a whole, short list (an org's grids, its members).
func All[T any](call func(c *gin.Context) ([]T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		items, err := call(c)
		if err != nil {
			Fail(c, err)
			return
		}
		OK(c, http.StatusOK, NewList(items, ""))
	}
}
