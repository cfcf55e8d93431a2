package ginjwt

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MinClientSecretSize is the shortest Secret of ClientCredentials New
// accepts, in bytes.
const MinClientSecretSize = 16

// maxClientIDLen bounds a ClientCredentials ID.
const maxClientIDLen = 255

// ClientCredentials are the credentials of a confidential OAuth client, such
// as a resource server written in another language, which it sends with HTTP
// Basic authentication (RFC 6749 §2.3.1, client_secret_basic). See
// Options.Clients.
type ClientCredentials struct {
	// ID is the client identifier: 1 to 255 printable ASCII characters, no
	// colon. It is not a secret.
	ID string
	// Secret is the client password: at least 16 random bytes of printable
	// ASCII, such as the output of openssl rand -base64 24.
	Secret string
}

// clientSet holds the digests of the configured client credentials, never
// the secrets themselves.
type clientSet struct {
	clients []clientDigest
}

type clientDigest struct {
	id             string
	idSum, authSum [sha256.Size]byte
}

// newClientSet checks Options.Clients; it returns nil for none.
func newClientSet(list []ClientCredentials) (*clientSet, error) {
	if len(list) == 0 {
		return nil, nil
	}
	s := &clientSet{clients: make([]clientDigest, 0, len(list))}
	seen := make(map[string]bool, len(list))
	for i, cc := range list {
		switch {
		case cc.ID == "" || len(cc.ID) > maxClientIDLen:
			return nil, fmt.Errorf("%w: Options.Clients[%d].ID must be 1 to %d characters", ErrInvalidOptions, i, maxClientIDLen)
		case !printableASCII(cc.ID) || strings.Contains(cc.ID, ":"):
			return nil, fmt.Errorf("%w: Options.Clients[%d].ID must be printable ASCII without a colon (RFC 6749 §2.3.1, RFC 7617)", ErrInvalidOptions, i)
		case seen[cc.ID]:
			return nil, fmt.Errorf("%w: Options.Clients[%d].ID is used twice", ErrInvalidOptions, i)
		case len(cc.Secret) < MinClientSecretSize:
			return nil, fmt.Errorf("%w: Options.Clients[%d].Secret is %d bytes; it must be at least %d random bytes", ErrInvalidOptions, i, len(cc.Secret), MinClientSecretSize)
		case !printableASCII(cc.Secret):
			return nil, fmt.Errorf("%w: Options.Clients[%d].Secret must be printable ASCII (RFC 6749 Appendix A.2)", ErrInvalidOptions, i)
		}
		seen[cc.ID] = true
		s.clients = append(s.clients, clientDigest{id: cc.ID, idSum: sha256.Sum256([]byte(cc.ID)), authSum: sha256.Sum256([]byte(cc.Secret))})
	}
	return s, nil
}

// authenticate returns the id of the configured client whose credentials
// the request's Basic Authorization header carries. A request with any other
// Authorization header, or with several, authenticates no client.
//
// RFC 6749 §2.3.1 form-encodes the id and secret before Basic encoding; many
// clients do not. Both readings are tried. Every configured client is
// compared, in constant time over SHA-256 digests, so that the time taken
// reveals neither which ids exist nor how much of a secret matched.
func (s *clientSet) authenticate(r *http.Request) (string, bool) {
	if s == nil || len(r.Header.Values("Authorization")) != 1 {
		return "", false
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	match, found := 0, 0
	try := func(id, secret string) {
		idSum, authSum := sha256.Sum256([]byte(id)), sha256.Sum256([]byte(secret))
		for i := range s.clients {
			c := &s.clients[i]
			eq := subtle.ConstantTimeCompare(idSum[:], c.idSum[:]) & subtle.ConstantTimeCompare(authSum[:], c.authSum[:])
			found = subtle.ConstantTimeSelect(eq, i, found)
			match |= eq
		}
	}
	try(id, secret)
	if decodedID, err := url.QueryUnescape(id); err == nil {
		if decodedSecret, err := url.QueryUnescape(secret); err == nil && (decodedID != id || decodedSecret != secret) {
			try(decodedID, decodedSecret)
		}
	}
	if match != 1 {
		return "", false
	}
	return s.clients[found].id, true
}

// has reports whether any client is configured.
func (s *clientSet) has() bool { return s != nil && len(s.clients) > 0 }

// printableASCII reports whether s holds only characters from space to
// tilde (VSCHAR of RFC 6749 Appendix A).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
