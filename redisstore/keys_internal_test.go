package redisstore

import (
	"encoding/base64"
	"strings"
	"testing"
)

// keysFor gives the documented keys, whatever the subject's length.
func TestKeysFor(t *testing.T) {
	s := &Store{prefix: "app:"}
	for _, subject := range []string{"", "a", "alice@example.com", strings.Repeat("ü", 100), "{}:\x00"} {
		tag := base64.RawURLEncoding.EncodeToString([]byte(subject))
		base := "app:{" + tag + "}:"
		want := keys{tag: tag, version: base + "v", index: base + "u", sessionPrefix: base + "s:", legacy: base + "x"}
		if got := s.keysFor(subject); got != want {
			t.Errorf("keysFor(%q) = %+v; want %+v", subject, got, want)
		}
	}
}

// keysFor builds the keys of a subject in one allocation.
func TestKeysForAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need the race detector off")
	}
	s := &Store{prefix: "app:"}
	if n := testing.AllocsPerRun(100, func() { _ = s.keysFor("alice@example.com") }); n != 1 {
		t.Errorf("keysFor allocates %v times; want 1", n)
	}
}
