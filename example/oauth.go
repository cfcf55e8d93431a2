package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
)

// loadOAuthConfig reads PUBLIC_URL, INTROSPECTION_CLIENT_ID and
// INTROSPECTION_CLIENT_SECRET into cfg. PUBLIC_URL must be an absolute
// http or https URL without query or fragment; a trailing slash is dropped.
// The client id and secret go together.
func loadOAuthConfig(lookup func(string) (string, bool), cfg *config) error {
	cfg.publicURL = defaultPublicURL
	if v, ok := lookup("PUBLIC_URL"); ok && v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
			return fmt.Errorf("PUBLIC_URL=%q: want the URL clients reach the app at, such as https://api.example.com", v)
		}
		cfg.publicURL = strings.TrimRight(v, "/")
	}
	id, _ := lookup("INTROSPECTION_CLIENT_ID")
	secret, _ := lookup("INTROSPECTION_CLIENT_SECRET")
	switch {
	case id == "" && secret == "":
		return nil
	case id == "" || secret == "":
		return fmt.Errorf("set both INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET, or neither")
	case len(secret) < ginjwt.MinClientSecretSize:
		return fmt.Errorf("INTROSPECTION_CLIENT_SECRET is %d bytes; it must be at least %d random bytes (for example: openssl rand -base64 24)",
			len(secret), ginjwt.MinClientSecretSize)
	}
	cfg.introspection = ginjwt.ClientCredentials{ID: id, Secret: secret}
	return nil
}

// issuer is the tokens' issuer: the public URL, as RFC 8414 wants it.
func (cfg config) issuer() string {
	if cfg.publicURL == "" {
		return defaultPublicURL
	}
	return cfg.publicURL
}

// metadataOptions lists the app's routes in the RFC 8414 metadata, as
// URLs under the public URL, never under the Host a request names.
func metadataOptions(cfg config) ginjwt.MetadataOptions {
	m := ginjwt.MetadataOptions{
		TokenEndpoint:      "/auth/refresh",
		RevocationEndpoint: revocationPath,
		JWKSURI:            "/.well-known/jwks.json", // empty with an HMAC key: services use introspection
	}
	if cfg.introspection.ID != "" {
		m.IntrospectionEndpoint = introspectionPath
	}
	return m
}

// mountOAuth mounts the routes for other services: the metadata, the
// revocation route and, when a client is configured, introspection.
func mountOAuth(router *gin.Engine, auth auths) {
	router.GET(metadataPath, auth.metadata)
	router.POST(revocationPath, auth.bearer.RevocationHandler())
	if auth.introspection {
		router.POST(introspectionPath, auth.bearer.IntrospectionHandler())
	}
}
