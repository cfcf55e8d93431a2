package ginjwt_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// New refuses each bad option with an error that names it.
func TestNewRejectsBadOptions(t *testing.T) {
	valid := func() ginjwt.Options {
		return ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}}
	}
	if _, err := ginjwt.New(valid()); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	cases := []struct {
		name   string
		change func(*ginjwt.Options)
		names  string
	}{
		{"no store", func(o *ginjwt.Options) { o.Store = nil }, "Options.Store"},
		{"no keys", func(o *ginjwt.Options) { o.Keys = nil }, "Options.Keys"},
		{"empty secret", func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{ginjwt.HS256(nil)} }, "Options.Keys[0].Secret"},
		{"short secret", func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{ginjwt.HS256(testSecret[:31])} }, "Options.Keys[0].Secret"},
		{"unknown algorithm", func(o *ginjwt.Options) {
			o.Keys = []ginjwt.Key{{Algorithm: "none", Secret: testSecret}}
		}, "Options.Keys[0].Algorithm"},
		{"several keys without ids", func(o *ginjwt.Options) {
			o.Keys = []ginjwt.Key{{ID: "a", Algorithm: "HS256", Secret: testSecret}, {Algorithm: "HS512", Secret: testSecret}}
		}, "Options.Keys[1].ID"},
		{"duplicate key ids", func(o *ginjwt.Options) {
			o.Keys = []ginjwt.Key{{ID: "a", Algorithm: "HS256", Secret: testSecret}, {ID: "a", Algorithm: "HS256", Secret: testSecret}}
		}, "Options.Keys[1].ID"},
		{"key id not UTF-8", func(o *ginjwt.Options) {
			o.Keys = []ginjwt.Key{{ID: "k\xff", Algorithm: "HS256", Secret: testSecret}}
		}, "Options.Keys[0].ID"},
		{"access TTL under a second", func(o *ginjwt.Options) { o.AccessTTL = time.Millisecond }, "Options.AccessTTL"},
		{"negative access TTL", func(o *ginjwt.Options) { o.AccessTTL = -time.Minute }, "Options.AccessTTL"},
		{"refresh TTL not above access TTL", func(o *ginjwt.Options) { o.AccessTTL, o.RefreshTTL = time.Hour, time.Hour }, "Options.RefreshTTL"},
		{"max age under refresh TTL", func(o *ginjwt.Options) { o.SessionMaxAge = time.Hour }, "Options.SessionMaxAge"},
		{"negative grace", func(o *ginjwt.Options) { o.RefreshGrace = -time.Second }, "Options.RefreshGrace"},
		{"grace too long", func(o *ginjwt.Options) { o.RefreshGrace = time.Hour }, "Options.RefreshGrace"},
		{"leeway too long", func(o *ginjwt.Options) { o.Leeway = 5 * time.Minute }, "Options.Leeway"},
		{"negative leeway", func(o *ginjwt.Options) { o.Leeway = -time.Second }, "Options.Leeway"},
		{"tiny max token size", func(o *ginjwt.Options) { o.MaxTokenSize = 10 }, "Options.MaxTokenSize"},
		{"huge token cache", func(o *ginjwt.Options) { o.TokenCacheSize = ginjwt.MaxTokenCacheSize + 1 }, "Options.TokenCacheSize"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.change(&o)
			auth, err := ginjwt.New(o)
			if err == nil || auth != nil {
				t.Fatalf("New accepted it")
			}
			if !errors.Is(err, ginjwt.ErrInvalidOptions) {
				t.Errorf("error %q does not wrap ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("error %q does not name %s", err, tc.names)
			}
			if strings.Contains(err.Error(), string(testSecret[:16])) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

// LoginHandler without Authenticate is a set-up mistake caught at once.
func TestLoginHandlerNeedsAuthenticate(t *testing.T) {
	auth, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("LoginHandler without Authenticate did not panic at set-up")
		}
	}()
	auth.LoginHandler()
}
