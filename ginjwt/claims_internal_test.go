package ginjwt

import "testing"

func TestCheckClaimNames(t *testing.T) {
	cases := []struct {
		json string
		ok   bool
	}{
		{`{}`, true},
		{` { "sub" : "a" , "exp" : 1 } `, true},
		{`{"sub":"a","ext":{"exp":1,"EXP":2,"sub":"x"},"aud":["a","b"]}`, true},
		{`{"sub":"a \" } , \"exp\":","exp":1}`, true},
		{`{"custom":1,"CUSTOM":2}`, true},
		{`{"sub":"a","sub":"b"}`, false},
		{`{"exp":1,"EXP":9}`, false},
		{`{"Sub":"a"}`, false},
		{"{\"\u017fid\":\"x\"}", false}, // ſ folds to s in encoding/json
		{`{"\u0065xp":1}`, false},
		{`{"ext":{"a":[1,{"b":"}"}]},"ext":null}`, false},
		{`[]`, false},
		{`{"sub" "a"}`, false},
		{`{"sub":"a"`, false},
		{``, false},
	}
	for _, tc := range cases {
		err := checkClaimNames([]byte(tc.json))
		if (err == nil) != tc.ok {
			t.Errorf("checkClaimNames(%s) = %v, want ok=%v", tc.json, err, tc.ok)
		}
	}
}

func TestCheckClaimNamesDoesNotAllocate(t *testing.T) {
	payload := []byte(`{"iss":"jwtguard","sub":"alice","aud":["jwtguard"],"exp":1,"nbf":1,"iat":1,"jti":"x","typ":"access","sid":"s","ver":1,"gen":1,"auth_time":1,"ext":{"name":"A"}}`)
	if n := testing.AllocsPerRun(100, func() { _ = checkClaimNames(payload) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

// members remembers the known names it has seen in one bit each of a uint64.
func TestKnownNamesFit(t *testing.T) {
	for _, known := range [][][]byte{claimNames, headerNames, confirmationNames.known, tokenRequestNames.known} {
		if len(known) > 64 {
			t.Fatalf("%d known names: members.seenKnown holds 64", len(known))
		}
	}
}
