package main

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of the app's routes:
// ginjwt's handlers as newRouter mounts them, and the example's own. The
// tests validate every request they make, and its answer, against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// serveOpenAPI serves openAPIDocument at GET /openapi.json.
func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
