package ginjwt

import (
	"slices"
	"strings"
)

// Requirement is an authorization rule the guard checks after it verified a
// token; a request that fails one answers 403 insufficient_scope. Pass them
// to Middleware.
type Requirement func(*Claims) bool

// RequireRole passes tokens that carry at least one of roles.
func RequireRole(roles ...string) Requirement {
	return func(c *Claims) bool {
		return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(c.Roles, r) })
	}
}

// RequireScope passes tokens that carry every one of scopes.
func RequireScope(scopes ...string) Requirement {
	return func(c *Claims) bool {
		granted := strings.Fields(c.Scope)
		for _, s := range scopes {
			if !slices.Contains(granted, s) {
				return false
			}
		}
		return true
	}
}
