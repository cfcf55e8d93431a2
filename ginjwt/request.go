package ginjwt

import (
	"encoding/json"
	"fmt"
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
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		return req, fmt.Errorf("%w: unreadable Content-Type", ErrBadRequest)
	}
	switch mediaType {
	case "application/json":
		dec := json.NewDecoder(c.Request.Body)
		if err := dec.Decode(&req); err != nil {
			return req, fmt.Errorf("%w: body is not the expected JSON object: %w", ErrBadRequest, err)
		}
		if dec.More() {
			return req, fmt.Errorf("%w: trailing data after the JSON object", ErrBadRequest)
		}
	case "application/x-www-form-urlencoded":
		if err := c.Request.ParseForm(); err != nil {
			return req, fmt.Errorf("%w: unreadable form: %w", ErrBadRequest, err)
		}
		req.GrantType = c.Request.PostForm.Get("grant_type")
		req.RefreshToken = c.Request.PostForm.Get("refresh_token")
		req.Scope = c.Request.PostForm.Get("scope")
	default:
		return req, fmt.Errorf("%w: Content-Type must be application/json or application/x-www-form-urlencoded", ErrBadRequest)
	}
	return req, nil
}
