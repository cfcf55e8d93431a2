package ginjwt

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// decodeTokenRequest reads what encoding/json would, and refuses bodies two
// readers could read differently.
func TestDecodeTokenRequest(t *testing.T) {
	for _, tc := range []struct {
		body string
		want tokenRequest
		ok   bool
	}{
		{`{"grant_type":"refresh_token","refresh_token":"a.b.c","scope":"others"}`, tokenRequest{"refresh_token", "a.b.c", "others"}, true},
		{` { "refresh_token" : "a.b.c" } `, tokenRequest{RefreshToken: "a.b.c"}, true},
		{`{"refresh_token":"a\u002eb.c","other":[1,{"x":null}],"n":2}`, tokenRequest{RefreshToken: "a.b.c"}, true},
		{`{"refresh_token":null,"scope":null}`, tokenRequest{}, true},
		{`null`, tokenRequest{}, true},
		{`{}`, tokenRequest{}, true},
		{`{"refresh_token":"a","refresh_token":"b"}`, tokenRequest{}, false}, // named twice
		{`{"refresh_token":"a","Refresh_Token":"b"}`, tokenRequest{}, false}, // another case
		{`{"REFRESH_TOKEN":"a"}`, tokenRequest{}, false},                     // encoding/json would take it
		{`{"refresh\u005ftoken":"a"}`, tokenRequest{}, false},                // escaped name
		{`{"refresh_token":5}`, tokenRequest{}, false},                       // not a string
		{`{"refresh_token":"a"} {}`, tokenRequest{}, false},                  // trailing data
		{`{"refresh_token":"a"`, tokenRequest{}, false},                      // truncated
		{`["refresh_token"]`, tokenRequest{}, false},                         // not an object
		{"{\"refresh_token\":\"a\",\"x\":\"\xff\"}", tokenRequest{}, false},  // invalid UTF-8
		{`{"refresh_token":"a",}`, tokenRequest{}, false},                    // trailing comma
	} {
		var got tokenRequest
		err := decodeTokenRequest([]byte(tc.body), &got)
		if (err == nil) != tc.ok || got != tc.want && tc.ok {
			t.Errorf("decodeTokenRequest(%s) = %+v, %v; want %+v, ok %v", tc.body, got, err, tc.want, tc.ok)
		}
	}
}

// A body that a middleware replaced, leaving a stale ContentLength (gzip
// decompression), is read to its end all the same.
func TestReadBodyIgnoresStaleLength(t *testing.T) {
	body := `{"refresh_token":"` + strings.Repeat("x", 300) + `"}`
	for _, stated := range []int64{10, int64(len(body)), 5000} {
		r := httptest.NewRequest("POST", "/auth/refresh", strings.NewReader(body))
		r.ContentLength = stated
		got, err := readBody(r)
		if err != nil || string(got) != body {
			t.Errorf("ContentLength %d: readBody = %d bytes, %v; want the %d bytes", stated, len(got), err, len(body))
		}
	}
}
