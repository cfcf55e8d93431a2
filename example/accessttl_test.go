package main

import (
	"strings"
	"testing"
	"time"
)

// ACCESS_TTL sets the access token lifetime; the JavaScript client's tests
// use it to watch tokens expire.
func TestAccessTTL(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == "ACCESS_TTL" {
				return v, true
			}
			return "", false
		}
	}
	cfg, err := loadConfig(env("2s"))
	if err != nil || cfg.accessTTL != 2*time.Second {
		t.Fatalf("ACCESS_TTL=2s: got %v, %v", cfg.accessTTL, err)
	}
	if cfg, err := loadConfig(env("")); err != nil || cfg.accessTTL != 0 {
		t.Fatalf("empty ACCESS_TTL: got %v, %v; want the default", cfg.accessTTL, err)
	}
	for _, bad := range []string{"soon", "500ms", "-1m"} {
		if _, err := loadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "ACCESS_TTL") {
			t.Errorf("ACCESS_TTL=%s: got %v, want an error naming ACCESS_TTL", bad, err)
		}
	}

	c := startApp(t, config{secret: testSecret, accessTTL: 2 * time.Second})
	if tr := c.login("alice", "wonderland"); tr.ExpiresIn != 2 {
		t.Fatalf("expires_in %d, want 2", tr.ExpiresIn)
	}
}
