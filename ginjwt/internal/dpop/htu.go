package dpop

import (
	"strconv"
	"strings"
)

// normalizeURI reduces an http(s) URI to the form in which htu and the
// request's target URI are compared (RFC 9449 §4.3 check 9). It applies:
//
//   - query and fragment removed (RFC 9449 §4.3);
//   - scheme and host lowercased (RFC 3986 §6.2.2.1);
//   - hex digits of percent-encodings uppercased, and percent-encoded
//     unreserved characters decoded (RFC 3986 §6.2.2.1, §6.2.2.2);
//   - dot segments removed from the path (RFC 3986 §6.2.2.3);
//   - the port dropped when it is the scheme's default or empty, leading
//     zeros dropped otherwise, and an empty path made "/" (RFC 3986
//     §6.2.3).
//
// Everything else is compared as is: the path keeps its case, reserved
// characters stay encoded or not as sent, and "/a" differs from "/a/".
// It refuses, returning false, schemes other than http and https, userinfo
// ("user@host"), an empty host, percent-encoded or non-ASCII host names,
// IPv6 zone identifiers, ports above 65535, and characters RFC 3986 does
// not allow in a path.
func normalizeURI(s string) (string, bool) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", false
	}
	scheme := strings.ToLower(s[:i])
	var defaultPort string
	switch scheme {
	case "http":
		defaultPort = "80"
	case "https":
		defaultPort = "443"
	default:
		return "", false
	}
	rest := s[i+3:]
	authority, path := rest, ""
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		authority, path = rest[:j], rest[j:]
	}
	host, port, ok := splitAuthority(authority)
	if !ok {
		return "", false
	}
	if port == defaultPort {
		port = ""
	}
	path, ok = normalizePath(path)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + 6 + len(path))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(path)
	return b.String(), true
}

// splitAuthority returns the lowercased host and the port without leading
// zeros ("" when absent or empty).
func splitAuthority(a string) (host, port string, ok bool) {
	if strings.IndexByte(a, '@') >= 0 {
		return "", "", false
	}
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false
		}
		host, a = a[:end+1], a[end+1:]
		for k := 1; k < len(host)-1; k++ {
			if !isHex(host[k]) && host[k] != ':' && host[k] != '.' {
				return "", "", false
			}
		}
		if len(host) < 4 {
			return "", "", false
		}
		if a != "" && a[0] != ':' {
			return "", "", false
		}
		if a != "" {
			port = a[1:]
		}
	} else {
		host = a
		if k := strings.IndexByte(a, ':'); k >= 0 {
			host, port = a[:k], a[k+1:]
		}
		if host == "" {
			return "", "", false
		}
		for k := 0; k < len(host); k++ {
			c := host[k]
			if !isUnreserved(c) {
				return "", "", false
			}
		}
	}
	if port != "" {
		for k := 0; k < len(port); k++ {
			if port[k] < '0' || port[k] > '9' {
				return "", "", false
			}
		}
		port = strings.TrimLeft(port, "0")
		if len(port) > 5 {
			return "", "", false
		}
		n, _ := strconv.Atoi(port) // "" (all zeros) is port 0
		if n > 65535 {
			return "", "", false
		}
		if port == "" {
			port = "0"
		}
	}
	return strings.ToLower(host), port, true
}

// normalizePath normalises percent-encodings and removes dot segments.
func normalizePath(p string) (string, bool) {
	if p == "" {
		return "/", true
	}
	b := make([]byte, 0, len(p))
	for k := 0; k < len(p); k++ {
		c := p[k]
		switch {
		case c == '%':
			if k+2 >= len(p) || !isHex(p[k+1]) || !isHex(p[k+2]) {
				return "", false
			}
			v := unhex(p[k+1])<<4 | unhex(p[k+2])
			if isUnreserved(v) {
				b = append(b, v)
			} else {
				b = append(b, '%', upper(p[k+1]), upper(p[k+2]))
			}
			k += 2
		case isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@/", c) >= 0:
			b = append(b, c)
		default:
			return "", false
		}
	}
	return removeDotSegments(string(b)), true
}

// removeDotSegments is the algorithm of RFC 3986 §5.2.4 for a path that
// starts with "/".
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	out := make([]byte, 0, len(in))
	trim := func() {
		if k := strings.LastIndexByte(string(out), '/'); k >= 0 {
			out = out[:k]
		} else {
			out = out[:0]
		}
	}
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			trim()
		case in == "/..":
			in = "/"
			trim()
		case in == "." || in == "..":
			in = ""
		default:
			k := strings.IndexByte(in[1:], '/')
			if k < 0 {
				out = append(out, in...)
				in = ""
			} else {
				out = append(out, in[:k+1]...)
				in = in[k+1:]
			}
		}
	}
	return string(out)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
