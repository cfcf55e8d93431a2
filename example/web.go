package main

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// webFiles is the browser demo of the JavaScript client (clients/js): a page,
// its script and style, and in web/jwtguard/ the client's compiled ES
// modules. `npm run build` in clients/js copies them there; they are
// committed, so the example runs without Node.
//
//go:embed web
var webFiles embed.FS

// demoCSP lets the demo page load its own scripts and styles and talk to its
// own origin, and nothing else: no inline script, no third party.
const demoCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// mountWeb serves the browser demo under /demo/ and redirects / to it.
func mountWeb(r *gin.Engine) {
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // cannot happen: web is embedded
	}
	files := http.StripPrefix("/demo", http.FileServer(http.FS(root)))
	serve := func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", demoCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/demo/*file", serve)
	r.HEAD("/demo/*file", serve)
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/demo/") })
}
