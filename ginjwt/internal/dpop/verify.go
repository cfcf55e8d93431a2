package dpop

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"math"
	"strings"
	"time"
)

// Request describes the HTTP request a proof came with.
type Request struct {
	// Method is the request method, compared case-sensitively with htm.
	Method string

	// URI is the request's target URI, built by the caller from its
	// configured external base URL and the request path; query and
	// fragment, if any, are ignored. Verify never looks at Host headers.
	URI string

	// AccessToken is the access token presented with the proof, or ""
	// when there is none (at a token endpoint). When set, the proof must
	// carry a matching ath; when empty, a proof carrying ath is refused.
	AccessToken string

	// Nonce is the DPoP nonce the server expects, or "" when it expects
	// none. A proof lacking it, or carrying another value, fails with
	// ErrUseNonce.
	Nonce string
}

// Proof is what a valid proof establishes.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's public key,
	// to compare with the token's cnf.jkt or to bind a new token to.
	JKT string

	// JTI is the proof's unique identifier, for the replay cache.
	JTI string

	// IssuedAt is the proof's iat.
	IssuedAt time.Time

	// Nonce is the proof's nonce claim, "" when it carries none.
	Nonce string

	// Algorithm is the JWS algorithm the proof was signed with.
	Algorithm string

	// Key is the proof's public key: *ecdsa.PublicKey,
	// ed25519.PublicKey or *rsa.PublicKey.
	Key crypto.PublicKey
}

// Verify checks proof, the value of a request's DPoP header, against req
// (RFC 9449 §4.3). It returns an error wrapping ErrInvalidProof for a
// proof that fails a check, ErrUseNonce for an otherwise valid proof that
// lacks req.Nonce, and ErrInvalidRequest when req itself is unusable.
//
// Verify does not detect replays: the caller must record Proof.JTI (with
// Proof.JKT) for at least MaxAge+MaxFutureSkew and refuse a repeat.
func (v *Verifier) Verify(proof string, req Request) (Proof, error) {
	if req.Method == "" {
		return Proof{}, badRequest("empty method")
	}
	wantURI, ok := normalizeURI(req.URI)
	if !ok {
		return Proof{}, badRequest("URI is not an absolute http(s) URI")
	}
	if !isASCII(req.AccessToken) {
		return Proof{}, badRequest("access token is not ASCII")
	}

	// Structure (check 1): one compact JWS, size bounded before decoding.
	if len(proof) > v.maxProofSize {
		return Proof{}, invalid(reasonSize)
	}
	h, c, s, ok := splitCompact(proof)
	if !ok {
		return Proof{}, invalid(reasonCompact)
	}

	// Header (checks 2 to 6).
	headerJSON, err := b64.DecodeString(h)
	if err != nil {
		return Proof{}, invalid(reasonEncoding)
	}
	header, ok := parseObject(headerJSON)
	if !ok {
		return Proof{}, invalid(reasonHeaderJSON)
	}
	if typ, _, _ := stringMember(header, "typ"); typ != "dpop+jwt" {
		return Proof{}, invalid(reasonTyp)
	}
	if _, ok := header["crit"]; ok {
		return Proof{}, invalid(reasonCrit)
	}
	alg, _, _ := stringMember(header, "alg")
	if i := algIndex(alg); i < 0 || !v.algs[i] {
		return Proof{}, invalid(reasonAlg)
	}
	jwkRaw, ok := header["jwk"]
	if !ok {
		return Proof{}, invalid(reasonJWKMissing)
	}
	var jwk map[string]json.RawMessage
	if err := json.Unmarshal(jwkRaw, &jwk); err != nil || jwk == nil {
		return Proof{}, invalid(reasonJWK)
	}
	pub, reason := parsePublicJWK(jwk)
	if reason != "" {
		return Proof{}, invalid(reason)
	}
	if jwkAlg, present, ok := stringMember(jwk, "alg"); present && (!ok || jwkAlg != alg) {
		return Proof{}, invalid(reasonKeyMismatch)
	}
	if reason := v.keyFits(alg, pub); reason != "" {
		return Proof{}, invalid(reason)
	}

	// Signature (check 7).
	sig, err := b64.DecodeString(s)
	if err != nil {
		return Proof{}, invalid(reasonEncoding)
	}
	if !verifySignature(alg, pub, proof[:len(h)+1+len(c)], sig) {
		return Proof{}, invalid(reasonSignature)
	}

	// Claims (checks 3 and 8 to 12).
	claimsJSON, err := b64.DecodeString(c)
	if err != nil {
		return Proof{}, invalid(reasonEncoding)
	}
	claims, ok := parseObject(claimsJSON)
	if !ok {
		return Proof{}, invalid(reasonClaimsJSON)
	}
	jti, _, _ := stringMember(claims, "jti")
	if jti == "" || len(jti) > v.maxJTILength {
		return Proof{}, invalid(reasonJTI)
	}
	if htm, _, _ := stringMember(claims, "htm"); htm != req.Method {
		return Proof{}, invalid(reasonHTM)
	}
	htu, _, _ := stringMember(claims, "htu")
	if got, ok := normalizeURI(htu); !ok || got != wantURI {
		return Proof{}, invalid(reasonHTU)
	}
	iat, reason := v.checkIssuedAt(claims)
	if reason != "" {
		return Proof{}, invalid(reason)
	}
	ath, athPresent, athOK := stringMember(claims, "ath")
	switch {
	case req.AccessToken == "" && athPresent:
		return Proof{}, invalid(reasonATHUnbound)
	case req.AccessToken != "" && !athPresent:
		return Proof{}, invalid(reasonATHMissing)
	case req.AccessToken != "" && (!athOK || !equal(ath, AccessTokenHash(req.AccessToken))):
		return Proof{}, invalid(reasonATH)
	}
	nonce, noncePresent, nonceOK := stringMember(claims, "nonce")
	if noncePresent && (!nonceOK || nonce == "" || len(nonce) > maxNonceLength) {
		return Proof{}, invalid(reasonNonceSyntax)
	}

	// Nonce (check 10) last: ErrUseNonce tells the client that only the
	// nonce is missing, so every other check must have passed.
	if req.Nonce != "" && (!noncePresent || !equal(nonce, req.Nonce)) {
		return Proof{}, &checkError{ErrUseNonce, reasonNonce}
	}

	jkt, err := KeyThumbprint(pub)
	if err != nil { // unreachable: parsePublicJWK returns supported keys only
		return Proof{}, invalid(reasonJWK)
	}
	return Proof{
		JKT:       jkt,
		JTI:       jti,
		IssuedAt:  iat,
		Nonce:     nonce,
		Algorithm: alg,
		Key:       pub,
	}, nil
}

// checkIssuedAt reads iat and checks it lies within the window around now.
func (v *Verifier) checkIssuedAt(claims map[string]json.RawMessage) (time.Time, string) {
	f, ok := numberMember(claims, "iat")
	// ±1e11 s is about ±3000 years: far beyond any window, and small
	// enough for the conversion below to be exact enough and not overflow.
	if !ok || math.IsNaN(f) || f < -1e11 || f > 1e11 {
		return time.Time{}, reasonIATMissing
	}
	sec, frac := math.Modf(f)
	iat := time.Unix(int64(sec), int64(frac*1e9))
	now := v.now()
	if iat.Before(now.Add(-v.maxAge)) {
		return time.Time{}, reasonIATOld
	}
	if iat.After(now.Add(v.maxFutureSkew)) {
		return time.Time{}, reasonIATFuture
	}
	return iat, ""
}

// AccessTokenHash returns the ath value for an access token: the
// base64url encoding, without padding, of the SHA-256 hash of its ASCII
// text (RFC 9449 §4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}

// splitCompact splits a compact JWS into its three parts. It refuses any
// byte outside the base64url alphabet other than the two separating dots,
// so whitespace, padding, a JWE (five parts) or two proofs joined with a
// comma or a space never get as far as the decoder.
func splitCompact(proof string) (header, claims, sig string, ok bool) {
	dots := 0
	for i := 0; i < len(proof); i++ {
		c := proof[i]
		if c == '.' {
			dots++
			continue
		}
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", "", "", false
		}
	}
	if dots != 2 {
		return "", "", "", false
	}
	header, rest, _ := strings.Cut(proof, ".")
	claims, sig, _ = strings.Cut(rest, ".")
	if header == "" || claims == "" || sig == "" {
		return "", "", "", false
	}
	return header, claims, sig, true
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
