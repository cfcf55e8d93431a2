package dpop

import "time"

// Algorithms a Verifier can accept: the JWS "alg" values it understands.
// "none" and the MAC algorithms (HS256...) are never accepted.
const (
	ES256 = "ES256" // ECDSA on P-256 with SHA-256; jwk kty "EC", crv "P-256"
	EdDSA = "EdDSA" // Ed25519; jwk kty "OKP", crv "Ed25519"
	// Ed25519 is RFC 9864's fully specified name of EdDSA with Ed25519,
	// which newer clients (such as the dpop npm package) send instead of
	// "EdDSA". Accepting one accepts the other.
	Ed25519 = "Ed25519"
	RS256   = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256; jwk kty "RSA"
	PS256   = "PS256" // RSASSA-PSS with SHA-256, salt length 32; jwk kty "RSA"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxAge        = 60 * time.Second
	DefaultMaxFutureSkew = 10 * time.Second
	DefaultMaxProofSize  = 8 << 10
	DefaultMaxJTILength  = 256
	DefaultMinRSABits    = 2048
)

// Limits on Config values.
const (
	maxMaxProofSize = 64 << 10
	maxNonceLength  = 512
)

// Config configures a Verifier. The zero value is usable: every zero field
// takes its default.
type Config struct {
	// Algorithms lists the accepted "alg" values, a subset of ES256,
	// EdDSA, RS256 and PS256. Empty means all four.
	Algorithms []string

	// MaxAge is how far in the past a proof's iat may lie
	// (default DefaultMaxAge). A replay cache must remember a jti for at
	// least MaxAge+MaxFutureSkew.
	MaxAge time.Duration

	// MaxFutureSkew is how far in the future a proof's iat may lie, to
	// absorb client clocks running ahead (default DefaultMaxFutureSkew).
	MaxFutureSkew time.Duration

	// MaxProofSize bounds the proof's length in bytes, checked before any
	// decoding (default DefaultMaxProofSize, at most 64 KiB).
	MaxProofSize int

	// MaxJTILength bounds the jti claim's length in bytes
	// (default DefaultMaxJTILength).
	MaxJTILength int

	// MinRSABits is the smallest RSA modulus accepted, at least 2048
	// (default DefaultMinRSABits). Moduli above 4096 bits and public
	// exponents above 65537 are always refused.
	MinRSABits int

	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Verifier checks DPoP proofs. It holds no mutable state and is safe for
// concurrent use.
type Verifier struct {
	algs          [4]bool // indexed by algIndex
	maxAge        time.Duration
	maxFutureSkew time.Duration
	maxProofSize  int
	maxJTILength  int
	minRSABits    int
	now           func() time.Time
}

// algIndex returns the position of alg in Verifier.algs, or -1.
func algIndex(alg string) int {
	switch alg {
	case ES256:
		return 0
	case EdDSA, Ed25519:
		return 1
	case RS256:
		return 2
	case PS256:
		return 3
	}
	return -1
}

// New returns a Verifier for cfg, or an error wrapping ErrInvalidConfig.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{
		maxAge:        orDefault(cfg.MaxAge, DefaultMaxAge),
		maxFutureSkew: orDefault(cfg.MaxFutureSkew, DefaultMaxFutureSkew),
		maxProofSize:  orDefault(cfg.MaxProofSize, DefaultMaxProofSize),
		maxJTILength:  orDefault(cfg.MaxJTILength, DefaultMaxJTILength),
		minRSABits:    orDefault(cfg.MinRSABits, DefaultMinRSABits),
		now:           cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.maxAge < 0 || v.maxFutureSkew < 0:
		return nil, badConfig("negative iat window")
	case v.maxProofSize < 0 || v.maxProofSize > maxMaxProofSize:
		return nil, badConfig("MaxProofSize out of range")
	case v.maxJTILength < 0:
		return nil, badConfig("negative MaxJTILength")
	case v.minRSABits < DefaultMinRSABits || v.minRSABits > maxRSABits:
		return nil, badConfig("MinRSABits out of range")
	}
	if len(cfg.Algorithms) == 0 {
		v.algs = [4]bool{true, true, true, true}
	}
	for _, alg := range cfg.Algorithms {
		i := algIndex(alg)
		if i < 0 {
			return nil, badConfig("unsupported algorithm")
		}
		v.algs[i] = true
	}
	return v, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
