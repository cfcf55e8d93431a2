package dpop

import "errors"

// Sentinel errors, for use with errors.Is.
var (
	// ErrInvalidProof is wrapped by every refusal of a proof except a
	// missing or wrong nonce. A server answers it with the
	// "invalid_dpop_proof" error code.
	ErrInvalidProof = errors.New("dpop: invalid proof")

	// ErrUseNonce means the proof is otherwise valid but lacks the nonce
	// the server expects, or carries another one. A server answers it with
	// the "use_dpop_nonce" error code and a fresh DPoP-Nonce header.
	ErrUseNonce = errors.New("dpop: proof lacks the expected nonce")

	// ErrInvalidRequest means the Request given to Verify is unusable (an
	// empty method, a target URI that is not an absolute http(s) URI, a
	// non-ASCII access token): a fault of the caller, not of the client.
	ErrInvalidRequest = errors.New("dpop: invalid request")

	// ErrInvalidConfig is wrapped by every error New returns.
	ErrInvalidConfig = errors.New("dpop: invalid config")
)

// checkError is a refusal: a sentinel plus the name of the check that
// failed. The reason is a fixed string chosen by this package; it never
// holds input text.
type checkError struct {
	kind   error
	reason string
}

func (e *checkError) Error() string { return e.kind.Error() + ": " + e.reason }

func (e *checkError) Unwrap() error { return e.kind }

func invalid(reason string) error { return &checkError{ErrInvalidProof, reason} }

func badRequest(reason string) error { return &checkError{ErrInvalidRequest, reason} }

func badConfig(reason string) error { return &checkError{ErrInvalidConfig, reason} }

// Reasons for ErrInvalidProof. Tests match them to prove that a refusal
// came from the check it was meant to exercise.
const (
	reasonSize        = "proof too large"
	reasonCompact     = "not a single compact JWS"
	reasonEncoding    = "bad base64url encoding"
	reasonHeaderJSON  = "header is not a strict JSON object"
	reasonTyp         = "typ is not dpop+jwt"
	reasonCrit        = "crit header not supported"
	reasonAlg         = "alg not allowed"
	reasonJWKMissing  = "jwk header missing"
	reasonJWK         = "jwk is not a valid public key"
	reasonJWKPrivate  = "jwk holds private key members"
	reasonCurve       = "jwk curve not supported"
	reasonKeyMismatch = "jwk does not fit alg"
	reasonRSASize     = "RSA key size not allowed"
	reasonSignature   = "signature invalid"
	reasonClaimsJSON  = "claims are not a strict JSON object"
	reasonJTI         = "jti missing or invalid"
	reasonHTM         = "htm does not match the request method"
	reasonHTU         = "htu does not match the request URI"
	reasonIATMissing  = "iat missing or invalid"
	reasonIATOld      = "iat too old"
	reasonIATFuture   = "iat in the future"
	reasonATHMissing  = "ath missing"
	reasonATH         = "ath does not match the access token"
	reasonATHUnbound  = "ath present without an access token"
	reasonNonceSyntax = "nonce invalid"
	reasonNonce       = "nonce missing or wrong"
)
