package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The browser demo and the client modules it imports are served from the
// embedded files, under a strict Content-Security-Policy.
func TestDemoPage(t *testing.T) {
	c := startApp(t, config{secret: testSecret})
	httpc := c.srv.Client()
	httpc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := httpc.Get(c.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, _ := get("/")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/demo/" {
		t.Fatalf("GET /: %d to %q, want a redirect to /demo/", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := get("/demo/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<script type="module" src="app.js">`) {
		t.Fatalf("GET /demo/: %d\n%s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, path := range []string{"/demo/app.js", "/demo/style.css", "/demo/jwtguard/index.js", "/demo/jwtguard/client.js"} {
		res, body := get(path)
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", path, res.StatusCode, len(body))
		}
		if strings.HasSuffix(path, ".js") && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET %s: Content-Type %q, want JavaScript for a module script", path, res.Header.Get("Content-Type"))
		}
	}
	if _, body := get("/demo/jwtguard/index.js"); !strings.Contains(body, "createClient") {
		t.Error("the embedded client does not export createClient: run npm run build in clients/js")
	}
}
