package ginjwt

import "unicode/utf8"

// This file validates JSON in the same pass that walks a token's header or
// claims, so that a token is read once instead of validated by
// encoding/json first: the guard's hot path. What it accepts is exactly
// what json.Valid accepts (FuzzScanMatchesJSONValid); UTF-8 is checked
// apart, with utf8.Valid.

// maxJSONDepth is how deeply arrays and objects may nest, as in
// encoding/json.
const maxJSONDepth = 10000

// scanValue returns the index just past the JSON value that starts at i,
// after white space, and whether it is valid JSON (RFC 8259). depth is how
// deeply the value is nested already. It keeps the open arrays and objects
// on a stack of its own, not the goroutine's: a deeply nested hostile
// payload costs a byte per level, in an array on the stack up to 64 levels.
func scanValue(data []byte, i, depth int) (int, bool) {
	var buf [64]byte
	open := buf[:0] // '{' or '[' of each open container
	var ok bool
	for {
		// A value starts at i.
		i = skipSpace(data, i)
		if i >= len(data) {
			return i, false
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if depth+len(open)+1 > maxJSONDepth {
				return i, false
			}
			open = append(open, c)
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == closer(c) {
				i, ok = i+1, true
				open = open[:len(open)-1]
				break // an empty container is a value
			}
			if c == '{' {
				if i, ok = scanMemberName(data, i); !ok {
					return i, false
				}
			}
			continue // the first element's value
		case c == '"':
			i, ok = scanString(data, i)
		case c == '-' || c >= '0' && c <= '9':
			i, ok = scanNumber(data, i)
		case c == 't':
			i, ok = scanLiteral(data, i, "true")
		case c == 'f':
			i, ok = scanLiteral(data, i, "false")
		case c == 'n':
			i, ok = scanLiteral(data, i, "null")
		default:
			return i, false
		}
		if !ok {
			return i, false
		}
		// A value ended at i: close containers until one continues.
		for {
			if len(open) == 0 {
				return i, true
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return i, false
			}
			top := open[len(open)-1]
			if data[i] == closer(top) {
				i++
				open = open[:len(open)-1]
				continue
			}
			if data[i] != ',' {
				return i, false
			}
			i++
			if top == '{' {
				if i, ok = scanMemberName(data, i); !ok {
					return i, false
				}
			}
			break // the next element's value
		}
	}
}

// closer returns the byte that closes the container opened by c.
func closer(c byte) byte {
	if c == '{' {
		return '}'
	}
	return ']'
}

// scanMemberName scans a member's name and its colon, after white space,
// and returns the index just past the colon.
func scanMemberName(data []byte, i int) (int, bool) {
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	i, ok := scanString(data, i)
	if !ok {
		return i, false
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return i, false
	}
	return i + 1, true
}

// scanString scans the string opened at i: no control characters, valid
// escapes only.
func scanString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c < ' ':
			return i, false
		case c == '\\':
			i++
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanNumber scans the number starting at i:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = skipDigits(data, i+1)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

func scanLiteral(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// validJSON reports whether data is one JSON value with optional white
// space around it: json.Valid without its allocations.
func validJSON(data []byte) bool {
	end, ok := scanValue(data, 0, 0)
	return ok && skipSpace(data, end) == len(data)
}

// members walks the top-level members of a JSON object (a token's header or
// claims), validating as it goes, and refuses names a second parser could
// read differently: exact duplicates, names that fold to one of known
// without being it, and names with escape sequences (errNames); with dates,
// exp, nbf and iat given as strings. It takes time linear in the length of
// the data and allocates nothing for up to 32 members.
type members struct {
	data      []byte
	i         int
	names     *memberNames
	dates     bool
	seenKnown uint64  // bit k: known[k] was seen
	seen      nameSet // the other names seen
	started   bool
}

// walkMembers begins a walk over data, which must be valid UTF-8 and hold
// a JSON object. The walk is returned by value, so that data can live on
// the caller's stack.
func walkMembers(data []byte, names *memberNames, dates bool) (members, error) {
	if !utf8.Valid(data) {
		return members{}, errUTF8
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		if validJSON(data) {
			return members{}, errNotObject
		}
		return members{}, errSyntax
	}
	return members{data: data, i: i + 1, names: names, dates: dates}, nil
}

// next returns the next member's name and the extent data[start:end] of its
// value, or done after the closing brace and nothing but white space.
func (m *members) next() (name []byte, start, end int, done bool, err error) {
	data := m.data
	i := skipSpace(data, m.i)
	if !m.started {
		m.started = true
		if i < len(data) && data[i] == '}' {
			return nil, 0, 0, true, m.finish(i + 1)
		}
	} else {
		if i >= len(data) {
			return nil, 0, 0, false, errSyntax
		}
		switch data[i] {
		case '}':
			return nil, 0, 0, true, m.finish(i + 1)
		case ',':
			i = skipSpace(data, i+1)
		default:
			return nil, 0, 0, false, errSyntax
		}
	}
	if i >= len(data) || data[i] != '"' {
		return nil, 0, 0, false, errSyntax
	}
	nameEnd, ok := scanString(data, i)
	if !ok {
		return nil, 0, 0, false, errSyntax
	}
	name = data[i+1 : nameEnd-1]
	for _, c := range name {
		if c == '\\' {
			return nil, 0, 0, false, m.names.err
		}
	}
	if k := m.names.indexOf(name); k >= 0 {
		if m.seenKnown&(1<<k) != 0 {
			return nil, 0, 0, false, m.names.err
		}
		m.seenKnown |= 1 << k
	} else if !m.seen.add(data, i+1, nameEnd-1) || foldsToKnown(name, m.names.known) {
		return nil, 0, 0, false, m.names.err
	}
	i = skipSpace(data, nameEnd)
	if i >= len(data) || data[i] != ':' {
		return nil, 0, 0, false, errSyntax
	}
	start = skipSpace(data, i+1)
	if m.dates && start < len(data) && data[start] == '"' && isNumericDate(name) {
		return nil, 0, 0, false, errNumericDate
	}
	if end, ok = scanValue(data, start, 1); !ok {
		return nil, 0, 0, false, errSyntax
	}
	m.i = end
	return name, start, end, false, nil
}

// memberNames are the member names of one kind of object that this package
// reads, and the error for a name that is a duplicate, folds to one of them
// without being it, or is escaped. members holds a pointer to them, never
// the error itself: that keeps a walk's data off the heap, as escape
// analysis does not tell a struct's fields apart.
type memberNames struct {
	known [][]byte
	keys  []uint32 // nameKey of each known name
	err   error
}

// newMemberNames returns the names known, and err for the names refused.
// There are at most 64, one bit each in members.seenKnown
// (TestKnownNamesFit).
func newMemberNames(err error, known ...[]byte) *memberNames {
	if len(known) > 64 {
		panic("ginjwt: more than 64 known member names") // package variables only: fails at start
	}
	n := &memberNames{known: known, keys: make([]uint32, len(known)), err: err}
	for k, name := range known {
		n.keys[k] = nameKey(name)
	}
	return n
}

// indexOf returns the index of name among the known names, or -1: a scan
// of small integers, with one full comparison where they match.
func (n *memberNames) indexOf(name []byte) int {
	key := nameKey(name)
	for k, known := range n.keys {
		if known == key && string(n.known[k]) == string(name) {
			return k
		}
	}
	return -1
}

// nameKey packs a name's length, first two and last bytes: the whole name
// for the three-letter names of JWTs.
func nameKey(name []byte) uint32 {
	if len(name) == 0 {
		return 0
	}
	return uint32(len(name))<<24 | uint32(name[0])<<16 | uint32(name[min(1, len(name)-1)])<<8 | uint32(name[len(name)-1])
}

// finish checks that nothing but white space follows the object.
func (m *members) finish(i int) error {
	if skipSpace(m.data, i) != len(m.data) {
		return errSyntax
	}
	return nil
}
