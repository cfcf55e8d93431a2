package dpop

import "testing"

func benchmarkVerify(b *testing.B, key *testKey) {
	v := testVerifier(b, Config{})
	proof := key.proof()
	req := testRequest()
	if _, err := v.Verify(proof, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(proof, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyES256(b *testing.B) { benchmarkVerify(b, testKeys().ec) }

func BenchmarkVerifyEdDSA(b *testing.B) { benchmarkVerify(b, testKeys().ed) }

func BenchmarkVerifyRS256(b *testing.B) { benchmarkVerify(b, testKeys().rsa) }
