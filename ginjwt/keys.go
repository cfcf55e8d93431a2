package ginjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// MinHMACKeySize is the shortest HMAC secret New accepts, in bytes: the
// minimum for HS256. HS384 and HS512 need secrets at least as long as their
// hash, 48 and 64 bytes (RFC 7518 §3.2).
const MinHMACKeySize = 32

// MinRSAKeyBits is the smallest RSA modulus New accepts.
const MinRSAKeyBits = 2048

// Key is a signing or verification key with its pinned algorithm. A token is
// only ever verified with the algorithm of the key its "kid" names, so
// "alg": "none" and algorithm confusion (an RSA public key used as an HMAC
// secret) cannot happen.
//
// An HMAC key has a Secret. An asymmetric key has a Private key, which signs
// and verifies, or only a Public key, which verifies access tokens only.
// Refresh tokens are only ever read by this package: they are signed with an
// HMAC key derived (HKDF-SHA256) from the Secret or the Private key, never
// with the key itself, so they can never pass as access tokens, and their
// "kid" is the key's ID prefixed with "rt.", which no JWKS lists. A retired
// key therefore keeps its Private key while its refresh tokens live; see
// Options.Keys for the rotation recipe.
type Key struct {
	// ID is the "kid" header of tokens signed with the key, and its "kid" in
	// the JWKS. Optional with a single key; required and unique when several
	// keys are configured.
	ID string
	// Algorithm is one of HS256, HS384, HS512, RS256, RS384, RS512, PS256,
	// PS384, PS512, ES256, ES384, ES512 or EdDSA (Ed25519).
	Algorithm string
	// Secret is the HMAC secret: at least 32 random bytes for HS256, 48 for
	// HS384 and 64 for HS512.
	Secret []byte
	// Private is an *rsa.PrivateKey (at least 2048 bits), an
	// *ecdsa.PrivateKey on the algorithm's curve, or an ed25519.PrivateKey
	// (a value, not a pointer).
	Private crypto.Signer
	// Public is the matching public key, for a verification-only key: an
	// *rsa.PublicKey, an *ecdsa.PublicKey or an ed25519.PublicKey. Derived
	// from Private when that is set.
	Public crypto.PublicKey
}

// HS256 returns an HS256 key for secret with no key id.
func HS256(secret []byte) Key { return Key{Algorithm: "HS256", Secret: secret} }

// jwtKey is what golang-jwt needs to sign and verify one kind of token.
type jwtKey struct {
	method jwt.SigningMethod
	sign   any      // nil when the key cannot sign
	verify any      // nil when the key cannot verify this kind of token
	macs   *macPool // pooled HMAC states; nil for asymmetric keys
	header string   // base64url JOSE header of the tokens it signs, when it can sign
}

// signingKey is a validated Key ready for use.
type signingKey struct {
	id      string
	access  jwtKey
	refresh jwtKey
	csrf    []byte           // HMAC key of CSRF tokens; nil for verify-only keys
	nonce   []byte           // HMAC key of DPoP nonces; nil for verify-only keys
	public  crypto.PublicKey // served in the JWKS; nil for HMAC keys
}

// keyring holds the configured keys: the first signs, all verify.
type keyring struct {
	signer      *signingKey
	all         []*signingKey
	byID        map[string]*signingKey
	accessAlgs  []string
	refreshAlgs []string
}

// Info strings of the HKDF derivations.
const (
	refreshKeyInfo = "jwtguard refresh token v1"
	csrfKeyInfo    = "jwtguard csrf token v1"
	nonceKeyInfo   = "jwtguard dpop nonce v1"
)

// newKeyring validates keys and derives the refresh and CSRF keys.
func newKeyring(keys []Key) (*keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: Options.Keys is empty; configure at least one key", ErrInvalidOptions)
	}
	kr := &keyring{byID: make(map[string]*signingKey, len(keys))}
	for i, k := range keys {
		if len(keys) > 1 && k.ID == "" {
			return nil, fmt.Errorf("%w: Options.Keys[%d].ID is empty; every key needs an ID when several are configured", ErrInvalidOptions, i)
		}
		if !utf8.ValidString(k.ID) {
			return nil, fmt.Errorf("%w: Options.Keys[%d].ID is not valid UTF-8: no token could name it", ErrInvalidOptions, i)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: Options.Keys[%d].ID %q is used twice", ErrInvalidOptions, i, k.ID)
		}
		sk, err := newSigningKey(k)
		if err != nil {
			if k.ID != "" {
				return nil, fmt.Errorf("%w: Options.Keys[%d]%s (key ID %q)", ErrInvalidOptions, i, err, k.ID)
			}
			return nil, fmt.Errorf("%w: Options.Keys[%d]%s", ErrInvalidOptions, i, err)
		}
		if i == 0 && sk.access.sign == nil {
			return nil, fmt.Errorf("%w: Options.Keys[0] cannot sign: the current key needs a Secret or a Private key", ErrInvalidOptions)
		}
		kr.byID[k.ID] = sk
		kr.all = append(kr.all, sk)
		kr.accessAlgs = appendNew(kr.accessAlgs, sk.access.method.Alg())
		if sk.refresh.method != nil {
			kr.refreshAlgs = appendNew(kr.refreshAlgs, sk.refresh.method.Alg())
		}
	}
	kr.signer = kr.all[0]
	for i, sk := range kr.all {
		for _, kind := range []tokenKind{accessKind, refreshKind} {
			if kind.key(sk).sign == nil {
				continue
			}
			h, err := signingHeader(kind, sk)
			if err != nil {
				return nil, fmt.Errorf("%w: Options.Keys[%d]: encoding the token header: %w", ErrInvalidOptions, i, err)
			}
			kind.key(sk).header = h
		}
	}
	return kr, nil
}

// newSigningKey checks one Key. Errors start with the field at fault, to
// follow "Options.Keys[i]".
func newSigningKey(k Key) (*signingKey, error) {
	if !slices.Contains(algorithms, k.Algorithm) {
		return nil, unknownAlgorithm(k.Algorithm)
	}
	method := jwt.GetSigningMethod(k.Algorithm)
	sk := &signingKey{id: k.ID}
	if m, isHMAC := method.(*jwt.SigningMethodHMAC); isHMAC {
		if k.Private != nil || k.Public != nil {
			return nil, fmt.Errorf(": %s takes a Secret, not a Private or Public key", k.Algorithm)
		}
		if minSize := m.Hash.Size(); len(k.Secret) < minSize { // the hash's size: RFC 7518 §3.2
			return nil, fmt.Errorf(".Secret is %d bytes; %s needs at least %d random bytes", len(k.Secret), k.Algorithm, minSize)
		}
		secret := append([]byte(nil), k.Secret...)
		sk.access = jwtKey{method: method, sign: secret, verify: secret, macs: hmacPool(method, secret)}
		return sk, sk.derive(method, secret)
	}
	if len(k.Secret) > 0 {
		return nil, fmt.Errorf(": %s takes a Private or Public key, not a Secret", k.Algorithm)
	}
	if err := checkGoTypes(k); err != nil {
		return nil, err
	}
	public := k.Public
	if k.Private != nil {
		derived := k.Private.Public()
		if public != nil && !samePublicKey(public, derived) {
			return nil, fmt.Errorf(".Public does not match .Private")
		}
		public = derived
	}
	if public == nil {
		return nil, fmt.Errorf(": %s needs a Private or a Public key", k.Algorithm)
	}
	if err := checkKeyType(k.Algorithm, public); err != nil {
		return nil, err
	}
	sk.public = public
	sk.access = jwtKey{method: method, verify: public}
	if k.Private == nil {
		return sk, nil // verify-only: access tokens only
	}
	sk.access.sign = k.Private
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf(".Private: %w", err)
	}
	return sk, sk.derive(jwt.SigningMethodHS256, der)
}

// derive sets the refresh and CSRF keys of sk from secret material.
func (sk *signingKey) derive(refreshMethod jwt.SigningMethod, material []byte) error {
	size := max(len(material), MinHMACKeySize)
	if size > 64 {
		size = 64
	}
	refresh, err := hkdf.Key(sha256.New, material, nil, refreshKeyInfo, size)
	if err != nil {
		return fmt.Errorf(": deriving the refresh key: %w", err)
	}
	csrf, err := hkdf.Key(sha256.New, material, nil, csrfKeyInfo, 32)
	if err != nil {
		return fmt.Errorf(": deriving the CSRF key: %w", err)
	}
	if sk.nonce, err = hkdf.Key(sha256.New, material, nil, nonceKeyInfo, 32); err != nil {
		return fmt.Errorf(": deriving the DPoP nonce key: %w", err)
	}
	sk.refresh = jwtKey{method: refreshMethod, sign: refresh, verify: refresh, macs: hmacPool(refreshMethod, refresh)}
	sk.csrf = csrf
	return nil
}

// algorithms are the names Key.Algorithm accepts.
var algorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// unknownAlgorithm is the error for a Key.Algorithm not in algorithms: it
// lists them, and suggests the one meant when alg is a near miss.
func unknownAlgorithm(alg string) error {
	hint := ""
	if s := suggestAlgorithm(alg); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf(".Algorithm %q is not supported%s; use one of %s", alg, hint, strings.Join(algorithms, ", "))
}

// suggestAlgorithm returns the algorithm alg differs from only in case,
// spaces or punctuation ("hs256", "RS256 ", "HS-512"), EdDSA for the
// fully-specified name Ed25519, or "".
func suggestAlgorithm(alg string) string {
	bare := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return -1
	}, alg)
	if bare == "ED25519" {
		return "EdDSA"
	}
	for _, a := range algorithms {
		if bare == strings.ToUpper(a) {
			return a
		}
	}
	return ""
}

// ecCurves are the curves of the ECDSA algorithms.
var ecCurves = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// keyTypes returns the Go types of the private and public keys an
// asymmetric algorithm takes, and what to call such a key in errors.
func keyTypes(alg string) (private, public reflect.Type, kind string) {
	switch alg[:2] {
	case "RS", "PS":
		return reflect.TypeFor[*rsa.PrivateKey](), reflect.TypeFor[*rsa.PublicKey](), "an RSA key"
	case "ES":
		return reflect.TypeFor[*ecdsa.PrivateKey](), reflect.TypeFor[*ecdsa.PublicKey](), "an ECDSA key on " + ecCurves[alg].Params().Name
	}
	return reflect.TypeFor[ed25519.PrivateKey](), reflect.TypeFor[ed25519.PublicKey](), "an Ed25519 key"
}

// checkGoTypes refuses an asymmetric key whose Private or Public is not of
// the Go type its algorithm takes, saying which type that is.
func checkGoTypes(k Key) error {
	private, public, kind := keyTypes(k.Algorithm)
	for _, f := range []struct {
		name string
		key  any
		want reflect.Type
	}{{"Private", k.Private, private}, {"Public", k.Public, public}} {
		if f.key == nil {
			continue
		}
		got, hint := reflect.TypeOf(f.key), ""
		switch {
		case got == reflect.PointerTo(f.want):
			hint = " (a value, not a pointer)"
		case f.want.Kind() == reflect.Pointer && got == f.want.Elem():
			hint = " (a pointer, not a value)"
		}
		if got != f.want {
			return fmt.Errorf(".%s is of type %s; %s needs %s: an %s%s", f.name, got, k.Algorithm, kind, f.want, hint)
		}
		if v := reflect.ValueOf(f.key); got.Kind() == reflect.Pointer && v.IsNil() {
			return fmt.Errorf(".%s is a nil %s", f.name, got)
		}
	}
	if p, ok := k.Private.(ed25519.PrivateKey); ok && len(p) != ed25519.PrivateKeySize {
		return fmt.Errorf(".Private is %d bytes; an ed25519.PrivateKey has %d", len(p), ed25519.PrivateKeySize)
	}
	if p, ok := k.Public.(ed25519.PublicKey); ok && len(p) != ed25519.PublicKeySize {
		return fmt.Errorf(".Public is %d bytes; an ed25519.PublicKey has %d", len(p), ed25519.PublicKeySize)
	}
	return nil
}

// checkKeyType checks the size of RSA keys and the curve of ECDSA keys,
// whose Go types checkGoTypes has checked.
func checkKeyType(alg string, public crypto.PublicKey) error {
	switch k := public.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSAKeyBits {
			return fmt.Errorf(": RSA key is %d bits; at least %d are needed", k.N.BitLen(), MinRSAKeyBits)
		}
	case *ecdsa.PublicKey:
		if k.Curve != ecCurves[alg] {
			return fmt.Errorf(": %s needs an ECDSA key on %s", alg, ecCurves[alg].Params().Name)
		}
	}
	return nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// lookup returns the key a token header names. kid is only ever a map key.
func (kr *keyring) lookup(kid string) (*signingKey, bool) {
	k, ok := kr.byID[kid]
	return k, ok
}

// macPool reuses HMAC states of one key: verifying an HMAC token then costs
// no allocation. Asymmetric signatures go through golang-jwt.
type macPool struct{ pool sync.Pool }

// macState is one pooled HMAC with scratch buffers for the signing input
// and the sum.
type macState struct {
	mac hash.Hash
	buf []byte
	sum [sha512.Size]byte
}

func newMACPool(h crypto.Hash, key []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return &macState{mac: hmac.New(h.New, key)} }
	return p
}

var errSignature = errors.New("signature is invalid")

// verify checks an HMAC signature in constant time.
func (p *macPool) verify(signingInput string, sig []byte) error {
	st := p.pool.Get().(*macState)
	defer p.pool.Put(st)
	st.mac.Reset()
	st.buf = append(st.buf[:0], signingInput...)
	st.mac.Write(st.buf)
	if !hmac.Equal(sig, st.mac.Sum(st.sum[:0])) {
		return errSignature
	}
	return nil
}

// sum appends the HMAC of data to dst.
func (p *macPool) sum(dst, data []byte) []byte {
	st := p.pool.Get().(*macState)
	defer p.pool.Put(st)
	st.mac.Reset()
	st.mac.Write(data)
	return st.mac.Sum(dst)
}

// verifySignature checks sig over signingInput with k.
func (k *jwtKey) verifySignature(signingInput string, sig []byte) error {
	if k.macs != nil {
		return k.macs.verify(signingInput, sig)
	}
	// A copy: through the interface sig would escape, and it may be on the
	// caller's stack. An asymmetric check costs far more than the copy.
	return k.method.Verify(signingInput, slices.Clone(sig), k.verify)
}

// hmacPool returns a pool for an HMAC method and key, or nil for others.
func hmacPool(method jwt.SigningMethod, key any) *macPool {
	m, ok := method.(*jwt.SigningMethodHMAC)
	secret, isBytes := key.([]byte)
	if !ok || !isBytes {
		return nil
	}
	return newMACPool(m.Hash, secret)
}
