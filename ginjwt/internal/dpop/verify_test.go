package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// del marks a member to delete in with.
type delMarker struct{}

var del delMarker

// with returns a copy of m with the given name/value pairs set, or
// deleted when the value is del.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == del {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

// withJWK returns k's header with the jwk members changed.
func withJWK(k *testKey, kv ...any) map[string]any {
	return with(k.header(), "jwk", with(k.jwk(), kv...))
}

// signEncoded signs already encoded header and claims segments.
func (k *testKey) signEncoded(h, c string) string {
	sig, err := k.method.Sign(h+"."+c, k.priv)
	if err != nil {
		panic(err)
	}
	return h + "." + c + "." + enc.EncodeToString(sig)
}

// dirtyBits sets a spare low bit in the last character of a base64url
// string whose decoded length is not a multiple of 3: the standard
// decoder would accept it and return the same bytes.
func dirtyBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

// replacePart replaces segment i of a compact proof.
func replacePart(proof string, i int, part string) string {
	parts := strings.Split(proof, ".")
	parts[i] = part
	return strings.Join(parts, ".")
}

func flipSig(proof string) string {
	parts := strings.Split(proof, ".")
	sig, _ := enc.DecodeString(parts[2])
	sig[0] ^= 0xff
	parts[2] = enc.EncodeToString(sig)
	return strings.Join(parts, ".")
}

type refusal struct {
	name   string
	cfg    Config
	req    func(*Request)
	proof  func() string
	want   error  // sentinel
	reason string // the check expected to refuse; "" for ErrInvalidRequest
}

// refusals lists one proof per check, each valid but for one defect. Each
// row asserts the reason of the refusal, which proves that the intended
// check refused it: every earlier check passed, and every later one would
// pass since the defect is the only one. A verifier missing that check
// would accept the proof.
func refusals() []refusal {
	k := testKeys()
	ec, ed, rs := k.ec, k.ed, k.rsa
	token := "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	ath := func(t string) string { s := sha256.Sum256([]byte(t)); return enc.EncodeToString(s[:]) }
	withToken := func(r *Request) { r.AccessToken = token }
	withNonce := func(r *Request) { r.Nonce = "eyJ7S_zG.eyJH0-Z.HX4w-7v" }
	claims := validClaims
	hs256 := func() string {
		h := mustJSON(with(ec.header(), "alg", "HS256"))
		c := mustJSON(claims())
		input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
		// The classic confusion: the public key used as an HMAC secret.
		secret := []byte(ec.jwk()["x"].(string))
		sig, _ := jwt.SigningMethodHS256.Sign(input, secret)
		return input + "." + enc.EncodeToString(sig)
	}
	return []refusal{
		// Structure.
		{name: "oversized proof", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "pad", strings.Repeat("a", DefaultMaxProofSize)))
		}, want: ErrInvalidProof, reason: reasonSize},
		{name: "oversized for configured limit", cfg: Config{MaxProofSize: 300}, proof: ec.proof, want: ErrInvalidProof, reason: reasonSize},
		{name: "two proofs joined by a dot", proof: func() string { return ec.proof() + "." + ec.proof() }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "two proofs joined by a comma", proof: func() string { return ec.proof() + "," + ec.proof() }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "two proofs joined by a space", proof: func() string { return ec.proof() + " " + ec.proof() }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "leading space", proof: func() string { return " " + ec.proof() }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "newline inside a segment", proof: func() string { p := ec.proof(); return p[:10] + "\n" + p[10:] }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "padding", proof: func() string { return ec.proof() + "==" }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "five segments (JWE)", proof: func() string { return "eyJhbGciOiJub25lIn0.e30.e30.e30.e30" }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "empty signature", proof: func() string { p := ec.proof(); return p[:strings.LastIndexByte(p, '.')+1] }, want: ErrInvalidProof, reason: reasonCompact},
		{name: "non-canonical header base64", proof: func() string {
			h := mustJSON(ec.header())
			for len(h)%3 != 1 {
				h = append(h, ' ')
			}
			return ec.signEncoded(dirtyBits(enc.EncodeToString(h)), enc.EncodeToString(mustJSON(claims())))
		}, want: ErrInvalidProof, reason: reasonEncoding},
		{name: "non-canonical claims base64", proof: func() string {
			c := mustJSON(claims())
			for len(c)%3 != 1 {
				c = append(c, ' ')
			}
			return ec.signEncoded(enc.EncodeToString(mustJSON(ec.header())), dirtyBits(enc.EncodeToString(c)))
		}, want: ErrInvalidProof, reason: reasonEncoding},

		// Header JSON.
		{name: "duplicate typ", proof: func() string {
			h := mustJSON(with(ec.header(), "typ", "JWT"))
			h = append(h[:len(h)-1], `,"typ":"dpop+jwt"}`...)
			return ec.signRaw(h, mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "duplicate typ, escaped", proof: func() string {
			h := mustJSON(with(ec.header(), "typ", "JWT"))
			h = append(h[:len(h)-1], `,"t\u0079p":"dpop+jwt"}`...)
			return ec.signRaw(h, mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "duplicate jwk member", proof: func() string {
			h := mustJSON(withJWK(ec, "x", del))
			x := ec.jwk()["x"].(string)
			h = []byte(strings.Replace(string(h), `"kty":"EC"`, `"kty":"EC","x":"`+enc.EncodeToString(make([]byte, 32))+`","x":"`+x+`"`, 1))
			return ec.signRaw(h, mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "invalid UTF-8 in header", proof: func() string {
			h := mustJSON(with(ec.header(), "kid", "KID"))
			h = []byte(strings.Replace(string(h), "KID", "\xc3\x28", 1))
			return ec.signRaw(h, mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "lone surrogate in claims", proof: func() string {
			c := mustJSON(with(claims(), "jti", "JTI"))
			c = []byte(strings.Replace(string(c), "JTI", `ab\udc00cd`, 1))
			return ec.signRaw(mustJSON(ec.header()), c)
		}, want: ErrInvalidProof, reason: reasonClaimsJSON},
		{name: "unpaired high surrogate in header", proof: func() string {
			h := mustJSON(with(ec.header(), "kid", "KID"))
			h = []byte(strings.Replace(string(h), "KID", `\ud800x`, 1))
			return ec.signRaw(h, mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "nesting too deep", proof: func() string {
			var deep any = 1
			for range maxJSONDepth {
				deep = []any{deep}
			}
			return ec.sign(with(ec.header(), "x", deep), claims())
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "data after header object", proof: func() string {
			return ec.signRaw(append(mustJSON(ec.header()), "{}"...), mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},
		{name: "header is an array", proof: func() string {
			return ec.signRaw([]byte(`[{"typ":"dpop+jwt"}]`), mustJSON(claims()))
		}, want: ErrInvalidProof, reason: reasonHeaderJSON},

		// typ, crit, alg.
		{name: "typ JWT", proof: func() string { return ec.sign(with(ec.header(), "typ", "JWT"), claims()) }, want: ErrInvalidProof, reason: reasonTyp},
		{name: "typ missing", proof: func() string { return ec.sign(with(ec.header(), "typ", del), claims()) }, want: ErrInvalidProof, reason: reasonTyp},
		{name: "typ in other case", proof: func() string { return ec.sign(with(ec.header(), "typ", "DPoP+JWT"), claims()) }, want: ErrInvalidProof, reason: reasonTyp},
		{name: "TYP member instead of typ", proof: func() string { return ec.sign(with(ec.header(), "typ", del, "TYP", "dpop+jwt"), claims()) }, want: ErrInvalidProof, reason: reasonTyp},
		{name: "typ not a string", proof: func() string { return ec.sign(with(ec.header(), "typ", 1), claims()) }, want: ErrInvalidProof, reason: reasonTyp},
		{name: "crit", proof: func() string { return ec.sign(with(ec.header(), "crit", []string{"exp"}, "exp", 1), claims()) }, want: ErrInvalidProof, reason: reasonCrit},
		{name: "alg none", proof: func() string {
			none := &testKey{"none", jwt.SigningMethodES256, ec.priv}
			return none.proof()
		}, want: ErrInvalidProof, reason: reasonAlg},
		{name: "alg HS256 with a jwk", proof: hs256, want: ErrInvalidProof, reason: reasonAlg},
		{name: "alg missing", proof: func() string { return ec.sign(with(ec.header(), "alg", del), claims()) }, want: ErrInvalidProof, reason: reasonAlg},
		{name: "alg es256 in other case", proof: func() string { return ec.sign(with(ec.header(), "alg", "es256"), claims()) }, want: ErrInvalidProof, reason: reasonAlg},
		{name: "alg ES384", proof: k.p384.proof, want: ErrInvalidProof, reason: reasonAlg},
		{name: "alg not configured", cfg: Config{Algorithms: []string{EdDSA}}, proof: ec.proof, want: ErrInvalidProof, reason: reasonAlg},

		// jwk.
		{name: "jwk missing", proof: func() string { return ec.sign(with(ec.header(), "jwk", del), claims()) }, want: ErrInvalidProof, reason: reasonJWKMissing},
		{name: "jwk not an object", proof: func() string { return ec.sign(with(ec.header(), "jwk", "key"), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "jwk null", proof: func() string { return ec.sign(with(ec.header(), "jwk", nil), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "jwk kty missing", proof: func() string { return ec.sign(withJWK(ec, "kty", del), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "jwk kty oct", proof: func() string { return ec.sign(withJWK(ec, "kty", "oct"), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "jwk private d (real scalar)", proof: func() string {
			d := ec.priv.(*ecdsa.PrivateKey).D.FillBytes(make([]byte, 32))
			return ec.sign(withJWK(ec, "d", enc.EncodeToString(d)), claims())
		}, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private d on Ed25519", proof: func() string { return ed.sign(withJWK(ed, "d", "AAAA"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private p", proof: func() string { return rs.sign(withJWK(rs, "p", "AQAB"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private q", proof: func() string { return rs.sign(withJWK(rs, "q", "AQAB"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private dp", proof: func() string { return rs.sign(withJWK(rs, "dp", "AQAB"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private dq", proof: func() string { return rs.sign(withJWK(rs, "dq", "AQAB"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private qi", proof: func() string { return rs.sign(withJWK(rs, "qi", "AQAB"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private oth", proof: func() string { return rs.sign(withJWK(rs, "oth", []any{}), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk symmetric k", proof: func() string { return ec.sign(withJWK(ec, "k", "c2VjcmV0"), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "jwk private member null", proof: func() string { return ec.sign(withJWK(ec, "d", nil), claims()) }, want: ErrInvalidProof, reason: reasonJWKPrivate},
		{name: "wrong curve P-384 for ES256", proof: func() string { return ec.sign(with(ec.header(), "jwk", k.p384.jwk()), claims()) }, want: ErrInvalidProof, reason: reasonCurve},
		{name: "wrong curve X25519 for EdDSA", proof: func() string { return ed.sign(withJWK(ed, "crv", "X25519"), claims()) }, want: ErrInvalidProof, reason: reasonCurve},
		{name: "EC point not on the curve", proof: func() string {
			y, _ := enc.DecodeString(ec.jwk()["y"].(string))
			y[31] ^= 1
			return ec.sign(withJWK(ec, "y", enc.EncodeToString(y)), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "EC x too short", proof: func() string {
			x, _ := enc.DecodeString(ec.jwk()["x"].(string))
			return ec.sign(withJWK(ec, "x", enc.EncodeToString(x[1:])), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "EC x non-canonical base64", proof: func() string {
			return ec.sign(withJWK(ec, "x", dirtyBits(ec.jwk()["x"].(string))), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "EC x not a string", proof: func() string { return ec.sign(withJWK(ec, "x", 5), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "Ed25519 x too long", proof: func() string {
			return ed.sign(withJWK(ed, "x", enc.EncodeToString(make([]byte, 33))), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "RSA n with a leading zero", proof: func() string {
			n, _ := enc.DecodeString(rs.jwk()["n"].(string))
			return rs.sign(withJWK(rs, "n", enc.EncodeToString(append([]byte{0}, n...))), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "RSA e even", proof: func() string { return rs.sign(withJWK(rs, "e", "AQAA"), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "RSA e of 1", proof: func() string { return rs.sign(withJWK(rs, "e", "AQ"), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "RSA e above 65537", proof: func() string {
			return rs.sign(withJWK(rs, "e", enc.EncodeToString(big.NewInt(65539).Bytes())), claims())
		}, want: ErrInvalidProof, reason: reasonJWK},
		{name: "RSA modulus above 4096 bits", proof: func() string { return rs.sign(withJWK(rs, "n", enc.EncodeToString(oddModulus(4096+8))), claims()) }, want: ErrInvalidProof, reason: reasonJWK},
		{name: "ES256 with an Ed25519 jwk", proof: func() string { return ec.sign(with(ec.header(), "jwk", ed.jwk()), claims()) }, want: ErrInvalidProof, reason: reasonKeyMismatch},
		{name: "EdDSA with an EC jwk", proof: func() string { return ed.sign(with(ed.header(), "jwk", ec.jwk()), claims()) }, want: ErrInvalidProof, reason: reasonKeyMismatch},
		{name: "RS256 with an EC jwk", proof: func() string { return rs.sign(with(rs.header(), "jwk", ec.jwk()), claims()) }, want: ErrInvalidProof, reason: reasonKeyMismatch},
		{name: "ES256 with an RSA jwk", proof: func() string { return ec.sign(with(ec.header(), "jwk", rs.jwk()), claims()) }, want: ErrInvalidProof, reason: reasonKeyMismatch},
		{name: "jwk alg differs from header alg", proof: func() string { return ec.sign(withJWK(ec, "alg", "RS256"), claims()) }, want: ErrInvalidProof, reason: reasonKeyMismatch},
		{name: "RSA key of 1024 bits", proof: k.rsaSmall.proof, want: ErrInvalidProof, reason: reasonRSASize},
		{name: "RSA key below configured minimum", cfg: Config{MinRSABits: 3072}, proof: rs.proof, want: ErrInvalidProof, reason: reasonRSASize},

		// Signature.
		{name: "bad signature", proof: func() string { return flipSig(ec.proof()) }, want: ErrInvalidProof, reason: reasonSignature},
		{name: "bad EdDSA signature", proof: func() string { return flipSig(ed.proof()) }, want: ErrInvalidProof, reason: reasonSignature},
		{name: "bad RS256 signature", proof: func() string { return flipSig(rs.proof()) }, want: ErrInvalidProof, reason: reasonSignature},
		{name: "signed by another key", proof: func() string { return k.ec2.sign(ec.header(), claims()) }, want: ErrInvalidProof, reason: reasonSignature},
		{name: "modified claims", proof: func() string {
			return replacePart(ec.proof(), 1, enc.EncodeToString(mustJSON(with(claims(), "htu", "https://api.example.com/admin"))))
		}, want: ErrInvalidProof, reason: reasonSignature},
		{name: "modified header", proof: func() string {
			return replacePart(ec.proof(), 0, enc.EncodeToString(mustJSON(with(ec.header(), "kid", "x"))))
		}, want: ErrInvalidProof, reason: reasonSignature},
		{name: "ES256 signature in ASN.1", proof: func() string {
			p := ec.proof()
			in := p[:strings.LastIndexByte(p, '.')]
			sum := sha256.Sum256([]byte(in))
			der, _ := ecdsa.SignASN1(rand.Reader, ec.priv.(*ecdsa.PrivateKey), sum[:])
			return in + "." + enc.EncodeToString(der)
		}, want: ErrInvalidProof, reason: reasonSignature},
		{name: "PS256 header over an RS256 signature", proof: func() string {
			return rs.sign(with(rs.header(), "alg", PS256), claims())
		}, want: ErrInvalidProof, reason: reasonSignature},
		{name: "PS256 with a salt longer than the hash", proof: func() string {
			p := rs.as(PS256).proof()
			in := p[:strings.LastIndexByte(p, '.')]
			sum := sha256.Sum256([]byte(in))
			sig, _ := rsa.SignPSS(rand.Reader, rs.priv.(*rsa.PrivateKey), crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
			return in + "." + enc.EncodeToString(sig)
		}, want: ErrInvalidProof, reason: reasonSignature},
		{name: "RS256 header over a PS256 signature", proof: func() string {
			return rs.as(PS256).sign(rs.header(), claims())
		}, want: ErrInvalidProof, reason: reasonSignature},

		// Claims JSON.
		{name: "duplicate htu", proof: func() string {
			c := mustJSON(with(claims(), "htu", "https://evil.example/"))
			c = append(c[:len(c)-1], `,"htu":"`+testURI+`"}`...)
			return ec.signRaw(mustJSON(ec.header()), c)
		}, want: ErrInvalidProof, reason: reasonClaimsJSON},
		{name: "invalid UTF-8 in claims", proof: func() string {
			c := mustJSON(with(claims(), "jti", "JTI"))
			c = []byte(strings.Replace(string(c), "JTI", "ab\xffcd", 1))
			return ec.signRaw(mustJSON(ec.header()), c)
		}, want: ErrInvalidProof, reason: reasonClaimsJSON},
		{name: "claims not JSON", proof: func() string { return ec.signRaw(mustJSON(ec.header()), []byte("jti=1")) }, want: ErrInvalidProof, reason: reasonClaimsJSON},
		{name: "claims null", proof: func() string { return ec.signRaw(mustJSON(ec.header()), []byte("null")) }, want: ErrInvalidProof, reason: reasonClaimsJSON},

		// jti.
		{name: "empty jti", proof: func() string { return ec.sign(ec.header(), with(claims(), "jti", "")) }, want: ErrInvalidProof, reason: reasonJTI},
		{name: "jti missing", proof: func() string { return ec.sign(ec.header(), with(claims(), "jti", del)) }, want: ErrInvalidProof, reason: reasonJTI},
		{name: "jti not a string", proof: func() string { return ec.sign(ec.header(), with(claims(), "jti", 12345)) }, want: ErrInvalidProof, reason: reasonJTI},
		{name: "jti too long", proof: func() string { return ec.sign(ec.header(), with(claims(), "jti", strings.Repeat("j", 257))) }, want: ErrInvalidProof, reason: reasonJTI},

		// htm.
		{name: "wrong htm", proof: func() string { return ec.sign(ec.header(), with(claims(), "htm", "GET")) }, want: ErrInvalidProof, reason: reasonHTM},
		{name: "htm in lower case", proof: func() string { return ec.sign(ec.header(), with(claims(), "htm", "post")) }, want: ErrInvalidProof, reason: reasonHTM},
		{name: "htm missing", proof: func() string { return ec.sign(ec.header(), with(claims(), "htm", del)) }, want: ErrInvalidProof, reason: reasonHTM},

		// htu.
		{name: "htu other host", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", "https://evil.example.com/resource")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu other path", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", "https://api.example.com/resource2")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu path case", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", "https://api.example.com/Resource")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu trailing slash", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", testURI+"/")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu http scheme", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", "http://api.example.com/resource")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu other port", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "htu", "https://api.example.com:8443/resource"))
		}, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu port 80 on https", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "htu", "https://api.example.com:80/resource"))
		}, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu with userinfo", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "htu", "https://u@api.example.com/resource"))
		}, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu relative", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", "/resource")) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu missing", proof: func() string { return ec.sign(ec.header(), with(claims(), "htu", del)) }, want: ErrInvalidProof, reason: reasonHTU},
		{name: "htu encoded slash", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "htu", "https://api.example.com%2Fresource"))
		}, want: ErrInvalidProof, reason: reasonHTU},

		// iat.
		{name: "iat too old", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "iat", testNow.Add(-DefaultMaxAge-time.Second).Unix()))
		}, want: ErrInvalidProof, reason: reasonIATOld},
		{name: "iat too old for configured MaxAge", cfg: Config{MaxAge: 5 * time.Second}, proof: func() string {
			return ec.sign(ec.header(), with(claims(), "iat", testNow.Add(-6*time.Second).Unix()))
		}, want: ErrInvalidProof, reason: reasonIATOld},
		{name: "iat too far in the future", proof: func() string {
			return ec.sign(ec.header(), with(claims(), "iat", testNow.Add(DefaultMaxFutureSkew+time.Second).Unix()))
		}, want: ErrInvalidProof, reason: reasonIATFuture},
		{name: "iat missing", proof: func() string { return ec.sign(ec.header(), with(claims(), "iat", del)) }, want: ErrInvalidProof, reason: reasonIATMissing},
		{name: "iat a string", proof: func() string { return ec.sign(ec.header(), with(claims(), "iat", "1764590400")) }, want: ErrInvalidProof, reason: reasonIATMissing},
		{name: "iat huge", proof: func() string { return ec.sign(ec.header(), with(claims(), "iat", 1e300)) }, want: ErrInvalidProof, reason: reasonIATMissing},

		// ath.
		{name: "ath mismatch", req: withToken, proof: func() string { return ec.sign(ec.header(), with(claims(), "ath", ath(token+"x"))) }, want: ErrInvalidProof, reason: reasonATH},
		{name: "ath of the token in another encoding", req: withToken, proof: func() string {
			return ec.sign(ec.header(), with(claims(), "ath", ath(token)+"="))
		}, want: ErrInvalidProof, reason: reasonATH},
		{name: "ath not a string", req: withToken, proof: func() string { return ec.sign(ec.header(), with(claims(), "ath", 1)) }, want: ErrInvalidProof, reason: reasonATH},
		{name: "ath missing with a token", req: withToken, proof: ec.proof, want: ErrInvalidProof, reason: reasonATHMissing},
		{name: "ath without a token", proof: func() string { return ec.sign(ec.header(), with(claims(), "ath", ath(token))) }, want: ErrInvalidProof, reason: reasonATHUnbound},

		// nonce.
		{name: "nonce missing", req: withNonce, proof: ec.proof, want: ErrUseNonce, reason: reasonNonce},
		{name: "nonce wrong", req: withNonce, proof: func() string { return ec.sign(ec.header(), with(claims(), "nonce", "stale-nonce")) }, want: ErrUseNonce, reason: reasonNonce},
		{name: "nonce not a string", req: withNonce, proof: func() string { return ec.sign(ec.header(), with(claims(), "nonce", 7)) }, want: ErrInvalidProof, reason: reasonNonceSyntax},
		{name: "nonce empty", proof: func() string { return ec.sign(ec.header(), with(claims(), "nonce", "")) }, want: ErrInvalidProof, reason: reasonNonceSyntax},
		{name: "nonce missing and htm wrong", req: withNonce, proof: func() string { return ec.sign(ec.header(), with(claims(), "htm", "GET")) }, want: ErrInvalidProof, reason: reasonHTM},

		// The request itself.
		{name: "request without method", req: func(r *Request) { r.Method = "" }, proof: ec.proof, want: ErrInvalidRequest},
		{name: "request URI relative", req: func(r *Request) { r.URI = "/resource" }, proof: ec.proof, want: ErrInvalidRequest},
		{name: "request URI ftp", req: func(r *Request) { r.URI = "ftp://api.example.com/resource" }, proof: ec.proof, want: ErrInvalidRequest},
		{name: "request token not ASCII", req: func(r *Request) { r.AccessToken = "tök" }, proof: ec.proof, want: ErrInvalidRequest},
	}
}

func TestVerifyRefusals(t *testing.T) {
	for _, tc := range refusals() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := testVerifier(t, tc.cfg)
			req := testRequest()
			if tc.req != nil {
				tc.req(&req)
			}
			proof := tc.proof()
			p, err := v.Verify(proof, req)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrInvalidProof, ErrUseNonce, ErrInvalidRequest} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("err = %v also matches %v", err, other)
				}
			}
			var ce *checkError
			if !errors.As(err, &ce) {
				t.Fatalf("err %v is not a checkError", err)
			}
			if tc.reason != "" && ce.reason != tc.reason {
				t.Errorf("refused by %q, want %q", ce.reason, tc.reason)
			}
			if p != (Proof{}) {
				t.Errorf("non-zero Proof with an error: %+v", p)
			}
			assertNoLeak(t, err, proof, req)
		})
	}
}

// assertNoLeak checks that an error text holds no part of the proof, the
// access token or the nonce.
func assertNoLeak(t *testing.T, err error, proof string, req Request) {
	t.Helper()
	msg := err.Error()
	secrets := []string{req.AccessToken, req.Nonce}
	secrets = append(secrets, strings.FieldsFunc(proof, func(r rune) bool { return r == '.' || r == ',' || r == ' ' })...)
	for _, s := range secrets {
		if len(s) >= 6 && strings.Contains(msg, s) {
			t.Errorf("error text %q leaks input", msg)
		}
	}
	if len(msg) > 100 {
		t.Errorf("error text too long: %q", msg)
	}
}

func TestVerifyAccepts(t *testing.T) {
	k := testKeys()
	for _, key := range []*testKey{k.ec, k.ed, k.rsa, k.rsa.as(PS256)} {
		t.Run(key.alg, func(t *testing.T) {
			v := testVerifier(t, Config{})
			p, err := v.Verify(key.proof(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			want := Proof{
				JKT:       wantJKT(key.jwk()),
				JTI:       validClaims()["jti"].(string),
				IssuedAt:  testNow,
				Algorithm: key.alg,
				Key:       key.priv.Public(),
			}
			if p.JKT != want.JKT || p.JTI != want.JTI || !p.IssuedAt.Equal(want.IssuedAt) || p.Algorithm != want.Algorithm || p.Nonce != "" {
				t.Errorf("got %+v, want %+v", p, want)
			}
			if !want.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(p.Key) {
				t.Error("returned key differs from the signing key")
			}
		})
	}
}

// TestVerifyAcceptsVariants checks that the normalisations and optional
// members the package documents do not cause false refusals.
func TestVerifyAcceptsVariants(t *testing.T) {
	k := testKeys()
	ec := k.ec
	token := "mF_9.B5f-4.1JqM"
	athOf := func(s string) string { sum := sha256.Sum256([]byte(s)); return enc.EncodeToString(sum[:]) }
	tests := []struct {
		name  string
		cfg   Config
		req   func(*Request)
		proof func() string
	}{
		{"htu with query and fragment", Config{}, nil, func() string { return ec.sign(ec.header(), with(validClaims(), "htu", testURI+"?a=1&b=2#frag")) }},
		{"request URI with query", Config{}, func(r *Request) { r.URI = testURI + "?page=2" }, ec.proof},
		{"htu upper-case scheme and host", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "htu", "HTTPS://API.Example.COM/resource"))
		}},
		{"htu default port", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "htu", "https://api.example.com:443/resource"))
		}},
		{"request URI default port", Config{}, func(r *Request) { r.URI = "https://api.example.com:443/resource" }, ec.proof},
		{"http default port", Config{}, func(r *Request) { r.URI = "http://localhost/x" }, func() string { return ec.sign(ec.header(), with(validClaims(), "htu", "http://localhost:80/x")) }},
		{"non-default port both sides", Config{}, func(r *Request) { r.URI = "http://localhost:8080/x" }, func() string { return ec.sign(ec.header(), with(validClaims(), "htu", "http://localhost:08080/x")) }},
		{"percent-encoded unreserved", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "htu", "https://api.example.com/%72esource"))
		}},
		{"percent-encoding hex case", Config{}, func(r *Request) { r.URI = "https://api.example.com/a%2fb" }, func() string {
			return ec.sign(ec.header(), with(validClaims(), "htu", "https://api.example.com/a%2Fb"))
		}},
		{"dot segments", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "htu", "https://api.example.com/a/../resource"))
		}},
		{"empty path", Config{}, func(r *Request) { r.URI = "https://api.example.com" }, func() string { return ec.sign(ec.header(), with(validClaims(), "htu", "https://api.example.com/")) }},
		{"IPv6 host", Config{}, func(r *Request) { r.URI = "https://[::1]:443/resource" }, func() string { return ec.sign(ec.header(), with(validClaims(), "htu", "https://[::1]/resource")) }},
		{"iat at the oldest edge", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "iat", testNow.Add(-DefaultMaxAge).Unix()))
		}},
		{"iat at the future edge", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "iat", testNow.Add(DefaultMaxFutureSkew).Unix()))
		}},
		{"iat fractional", Config{}, nil, func() string { return ec.sign(ec.header(), with(validClaims(), "iat", float64(testNow.Unix())+0.5)) }},
		{"jti at the length limit", Config{}, nil, func() string {
			return ec.sign(ec.header(), with(validClaims(), "jti", strings.Repeat("j", DefaultMaxJTILength)))
		}},
		{"ath with a token", Config{}, func(r *Request) { r.AccessToken = token }, func() string { return ec.sign(ec.header(), with(validClaims(), "ath", athOf(token))) }},
		{"nonce expected", Config{}, func(r *Request) { r.Nonce = "n-1" }, func() string { return ec.sign(ec.header(), with(validClaims(), "nonce", "n-1")) }},
		{"nonce not expected", Config{}, nil, func() string { return ec.sign(ec.header(), with(validClaims(), "nonce", "n-1")) }},
		{"jwk with kid, use and matching alg", Config{}, nil, func() string { return ec.sign(withJWK(ec, "kid", "k1", "use", "sig", "alg", ES256), validClaims()) }},
		{"unknown header and claims members", Config{}, nil, func() string {
			return ec.sign(with(ec.header(), "kid", "k1", "TYP", "x"), with(validClaims(), "extra", map[string]any{"a": []any{1, "b"}}))
		}},
		{"insignificant JSON whitespace", Config{}, nil, func() string {
			h := strings.Replace(string(mustJSON(ec.header())), ",", " ,\n\t", -1)
			return ec.signRaw([]byte(h), mustJSON(validClaims()))
		}},
		{"escaped surrogate pair and escaped backslash", Config{}, nil, func() string {
			c := mustJSON(with(validClaims(), "jti", "JTI"))
			c = []byte(strings.Replace(string(c), "JTI", `\ud83d\ude00\\u`, 1))
			return ec.signRaw(mustJSON(ec.header()), c)
		}},
		{"subset of algorithms", Config{Algorithms: []string{ES256}}, nil, ec.proof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(t, tc.cfg)
			req := testRequest()
			if tc.req != nil {
				tc.req(&req)
			}
			if _, err := v.Verify(tc.proof(), req); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyNonceReturned(t *testing.T) {
	ec := testKeys().ec
	v := testVerifier(t, Config{})
	req := testRequest()
	req.Nonce = "server-nonce"
	p, err := v.Verify(ec.sign(ec.header(), with(validClaims(), "nonce", "server-nonce")), req)
	if err != nil || p.Nonce != "server-nonce" {
		t.Fatalf("Nonce = %q, err = %v", p.Nonce, err)
	}
}

// TestMaxProofSizeBoundary checks the limit is exact: a proof of
// DefaultMaxProofSize bytes passes, one byte more fails.
func TestMaxProofSizeBoundary(t *testing.T) {
	ec := testKeys().ec
	v := testVerifier(t, Config{})
	sized := func(size int) string {
		// Base64 lengths skip every fourth value, so vary a header member
		// as well as the claims padding.
		for kid := range 3 {
			h := with(ec.header(), "kid", strings.Repeat("k", kid+1))
			for pad := size * 3 / 4; pad > 0; pad-- {
				p := ec.sign(h, with(validClaims(), "pad", strings.Repeat("a", pad)))
				if len(p) == size {
					return p
				}
				if len(p) < size {
					break
				}
			}
		}
		t.Fatalf("no proof of %d bytes", size)
		return ""
	}
	if _, err := v.Verify(sized(DefaultMaxProofSize), testRequest()); err != nil {
		t.Fatalf("proof at the limit: %v", err)
	}
	_, err := v.Verify(sized(DefaultMaxProofSize+1), testRequest())
	var ce *checkError
	if !errors.As(err, &ce) || ce.reason != reasonSize {
		t.Fatalf("proof above the limit: %v", err)
	}
}

// TestRFC9449Example verifies the proof of RFC 9449 Figure 2 against the
// request of Figure 3, and its key against the thumbprint of Figure 9.
func TestRFC9449Example(t *testing.T) {
	const proof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	v := testVerifier(t, Config{Now: func() time.Time { return time.Unix(1562262616, 0) }})
	p, err := v.Verify(proof, Request{Method: "POST", URI: "https://server.example.com/token"})
	if err != nil {
		t.Fatal(err)
	}
	if p.JKT != "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" || p.JTI != "-BwC3ESc6acc2lTc" {
		t.Errorf("got %+v", p)
	}
	// The same proof a day later is stale.
	v = testVerifier(t, Config{Now: func() time.Time { return time.Unix(1562262616+86400, 0) }})
	if _, err := v.Verify(proof, Request{Method: "POST", URI: "https://server.example.com/token"}); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("stale example accepted: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	k := testKeys()
	v := testVerifier(t, Config{})
	proofs := []string{k.ec.proof(), k.ed.proof(), k.rsa.proof()}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if _, err := v.Verify(proofs[(i+j)%len(proofs)], testRequest()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAccessTokenHash(t *testing.T) {
	// RFC 9449 §7.1 (Figure 12): the ath of the example access token.
	const token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	if got := AccessTokenHash(token); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("AccessTokenHash = %q", got)
	}
}

// A proof naming its algorithm "Ed25519" (RFC 9864's fully specified name,
// which the dpop npm package sends) verifies as EdDSA does, and a verifier
// configured for EdDSA takes it; its jwk must still be an Ed25519 key.
func TestVerifyAcceptsEd25519Name(t *testing.T) {
	k := testKeys()
	header := k.ed.header()
	header["alg"] = Ed25519
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(validClaims())
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	proof := input + "." + enc.EncodeToString(ed25519.Sign(k.ed.priv.(ed25519.PrivateKey), []byte(input)))
	for _, algs := range [][]string{nil, {EdDSA}, {Ed25519}} {
		p, err := testVerifier(t, Config{Algorithms: algs}).Verify(proof, testRequest())
		if err != nil || p.Algorithm != Ed25519 || p.JKT != wantJKT(k.ed.jwk()) {
			t.Errorf("Algorithms %v: %+v, %v", algs, p, err)
		}
	}
	if _, err := testVerifier(t, Config{Algorithms: []string{ES256}}).Verify(proof, testRequest()); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("an ES256-only verifier took an Ed25519 proof: %v", err)
	}
	header["jwk"] = k.ec.jwk()
	h, _ = json.Marshal(header)
	input = enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	proof = input + "." + enc.EncodeToString(ed25519.Sign(k.ed.priv.(ed25519.PrivateKey), []byte(input)))
	if _, err := testVerifier(t, Config{}).Verify(proof, testRequest()); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("Ed25519 with an EC jwk accepted: %v", err)
	}
}
