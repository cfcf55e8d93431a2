package ginjwt

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
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
		if decodeClaims(data, string(data), new(claimsBlock)) == nil && string(data) != "null" && !json.Valid(data) {
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
		var b claimsBlock
		c := &b.claims
		data := []byte(`{"sub":"alice","cnf":` + tc.cnf + `}`)
		err := decodeClaims(data, string(data), &b)
		switch {
		case tc.jkt == "" && err == nil:
			t.Errorf("cnf %s accepted: %+v", tc.cnf, c.Confirmation)
		case tc.jkt != "" && (err != nil || c.Confirmation == nil || c.Confirmation.JKT != tc.jkt):
			t.Errorf("cnf %s: %+v, %v; want jkt %q", tc.cnf, c.Confirmation, err, tc.jkt)
		}
	}
}

// Lists of a decoded token share the claims' own room while it lasts and
// spill over to their own memory after; each is capped at its length, so
// appending to one never writes into another.
func TestDecodedListsAreIndependent(t *testing.T) {
	for _, tc := range []struct {
		payload         string
		aud, roles, amr []string
	}{
		{`{"aud":"a"}`, []string{"a"}, nil, nil},
		{`{"aud":["a","b"],"roles":["r"],"amr":["m","n"]}`, []string{"a", "b"}, []string{"r"}, []string{"m", "n"}},
		{`{"aud":["a","b","c"],"roles":["r1","r2","r3","r4"],"amr":["m1","m2","m3"]}`,
			[]string{"a", "b", "c"}, []string{"r1", "r2", "r3", "r4"}, []string{"m1", "m2", "m3"}},
		{`{"roles":["1","2","3","4","5","6","7","8","9"],"aud":"a","amr":[]}`,
			[]string{"a"}, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, nil},
		{`{"amr":["1","2","3","4","5","6","7"],"roles":["x","y"],"aud":"a"}`,
			[]string{"a"}, []string{"x", "y"}, []string{"1", "2", "3", "4", "5", "6", "7"}},
	} {
		var b claimsBlock
		data := []byte(tc.payload)
		if err := decodeClaims(data, string(data), &b); err != nil {
			t.Fatalf("%s: %v", tc.payload, err)
		}
		c := &b.claims
		check := func(when string) {
			if !reflect.DeepEqual([]string(c.Audience), tc.aud) || !reflect.DeepEqual(c.Roles, tc.roles) || !reflect.DeepEqual(c.AMR, tc.amr) {
				t.Fatalf("%s %s: aud %q roles %q amr %q", tc.payload, when, c.Audience, c.Roles, c.AMR)
			}
		}
		check("decoded")
		lists := []*[]string{(*[]string)(&c.Audience), &c.Roles, &c.AMR}
		for _, l := range lists {
			if len(*l) != cap(*l) {
				t.Fatalf("%s: a list of %d has room for %d", tc.payload, len(*l), cap(*l))
			}
		}
		for _, l := range lists {
			_ = append(*l, "appended") // a neighbour's string, were there room
		}
		check("after appending")
	}
}
