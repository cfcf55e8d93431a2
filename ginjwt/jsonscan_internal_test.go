package ginjwt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// jsonSamples are valid and invalid JSON of every kind, seeds of the fuzz
// target.
var jsonSamples = []string{
	`{}`, ` { } `, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `"s"`,
	`{"a":1,"b":[1,2,{"c":null}],"d":"\u00e9\n\"\\\/"}`, `[1,[2,[3,[4]]]]`, "{\"a\":\"\xff\"}",
	`{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `01`, `1.`, `.5`, `-`, `1e`,
	`+1`, `tru`, `nul`, `NaN`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\x01\"", `"unterminated`,
	`{"a":1}x`, `{"a":1} {}`, `{'a':1}`, `{a:1}`, `[1 2]`, `{"a" 1}`, ` `, ``,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// validJSON accepts exactly what json.Valid accepts.
func TestValidJSONMatchesJSONValid(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v; json.Valid = %v", s, got, want)
		}
	}
}

func FuzzScanMatchesJSONValid(f *testing.F) {
	for _, s := range jsonSamples {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v; json.Valid = %v", data, got, want)
		}
		// A claims payload is accepted only if it is valid JSON.
		var c Claims
		if decodeClaims(data, string(data), &c, new([3]jwt.NumericDate)) == nil && string(data) != "null" && !json.Valid(data) {
			t.Fatalf("decodeClaims accepted invalid JSON %q", data)
		}
	})
}

// The cnf claim is an object with a string jkt, read from one unambiguous
// member.
func TestDecodeConfirmation(t *testing.T) {
	for _, tc := range []struct {
		cnf, jkt string
	}{
		{`{"jkt":"abc"}`, "abc"},
		{`{"x5t#S256":"other","jkt":"abc"}`, "abc"},
		{`{"jkt":"a","jkt":"b"}`, ""},
		{`{"jkt":"a","JKT":"b"}`, ""},
		{`{"jk\u0074":"a"}`, ""},
		{`{}`, ""},
		{`{"jkt":7}`, ""},
		{`"abc"`, ""},
		{`[{"jkt":"abc"}]`, ""},
	} {
		var c Claims
		data := []byte(`{"sub":"alice","cnf":` + tc.cnf + `}`)
		err := decodeClaims(data, string(data), &c, new([3]jwt.NumericDate))
		switch {
		case tc.jkt == "" && err == nil:
			t.Errorf("cnf %s accepted: %+v", tc.cnf, c.Confirmation)
		case tc.jkt != "" && (err != nil || c.Confirmation == nil || c.Confirmation.JKT != tc.jkt):
			t.Errorf("cnf %s: %+v, %v; want jkt %q", tc.cnf, c.Confirmation, err, tc.jkt)
		}
	}
}
