package server

import (
	"fmt"

	"github.com/labstack/echo/v4"
)

// recovered runs next and turns a panic anywhere below it (routing, the operational
// endpoints, any step) into a 500 in the envelope, logged with the request id; the server
// goes on. Within an operation the contract engine recovers first, so that the 500 is
// validated and counted like any other response of the operation.
func recovered(c echo.Context, next func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s %s: %v", c.Request().Method, c.Path(), r)
		}
	}()
	return next()
}
