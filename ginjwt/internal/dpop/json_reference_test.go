package dpop

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// refParseObject is parseObject as it was first written, on
// encoding/json's token stream: the reference the walker is checked
// against.
func refParseObject(data []byte) (map[string]json.RawMessage, bool) {
	if len(data) == 0 || !utf8.Valid(data) || !validEscapes(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	if err := refCheckObject(dec, 1); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

func refCheckObject(dec *json.Decoder, depth int) error {
	seen := make(map[string]struct{})
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return errJSON
		}
		if _, dup := seen[name]; dup {
			return errJSON
		}
		seen[name] = struct{}{}
		if err := refCheckValue(dec, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

func refCheckValue(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxJSONDepth {
		return errJSON
	}
	switch delim {
	case '{':
		return refCheckObject(dec, depth+1)
	case '[':
		for dec.More() {
			if err := refCheckValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return errJSON
}

// jsonSeeds are objects and near-objects for the walker's tests.
var jsonSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1,"b":2}}`,
	`{"a":[{"b":1},{"b":2}]}`, `{"a":[{"b":1,"b":2}]}`, `{"a":"x\"y","b":"\\"}`, `{"a":1}x`,
	`{"a":1} {}`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `[]`, `"s"`, `{"a":[1,2,]}`, `{"a":tru}`,
	`{"a":1e}`, `{"a":-}`, `{"a":"\ud800\udc00"}`, `{"\ud83d\ude00":1,"😀":2}`,
	`{"a":[[[[[[[1]]]]]]]}`, `{"a":[[[[[[[[1]]]]]]]]}`, `{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}`,
	`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{}}}}}}}}`, `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}`,
	`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"a","y":"b"}}`, `{"a":null,"b":true,"c":false,"d":0.5}`,
	`{"a":"unterminated}`, `{"a`, `{`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":01}`,
}

// The walker accepts and returns exactly what the token-stream reference
// does.
func TestParseObjectMatchesReference(t *testing.T) {
	for _, s := range jsonSeeds {
		checkParseObject(t, []byte(s))
	}
}

func FuzzParseObjectMatchesReference(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParseObject(t, data) })
}

func checkParseObject(t *testing.T, data []byte) {
	t.Helper()
	got, ok := parseObject(data)
	want, wantOK := refParseObject(data)
	if ok != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("parseObject(%q) = %v, %v; the reference gives %v, %v", data, got, ok, want, wantOK)
	}
}
