package dpop

import (
	"crypto/ecdsa"
	"errors"
	"testing"
)

// rfc7638Key is the RSA key of RFC 7638 §3.1.
const rfc7638Key = `{
  "kty": "RSA",
  "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
  "e": "AQAB",
  "alg": "RS256",
  "kid": "2011-04-29"
}`

func TestThumbprintVectors(t *testing.T) {
	tests := []struct{ name, jwk, want string }{
		{"RFC 7638 §3.1 RSA", rfc7638Key, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{"RFC 9449 Figure 9 EC", `{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}`, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		{"RFC 8037 A.3 Ed25519", `{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"},
		{"member order, whitespace and extra members do not count", `{ "use":"sig", "y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA", "crv":"P-256", "x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", "kty":"EC", "kid":"a" }`, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Thumbprint([]byte(tc.jwk))
			if err != nil || got != tc.want {
				t.Errorf("Thumbprint = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestThumbprintRefusals(t *testing.T) {
	for name, jwk := range map[string]string{
		"private d":         `{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`,
		"symmetric":         `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`,
		"duplicate x":       `{"crv":"Ed25519","kty":"OKP","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		"unsupported curve": `{"crv":"Ed448","kty":"OKP","x":"X9dEm1m0Yf0s54fsYWrUah2hNCSFpw4fig6nXYDpZ3jt8SR2m0bHBhvWeD3x5Q9s0foavq_oJWGA"}`,
		"not JSON":          `kty=RSA`,
		"empty":             ``,
	} {
		if _, err := Thumbprint([]byte(jwk)); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestKeyThumbprint(t *testing.T) {
	k := testKeys()
	for _, key := range []*testKey{k.ec, k.ed, k.rsa} {
		got, err := KeyThumbprint(key.priv.Public())
		if err != nil || got != wantJKT(key.jwk()) {
			t.Errorf("%s: KeyThumbprint = %q, %v; want %q", key.alg, got, err, wantJKT(key.jwk()))
		}
	}
	for _, pub := range []any{k.p384.priv.Public(), &ecdsa.PublicKey{}, []byte("key"), nil} {
		if _, err := KeyThumbprint(pub); err == nil {
			t.Errorf("KeyThumbprint(%T) succeeded", pub)
		}
	}
}
