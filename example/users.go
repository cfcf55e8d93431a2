package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"golang.org/x/crypto/bcrypt"
)

// profile is what the tokens carry about a user besides the subject, as
// Identity.Extra. Anyone holding a token can read it: no secrets here.
type profile struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// user is a demo account.
type user struct {
	id      string // stable user id, the tokens' subject
	hash    string // bcrypt hash of the password, cost 10
	profile profile
}

// usersMu guards the password hashes of users, which change-password rewrites.
var usersMu sync.RWMutex

// users are the demo accounts, by login name: alice / wonderland and
// bob / builder. A real app reads them from its database.
var users = map[string]user{
	"alice": {
		id:      "u-1001",
		hash:    "$2a$10$RyEIPBUcd1UFbY/E3zBEuuQc0gvwHSH2H1/za1bInNdKODdqiBHEK",
		profile: profile{Name: "Alice", Roles: []string{"admin"}},
	},
	"bob": {
		id:      "u-1002",
		hash:    "$2a$10$AQ7FQI0r4puVStCsIGp5Be1ZED/GSFVuTlkpOxf6tcucRbu7VAg5a",
		profile: profile{Name: "Bob", Roles: []string{"user"}},
	},
}

// dummyHash is the bcrypt hash (same cost) of a random password nobody
// knows. Unknown users are checked against it, so a login takes as long for
// them as for real users and response times do not reveal who has an account.
const dummyHash = "$2a$10$dZRCo6mOYucUHir2zJtlMuFAkQ8iRfGPyvapFyjwFR95I0K57UnSO"

// credentials is the body of a login request.
type credentials struct {
	Username string `json:"username" binding:"required"`
	Password string `json:"password" binding:"required"`
}

// authenticate is ginjwt's Options.Authenticate: it checks a JSON
// {"username","password"} body against the demo users.
func authenticate(c *gin.Context) (ginjwt.Identity, error) {
	var creds credentials
	if err := c.ShouldBindJSON(&creds); err != nil {
		return ginjwt.Identity{}, fmt.Errorf("%w: login body: %w", ginjwt.ErrBadRequest, err)
	}
	// Locked-out names are refused before any password work, known or not.
	if err := ginjwt.LoginAttempt(c, creds.Username); err != nil {
		return ginjwt.Identity{}, err
	}
	usersMu.RLock()
	u, known := users[creds.Username]
	usersMu.RUnlock()
	hash := u.hash
	if !known {
		hash = dummyHash
	}
	if err := checkPassword(hash, creds.Password); err != nil || !known {
		return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
	}
	return ginjwt.Identity{
		Subject: u.id,
		Device:  deviceLabel(c.GetHeader("User-Agent")),
		Roles:   u.profile.Roles,
		Extra:   u.profile,
	}, nil
}

// hashing admits as many bcrypt comparisons at once as there are CPUs.
// Each costs tens of milliseconds of CPU (cost 10). Run hundreds at once, as
// a burst of logins does, and the Go scheduler shares the CPUs among all of
// them: every other request, and every Redis reply, waits its turn, past the
// store's timeout, and the whole API answers 503. Queued here, logins wait
// instead, and everything else keeps its latency.
var hashing = make(chan struct{}, runtime.GOMAXPROCS(0))

// checkPassword compares password with a bcrypt hash, within hashing.
func checkPassword(hash, password string) error {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
}

// deviceLabel names a session in session lists after the client's
// User-Agent; ginjwt cuts it to its maximum length.
func deviceLabel(userAgent string) string {
	if ua := strings.TrimSpace(userAgent); ua != "" {
		return ua
	}
	return "unknown device"
}

// setPassword replaces the password of the user with subject id, after
// checking the current one.
func setPassword(id, current, next string) error {
	usersMu.Lock()
	defer usersMu.Unlock()
	for name, u := range users {
		if u.id != id {
			continue
		}
		if checkPassword(u.hash, current) != nil {
			return ginjwt.ErrInvalidCredentials
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
		if err != nil {
			return fmt.Errorf("%w: %w", ginjwt.ErrBadRequest, err) // e.g. longer than 72 bytes
		}
		u.hash = string(hash)
		users[name] = u
		return nil
	}
	return ginjwt.ErrInvalidCredentials
}
