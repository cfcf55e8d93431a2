package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting in a header or claims object. A proof needs
// two levels (the jwk object inside the header); the limit only keeps the
// duplicate-member walk shallow.
const maxJSONDepth = 8

var errJSON = errors.New("bad JSON")

// parseObject decodes data as exactly one JSON object and returns its
// members by exact, case-sensitive name. It refuses invalid UTF-8 and
// escaped lone surrogates (which encoding/json would turn into U+FFFD),
// duplicate member names at any depth (compared after unescaping, so "typ"
// and "t\u0079p" collide) and anything after the object.
//
// Members are looked up by exact name, never through encoding/json's
// case-insensitive struct matching, so "TYP" is just an unknown member.
func parseObject(data []byte) (map[string]json.RawMessage, bool) {
	if len(data) == 0 || !utf8.Valid(data) || !validEscapes(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	if err := checkObject(dec, 1); err != nil {
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

// checkObject walks the members of an object whose '{' has been read,
// up to and including its '}'.
func checkObject(dec *json.Decoder, depth int) error {
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
		if err := checkValue(dec, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// checkValue walks one value, refusing duplicate names in nested objects.
func checkValue(dec *json.Decoder, depth int) error {
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
		return checkObject(dec, depth+1)
	case '[':
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return errJSON
}

// stringMember returns the string member name of m. ok is false when the
// member is present but not a JSON string (null included).
func stringMember(m map[string]json.RawMessage, name string) (s string, present, ok bool) {
	raw, present := m[name]
	if !present {
		return "", false, true
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", true, false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, false
	}
	return s, true, true
}

// numberMember returns the number member name of m. ok is false when the
// member is absent, not a JSON number, or not finite.
func numberMember(m map[string]json.RawMessage, name string) (float64, bool) {
	raw, present := m[name]
	if !present || len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// validEscapes reports whether every \u escape for a UTF-16 surrogate in
// data is a high surrogate directly followed by an escaped low one. In
// valid JSON a backslash only occurs inside strings, so a plain scan is
// enough; anything else malformed is left to the decoder.
func validEscapes(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if i+1 < len(data) && data[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := escapedUnit(data, i)
		if !ok {
			return false
		}
		i += 5
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := escapedUnit(data, i+1)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// escapedUnit decodes the \uXXXX escape at data[i:].
func escapedUnit(data []byte, i int) (rune, bool) {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range data[i+2 : i+6] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}
