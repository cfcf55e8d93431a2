package dpop

import "testing"

func TestNormalizeURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com/resource", "https://api.example.com/resource"},
		{"HTTPS://API.EXAMPLE.COM/Resource", "https://api.example.com/Resource"},
		{"https://api.example.com:443/r", "https://api.example.com/r"},
		{"http://api.example.com:80/r", "http://api.example.com/r"},
		{"http://api.example.com:443/r", "http://api.example.com:443/r"},
		{"https://api.example.com:/r", "https://api.example.com/r"},
		{"https://api.example.com:0443/r", "https://api.example.com/r"},
		{"https://api.example.com:00/r", "https://api.example.com:0/r"},
		{"https://api.example.com", "https://api.example.com/"},
		{"https://api.example.com?q#f", "https://api.example.com/"},
		{"https://api.example.com/r?q=1#f", "https://api.example.com/r"},
		{"https://api.example.com/r#f?q", "https://api.example.com/r"},
		{"https://api.example.com/%7euser/%2f%41", "https://api.example.com/~user/%2FA"},
		{"https://api.example.com/a/./b/../c", "https://api.example.com/a/c"},
		{"https://api.example.com/a/%2E%2E/c", "https://api.example.com/c"},
		{"https://api.example.com/../../x", "https://api.example.com/x"},
		{"https://api.example.com/a/..", "https://api.example.com/"},
		{"https://api.example.com/a/.", "https://api.example.com/a/"},
		{"https://api.example.com//a", "https://api.example.com//a"},
		{"https://api.example.com/a/", "https://api.example.com/a/"},
		{"https://api.example.com/a;b=c/@:!$&'()*+,=", "https://api.example.com/a;b=c/@:!$&'()*+,="},
		{"https://[2001:DB8::1]:443/r", "https://[2001:db8::1]/r"},
		{"https://[::1]:8443", "https://[::1]:8443/"},
		{"https://127.0.0.1:65535/", "https://127.0.0.1:65535/"},
	}
	for _, tc := range tests {
		got, ok := normalizeURI(tc.in)
		if !ok || got != tc.want {
			t.Errorf("normalizeURI(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, in := range []string{
		"", "/r", "//api.example.com/r", "api.example.com/r", "ftp://api.example.com/r",
		"https:/api.example.com/r", "https://", "https:///r", "https://:443/r",
		"https://user@api.example.com/r", "https://user:pw@api.example.com/r",
		"https://api.example.com:65536/r", "https://api.example.com:999999/r", "https://api.example.com:-1/r",
		"https://api.example.com:1:2/r", "https://api.example.com:x/r",
		"https://api%2Eexample.com/r", "https://bücher.example/r", "https://api example.com/r",
		"https://[::1/r", "https://[::1]x/r", "https://[fe80::1%25eth0]/r", "https://[]/r", "https://[zz]/r",
		"https://api.example.com/a b", "https://api.example.com/a%2", "https://api.example.com/a%zz",
		"https://api.example.com/ä", "https://api.example.com/a\\b", "https://api.example.com/a\x00",
		"https://api.example.com/<script>", "https://api.example.com/a\"b",
	} {
		if got, ok := normalizeURI(in); ok {
			t.Errorf("normalizeURI(%q) = %q, want refusal", in, got)
		}
	}
}

// FuzzNormalizeURI checks that normalisation never panics, is idempotent,
// and yields a URI without query or fragment.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com/r", "HTTP://A:080/./b/../%7e?x#y", "https://[::1]:443",
		"https://a/%2e%2E/..//.", "http://a:/", "https://a/..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := normalizeURI(s)
		if !ok {
			return
		}
		again, ok := normalizeURI(n)
		if !ok || again != n {
			t.Fatalf("normalizeURI(%q) = %q, then %q, %v", s, n, again, ok)
		}
	})
}
