package dpop

import (
	"errors"
	"testing"
	"time"
)

func TestNewDefaults(t *testing.T) {
	v, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if v.algs != [4]bool{true, true, true, true} || v.maxAge != DefaultMaxAge || v.maxFutureSkew != DefaultMaxFutureSkew ||
		v.maxProofSize != DefaultMaxProofSize || v.maxJTILength != DefaultMaxJTILength || v.minRSABits != DefaultMinRSABits || v.now == nil {
		t.Errorf("defaults not applied: %+v", v)
	}
}

func TestNewRefusals(t *testing.T) {
	for name, cfg := range map[string]Config{
		"alg none":           {Algorithms: []string{"none"}},
		"alg HS256":          {Algorithms: []string{ES256, "HS256"}},
		"alg ES384":          {Algorithms: []string{"ES384"}},
		"alg in lower case":  {Algorithms: []string{"es256"}},
		"negative MaxAge":    {MaxAge: -time.Second},
		"negative skew":      {MaxFutureSkew: -time.Second},
		"negative size":      {MaxProofSize: -1},
		"huge size":          {MaxProofSize: 1 << 20},
		"negative jti":       {MaxJTILength: -1},
		"RSA 1024":           {MinRSABits: 1024},
		"RSA above the hard": {MinRSABits: 16384},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
