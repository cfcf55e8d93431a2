package ginjwt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Fuzz targets of unexported functions. Their seed corpora are under
// testdata/fuzz/<FuzzName>; `go test` runs the seeds as ordinary tests, and
// `go test -run '^$' -fuzz '^FuzzVerify$'` fuzzes.

// fuzzNow is the fixed clock of the fuzz targets, so that the checked-in
// seed tokens, issued at this instant, stay valid.
var fuzzNow = time.Unix(1_900_000_000, 0).UTC()

// fuzzSecret is the HMAC secret of the fuzz targets (the same as the
// end-to-end tests' testSecret).
var fuzzSecret = []byte("0123456789abcdef0123456789abcdef")

// fuzzEdKey is the Ed25519 key of the fuzz targets, fixed so that seeds
// signed with it stay valid.
var fuzzEdKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// fuzzStore satisfies Store for New; verification never calls it (a call
// would panic on the nil interface, failing the fuzz target).
type fuzzStore struct{ Store }

// newFuzzAuth returns an Auth on the fixed clock that verifies with an HS256
// key "hs" and an EdDSA key "ed"; signer picks the key that signs.
func newFuzzAuth(tb testing.TB, signer string) *Auth {
	tb.Helper()
	hs := Key{ID: "hs", Algorithm: "HS256", Secret: fuzzSecret}
	ed := Key{ID: "ed", Algorithm: "EdDSA", Private: fuzzEdKey}
	keys := []Key{hs, ed}
	if signer == "ed" {
		keys = []Key{ed, hs}
	}
	a, err := New(Options{Store: fuzzStore{}, Limits: Limits{Off: true}, Keys: keys, Now: func() time.Time { return fuzzNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// fuzzRealTokens issues, deterministically, the access and refresh tokens of
// a session as of fuzzNow, signed by a's current key.
func fuzzRealTokens(tb testing.TB, a *Auth) (access, refresh string) {
	tb.Helper()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.opts.Issuer,
			Subject:   "alice",
			Audience:  jwt.ClaimStrings{a.opts.Audience},
			IssuedAt:  jwt.NewNumericDate(fuzzNow),
			NotBefore: jwt.NewNumericDate(fuzzNow),
			ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(a.opts.AccessTTL)),
			ID:        "ZnV6ei1hY2Nlc3MtanRpMQ",
		},
		SessionID:   "ZnV6ei1zZXNzaW9uLWlkMQ",
		UserVersion: 42,
		Generation:  1,
		AuthTime:    fuzzNow.Unix(),
		Roles:       []string{"admin"},
		Extra:       json.RawMessage(`{"name":"Alice"}`),
	}
	var err error
	if access, err = a.issue(accessKind, &c); err != nil {
		tb.Fatal(err)
	}
	c.ID, c.ExpiresAt = "ZnV6ei1yZWZyZXNoLWp0aTE", jwt.NewNumericDate(fuzzNow.Add(a.opts.RefreshTTL))
	if refresh, err = a.issue(refreshKind, &c); err != nil {
		tb.Fatal(err)
	}
	return access, refresh
}

// sentinels are the errors a client-facing failure wraps exactly one of.
var sentinels = []error{
	ErrTokenMissing, ErrTokenMalformed, ErrTokenInvalid, ErrTokenExpired, ErrTokenNotYetValid,
	ErrTokenWrongType, ErrTokenRevoked, ErrRefreshReused, ErrSessionExpired, ErrKeyUnknown, ErrInvalidCredentials,
	ErrInsufficientScope, ErrSessionNotFound, ErrCSRF, ErrBadRequest, ErrStoreUnavailable, ErrServer,
}

// FuzzVerify feeds arbitrary strings to the four verifiers (guard, refresh,
// and the logout verifiers that skip time checks). None may panic; every
// error wraps exactly one sentinel, never ErrServer; a token that passes
// is byte for byte one our keys signed: re-signing its header and payload
// with the key its kid names gives the same token. Forging that from random
// input means forging HMAC-SHA256 or Ed25519, so only seeds that are real
// tokens (see fuzzRealTokens) can pass. And a token that passes reads the
// same to every JSON parser (see ambiguity), even when our key signed it.
func FuzzVerify(f *testing.F) {
	a := newFuzzAuth(f, "hs")
	for _, signer := range []string{"hs", "ed"} {
		access, refresh := fuzzRealTokens(f, newFuzzAuth(f, signer))
		for _, tok := range []string{access, refresh} {
			f.Add(tok)
			f.Add(tok[:len(tok)-1])
			f.Add(tok + "\n")
		}
	}
	verifiers := []*verifier{a.access, a.refresh, a.logoutAccess, a.logoutRefresh}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, v := range verifiers {
			claims, err := v.verify(raw)
			if err != nil {
				if n := countSentinels(err); n != 1 {
					t.Fatalf("%s verifier: error wraps %d sentinels: %v", v.kind.claimType, n, err)
				}
				if ErrorCode(err) == "server_error" {
					t.Fatalf("%s verifier: server error for client input: %v", v.kind.claimType, err)
				}
				if claims != nil {
					t.Fatalf("%s verifier: claims with an error", v.kind.claimType)
				}
				continue
			}
			if claims == nil || claims.Type != v.kind.claimType {
				t.Fatalf("%s verifier: accepted a token with claims %+v", v.kind.claimType, claims)
			}
			if want := resign(t, a, v.kind, raw); raw != want {
				t.Fatalf("%s verifier accepted a token we did not sign in this form:\n got %q\nwant %q", v.kind.claimType, raw, want)
			}
			if why := ambiguity(raw); why != "" {
				t.Fatalf("%s verifier accepted a token whose %s", v.kind.claimType, why)
			}
		}
	})
}

// ambiguity says why JSON parsers could read a compact token's header or
// claims differently (per refCheckNames), or returns "".
func ambiguity(raw string) string {
	parts := strings.Split(raw, ".")
	for i, known := range [][][]byte{headerNames, claimNames} {
		data, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return fmt.Sprintf("segment %d does not decode: %v", i, err)
		}
		if r := refCheckNames(data, known); !r.ok || r.escapedKey || r.invalidUTF8 {
			return fmt.Sprintf("segment %d has duplicate, case-colliding or escaped names or invalid UTF-8: %q", i, data)
		}
	}
	return ""
}

func countSentinels(err error) int {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n
}

// resign signs the header and payload of raw again with the key of kind its
// kid names, and returns the compact token that gives.
func resign(t *testing.T, a *Auth, kind tokenKind, raw string) string {
	t.Helper()
	tok, parts, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("a verified token does not parse: %v", err)
	}
	kid, _ := tok.Header["kid"].(string)
	sk, ok := a.keys.lookup(strings.TrimPrefix(kid, kind.kidPrefix))
	if !ok {
		t.Fatalf("a verified token names an unknown kid %q", kid)
	}
	k := kind.key(sk)
	signing := parts[0] + "." + parts[1]
	sig, err := k.method.Sign(signing, k.sign)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// FuzzCheckClaimNames compares checkClaimNames and checkHeaderNames with a
// reference built on encoding/json's tokenizer. Whenever one of them accepts
// valid JSON, the reference must accept it too: no duplicate or
// case-colliding name slips through a parsing shortcut. Conversely, when the
// reference accepts and the input has no escaped key, no invalid UTF-8 and
// (for claims) no string exp, nbf or iat, which only our checks refuse, they
// must accept: they refuse nothing a careful parser would read as harmless.
func FuzzCheckClaimNames(f *testing.F) {
	f.Add([]byte(`{"iss":"jwtguard","sub":"alice","aud":["jwtguard"],"exp":1,"typ":"access","ext":{"a":[1,{"b":"}"}]}}`))
	f.Add([]byte(`{"sub":"a","sub":"b"}`))
	f.Add([]byte(`{"exp":1,"EXP":9}`))
	f.Add([]byte("{\"\u017fid\":\"x\"}"))
	f.Add([]byte(`{"\u0073ub":"x"}`))
	f.Add([]byte("{\"a\xff\":1,\"a\xfe\":2}")) // one key to encoding/json: both decode to "a\ufffd"
	f.Add([]byte(`{"alg":"HS256","\u0061lg":"none"}`))
	f.Add([]byte(`{"alg":"HS256","typ":"at+jwt","\u0063rit":["foo"]}`))
	f.Add([]byte(`{"alg":"HS256","ALG":"none"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			_ = checkClaimNames(data)
			_ = checkHeaderNames(data)
			return
		}
		claims, header := refCheckNames(data, claimNames), refCheckNames(data, headerNames)
		compareWithReference(t, "checkClaimNames", checkClaimNames(data) == nil, claims, claims.stringDate, data)
		compareWithReference(t, "checkHeaderNames", checkHeaderNames(data) == nil, header, false, data)
	})
}

// compareWithReference fails t when a check's verdict on valid JSON data
// contradicts the reference's; dates says that data has a string exp, nbf
// or iat the check refuses.
func compareWithReference(t *testing.T, check string, ok bool, ref refResult, dates bool, data []byte) {
	t.Helper()
	if ok && !ref.ok {
		t.Fatalf("%s accepts %q; the reference refuses it", check, data)
	}
	if !ok && ref.ok && !ref.escapedKey && !ref.invalidUTF8 && !dates {
		t.Fatalf("%s refuses %q; the reference accepts it", check, data)
	}
}

// refResult is the reference's verdict on a JSON object.
type refResult struct {
	ok          bool // an object with no duplicate or case-colliding name
	escapedKey  bool // some top-level key is written with an escape
	invalidUTF8 bool // the input is not valid UTF-8
	stringDate  bool // exp, nbf or iat is a string
}

// refCheckNames walks the top-level keys of valid JSON with
// encoding/json's Decoder.Token, unescaped, and refuses exact duplicates and
// keys that strings.EqualFold one of known without being it.
func refCheckNames(data []byte, known [][]byte) refResult {
	r := refResult{invalidUTF8: !utf8.Valid(data)}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return r
	}
	seen := map[string]bool{}
	for dec.More() {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return r
		}
		key, ok := tok.(string)
		if !ok {
			return r
		}
		raw := data[before:dec.InputOffset()] // the key, after a comma and spaces
		if bytes.IndexByte(raw, '\\') >= 0 {
			r.escapedKey = true
		}
		if seen[key] {
			return r
		}
		seen[key] = true
		for _, k := range known {
			if key != string(k) && strings.EqualFold(key, string(k)) {
				return r
			}
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return r
		}
		if (key == "exp" || key == "nbf" || key == "iat") && len(value) > 0 && value[0] == '"' {
			r.stringDate = true
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return r
	}
	r.ok = true
	return r
}

// The real tokens FuzzVerify seeds with pass the verifiers of their kind, so
// the success path of the target is exercised, and fail the other kind's.
func TestFuzzRealTokensVerify(t *testing.T) {
	a := newFuzzAuth(t, "hs")
	for _, signer := range []string{"hs", "ed"} {
		access, refresh := fuzzRealTokens(t, newFuzzAuth(t, signer))
		for _, c := range []struct {
			v     *verifier
			tok   string
			valid bool
		}{
			{a.access, access, true}, {a.logoutAccess, access, true}, {a.refresh, refresh, true}, {a.logoutRefresh, refresh, true},
			{a.access, refresh, false}, {a.logoutAccess, refresh, false}, {a.refresh, access, false}, {a.logoutRefresh, access, false},
		} {
			if _, err := c.v.verify(c.tok); (err == nil) != c.valid {
				t.Errorf("%s key, %s verifier: err %v, want valid=%v", signer, c.v.kind.claimType, err, c.valid)
			}
		}
	}
}
