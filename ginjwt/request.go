package ginjwt

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
)

// maxFormBodySize bounds the body of refresh and logout requests, which only
// carry a token and a few short fields.
const maxFormBodySize = 16 << 10

// tokenRequest is the body of refresh and logout requests, in JSON or as an
// HTML form (RFC 6749 §6: grant_type=refresh_token&refresh_token=…).
type tokenRequest struct {
	GrantType    string `json:"grant_type" form:"grant_type"`
	RefreshToken string `json:"refresh_token" form:"refresh_token"`
	Scope        string `json:"scope" form:"scope"`
}

// readTokenRequest reads the body of a refresh or logout request. An empty
// body gives an empty request; anything that is neither JSON nor a form, or
// does not parse, wraps ErrBadRequest.
func readTokenRequest(c *gin.Context) (tokenRequest, error) {
	var req tokenRequest
	if c.Request.Body == nil || c.Request.Body == http.NoBody || c.Request.ContentLength == 0 {
		return req, nil
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBodySize)
	switch mediaType(c.GetHeader("Content-Type")) {
	case "application/json":
		body, err := readBody(c.Request)
		if err != nil {
			return req, fmt.Errorf("%w: unreadable body: %w", ErrBadRequest, err)
		}
		if err := decodeTokenRequest(body, &req); err != nil {
			return req, fmt.Errorf("%w: body is not the expected JSON object: %w", ErrBadRequest, err)
		}
	case "application/x-www-form-urlencoded":
		if err := c.Request.ParseForm(); err != nil {
			return req, fmt.Errorf("%w: unreadable form: %w", ErrBadRequest, err)
		}
		req.GrantType = c.Request.PostForm.Get("grant_type")
		req.RefreshToken = c.Request.PostForm.Get("refresh_token")
		req.Scope = c.Request.PostForm.Get("scope")
	case "":
		return req, fmt.Errorf("%w: unreadable Content-Type", ErrBadRequest)
	default:
		return req, fmt.Errorf("%w: Content-Type must be application/json or application/x-www-form-urlencoded", ErrBadRequest)
	}
	return req, nil
}

// mediaType returns the media type of a Content-Type header, lower case,
// or "" when the header does not parse. The two types the token routes
// take, without parameters, need no parsing.
func mediaType(contentType string) string {
	switch contentType {
	case "application/json", "application/x-www-form-urlencoded":
		return contentType
	}
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return t
}

// readBody reads a request body to its end, through the reader that bounds
// its size. The stated length only sizes the first buffer: a middleware
// that replaced the body (decompression) may have left it stale.
func readBody(r *http.Request) ([]byte, error) {
	size := 512
	if n := r.ContentLength; n > 0 && n < maxFormBodySize {
		size = int(n) + 1 // one more byte, to see the end without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// tokenRequestNames are the members of a JSON token request.
var tokenRequestNames = newMemberNames(errTokenRequestNames, []byte("grant_type"), []byte("refresh_token"), []byte("scope"))

var errTokenRequestNames = errors.New("duplicate, case-colliding or escaped member names")

// decodeTokenRequest decodes a JSON token request: an object (or null)
// whose grant_type, refresh_token and scope are strings or null; other
// members are ignored. Unlike encoding/json it refuses a member named
// twice or in another case ({"refresh_token":…,"Refresh_Token":…}), so
// that no two readers can take different tokens from one body.
func decodeTokenRequest(body []byte, req *tokenRequest) error {
	if start, end := skipSpace(body, 0), trimSpaceEnd(body); start < end && string(body[start:end]) == "null" {
		return nil
	}
	m, err := walkMembers(body, tokenRequestNames, false)
	if err != nil {
		return err
	}
	src := string(body) // one copy; the fields are slices of it
	for {
		name, i, j, done, err := m.next()
		if done || err != nil {
			return err
		}
		var field *string
		switch string(name) {
		case "grant_type":
			field = &req.GrantType
		case "refresh_token":
			field = &req.RefreshToken
		case "scope":
			field = &req.Scope
		default:
			continue
		}
		if v := src[i:j]; v != "null" {
			if *field, err = jsonString(v); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
}

// trimSpaceEnd returns the length of data without its trailing JSON white
// space.
func trimSpaceEnd(data []byte) int {
	n := len(data)
	for n > 0 && isSpace(data[n-1]) {
		n--
	}
	return n
}
