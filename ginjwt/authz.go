package ginjwt

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Requirement is a rule the guard checks after it verified a token. It
// returns nil when claims meet it, else the error to answer with: 403
// insufficient_scope for roles and scopes, 401
// insufficient_user_authentication (a *StepUpError) for the
// authentication requirements of RFC 9470. Pass them to Middleware.
type Requirement func(*Claims) error

// meetAll returns claims when they meet every requirement, else the error
// of the first that fails.
func meetAll(claims *Claims, requirements []Requirement) (*Claims, error) {
	for _, require := range requirements {
		if err := require(claims); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// RequireRole passes tokens that carry at least one of roles.
func RequireRole(roles ...string) Requirement {
	return func(c *Claims) error {
		if slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(c.Roles, r) }) {
			return nil
		}
		return ErrInsufficientScope
	}
}

// RequireScope passes tokens that carry every one of scopes.
func RequireScope(scopes ...string) Requirement {
	return func(c *Claims) error {
		granted := strings.Fields(c.Scope)
		for _, s := range scopes {
			if !slices.Contains(granted, s) {
				return ErrInsufficientScope
			}
		}
		return nil
	}
}

// RequireACR passes tokens whose authentication context class (acr), as
// Identity.ACR set it at login or step-up, is one of values. Others get
// the RFC 9470 challenge with acr_values: the client has the user
// authenticate again at that level (see Auth.StepUp) and retries.
func RequireACR(values ...string) Requirement {
	values = slices.Clone(values)
	return func(c *Claims) error {
		if c.ACR != "" && slices.Contains(values, c.ACR) {
			return nil
		}
		return &StepUpError{ACRValues: values}
	}
}

// RequireRecentAuth passes tokens whose user authenticated (logged in or
// stepped up, auth_time) at most maxAge ago on the Auth's clock. Others get
// the RFC 9470 challenge with max_age. It panics when maxAge is not
// positive, at route set-up.
func (a *Auth) RequireRecentAuth(maxAge time.Duration) Requirement {
	if maxAge <= 0 {
		panic(fmt.Sprintf("ginjwt: RequireRecentAuth(%v): maxAge must be positive", maxAge))
	}
	return func(c *Claims) error {
		if a.opts.Now().Sub(time.Unix(c.AuthTime, 0)) <= maxAge {
			return nil
		}
		return &StepUpError{MaxAge: maxAge}
	}
}
