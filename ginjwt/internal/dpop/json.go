package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
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
// and "t\u0079p" collide), nesting deeper than maxJSONDepth and anything
// after the object.
//
// Members are looked up by exact name, never through encoding/json's
// case-insensitive struct matching, so "TYP" is just an unknown member.
func parseObject(data []byte) (map[string]json.RawMessage, bool) {
	if len(data) == 0 || !utf8.Valid(data) || !validEscapes(data) {
		return nil, false
	}
	w := nameWalker{data: data}
	w.space()
	if !w.at('{') || !w.object(1) {
		return nil, false
	}
	if w.space(); w.i != len(data) {
		return nil, false
	}
	// The walk checks names and nesting only; Unmarshal checks the syntax.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// nameWalker walks the structure of a JSON text for parseObject: objects,
// arrays, strings and the extent of other values, refusing duplicate names
// and deep nesting. It does not check the syntax of numbers and literals,
// which json.Unmarshal does after it, and gives up (false) on anything it
// cannot walk. It allocates only for escaped names and for objects of more
// than len(few) members.
type nameWalker struct {
	data []byte
	i    int
}

// at reports whether the next byte is c.
func (w *nameWalker) at(c byte) bool { return w.i < len(w.data) && w.data[w.i] == c }

// space skips JSON white space.
func (w *nameWalker) space() {
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// object walks the object at '{', the level-th container from the top.
func (w *nameWalker) object(level int) bool {
	w.i++
	var few [16][]byte
	names := few[:0]
	var many map[string]struct{}
	if w.space(); w.at('}') {
		w.i++
		return true
	}
	for {
		if w.space(); !w.at('"') {
			return false
		}
		name, ok := w.name()
		if !ok {
			return false
		}
		switch {
		case many != nil:
			if _, dup := many[string(name)]; dup {
				return false
			}
			many[string(name)] = struct{}{}
		case len(names) < len(few):
			for _, n := range names {
				if bytes.Equal(n, name) {
					return false
				}
			}
			names = append(names, name)
		default:
			many = make(map[string]struct{}, 2*len(few))
			for _, n := range names {
				many[string(n)] = struct{}{}
			}
			if _, dup := many[string(name)]; dup {
				return false
			}
			many[string(name)] = struct{}{}
		}
		if w.space(); !w.at(':') {
			return false
		}
		w.i++
		if !w.value(level) {
			return false
		}
		if more, ok := w.separator('}'); !more {
			return ok
		}
	}
}

// separator reads what follows a member or an element: more after a ','
// and ok after closer, which ends the container; neither after anything
// else.
func (w *nameWalker) separator(closer byte) (more, ok bool) {
	w.space()
	switch {
	case w.at(','):
		w.i++
		return true, true
	case w.at(closer):
		w.i++
		return false, true
	}
	return false, false
}

// value walks one value inside the level-th container.
func (w *nameWalker) value(level int) bool {
	w.space()
	if w.i >= len(w.data) {
		return false
	}
	switch w.data[w.i] {
	case '{':
		return level < maxJSONDepth && w.object(level+1)
	case '[':
		return level < maxJSONDepth && w.array(level+1)
	case '"':
		_, _, ok := w.str()
		return ok
	}
	start := w.i
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return w.i > start
		}
		w.i++
	}
	return w.i > start
}

// array walks the array at '[', the level-th container from the top.
func (w *nameWalker) array(level int) bool {
	w.i++
	if w.space(); w.at(']') {
		w.i++
		return true
	}
	for {
		if !w.value(level) {
			return false
		}
		if more, ok := w.separator(']'); !more {
			return ok
		}
	}
}

// str walks the string at '"' and returns its contents, still escaped,
// whether it has escapes, and whether it ends.
func (w *nameWalker) str() (contents []byte, escaped, ok bool) {
	start := w.i + 1
	for i := start; i < len(w.data); i++ {
		switch w.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			w.i = i + 1
			return w.data[start:i], escaped, true
		}
	}
	w.i = len(w.data)
	return nil, false, false
}

// name walks a member name and returns it unescaped.
func (w *nameWalker) name() ([]byte, bool) {
	start := w.i
	contents, escaped, ok := w.str()
	if !ok {
		return nil, false
	}
	if !escaped {
		return contents, true
	}
	var s string
	if err := json.Unmarshal(w.data[start:w.i], &s); err != nil {
		return nil, false
	}
	return []byte(s), true
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
