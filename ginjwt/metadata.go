package ginjwt

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// MetadataOptions say where the routes that the metadata document lists are
// served. Each endpoint is a path starting with "/", appended to BaseURL,
// or an absolute URL; every URL must use https, or http on localhost or a
// loopback address (for development), and have no query or fragment. The
// document is built from these options alone, never from a request's Host
// header.
type MetadataOptions struct {
	// BaseURL is the public URL the endpoint paths are appended to, such as
	// "https://api.example.com". Default: Options.Issuer.
	BaseURL string
	// TokenEndpoint is the refresh route (RefreshHandler), the token
	// endpoint of RFC 6749 whose only grant type is refresh_token.
	// Required.
	TokenEndpoint string
	// RevocationEndpoint is the RevocationHandler route. Optional.
	RevocationEndpoint string
	// IntrospectionEndpoint is the IntrospectionHandler route. Optional;
	// it needs Options.Clients.
	IntrospectionEndpoint string
	// JWKSURI is the JWKSHandler route. Optional.
	JWKSURI string
}

// ServerMetadata is the OAuth 2.0 authorization server metadata document
// of RFC 8414.
//
// It has no authorization_endpoint and no response_types_supported: logins
// go through the application's own route, not the authorization endpoint,
// so there is no response type to list, and RFC 8414 §3.2 asks to omit
// members with zero elements (see also RFC 8414 erratum 7793).
// AccessTokenSigningAlgs is not a registered member; it says, for
// information, which algorithms sign access tokens.
type ServerMetadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri,omitempty"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpoint                        string   `json:"revocation_endpoint,omitempty"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint,omitempty"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	AccessTokenSigningAlgs                    []string `json:"access_token_signing_alg_values_supported,omitempty"`
	// DPoPSigningAlgs are the algorithms DPoP proofs may use (RFC 9449
	// §5.1), with Options.DPoP on; clients pick their key's from them.
	DPoPSigningAlgs []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// Client authentication methods of RFC 7591 §2, as metadata lists them.
const (
	authMethodBasic = "client_secret_basic"
	authMethodNone  = "none"
)

// Metadata returns the RFC 8414 metadata document of this server, with the
// endpoints of m. The issuer is Options.Issuer, which must therefore be a
// URL as RFC 8414 §2 requires: https, or http on localhost or a loopback
// address for development, with no query or fragment. Errors wrap
// ErrInvalidOptions and name the option at fault.
func (a *Auth) Metadata(m MetadataOptions) (ServerMetadata, error) {
	issuer := a.opts.Issuer
	if err := checkServerURL(issuer); err != nil {
		if issuer == DefaultIssuer {
			return ServerMetadata{}, fmt.Errorf("%w: Options.Issuer is the default, %q; to serve metadata set it to the server's https URL", ErrInvalidOptions, DefaultIssuer)
		}
		return ServerMetadata{}, fmt.Errorf("%w: Options.Issuer %v", ErrInvalidOptions, err)
	}
	base := m.BaseURL
	if base == "" {
		base = issuer
	} else if err := checkServerURL(base); err != nil {
		return ServerMetadata{}, fmt.Errorf("%w: MetadataOptions.BaseURL %v", ErrInvalidOptions, err)
	}
	md := ServerMetadata{
		Issuer:                            issuer,
		GrantTypesSupported:               []string{"refresh_token"},
		TokenEndpointAuthMethodsSupported: []string{authMethodNone},
		AccessTokenSigningAlgs:            append([]string(nil), a.keys.accessAlgs...),
	}
	if a.dpop != nil {
		md.DPoPSigningAlgs = strings.Fields(a.dpop.algs)
	}
	for _, e := range []struct {
		name  string
		value string
		dst   *string
	}{
		{"TokenEndpoint", m.TokenEndpoint, &md.TokenEndpoint},
		{"RevocationEndpoint", m.RevocationEndpoint, &md.RevocationEndpoint},
		{"IntrospectionEndpoint", m.IntrospectionEndpoint, &md.IntrospectionEndpoint},
		{"JWKSURI", m.JWKSURI, &md.JWKSURI},
	} {
		if e.value == "" {
			continue
		}
		u, err := endpointURL(base, e.value)
		if err != nil {
			return ServerMetadata{}, fmt.Errorf("%w: MetadataOptions.%s %v", ErrInvalidOptions, e.name, err)
		}
		*e.dst = u
	}
	if md.TokenEndpoint == "" {
		return ServerMetadata{}, fmt.Errorf("%w: MetadataOptions.TokenEndpoint is empty; set it to the refresh route, such as /auth/refresh", ErrInvalidOptions)
	}
	if md.RevocationEndpoint != "" {
		md.RevocationEndpointAuthMethodsSupported = []string{authMethodNone}
		if a.clients.has() {
			md.RevocationEndpointAuthMethodsSupported = []string{authMethodBasic, authMethodNone}
		}
	}
	if md.IntrospectionEndpoint != "" {
		if !a.clients.has() {
			return ServerMetadata{}, fmt.Errorf("%w: MetadataOptions.IntrospectionEndpoint is set but Options.Clients is empty: nobody could call it", ErrInvalidOptions)
		}
		md.IntrospectionEndpointAuthMethodsSupported = []string{authMethodBasic}
	}
	return md, nil
}

// MetadataHandler returns a route serving Metadata(m) as application/json,
// with a short public cache lifetime. Mount it at
// /.well-known/oauth-authorization-server, followed by the path of the
// issuer when it has one (RFC 8414 §3.1: for the issuer
// https://example.com/auth, at /.well-known/oauth-authorization-server/auth).
// It returns Metadata's error, so that a server whose metadata would be
// wrong does not start.
//
//	meta, err := auth.MetadataHandler(ginjwt.MetadataOptions{TokenEndpoint: "/auth/refresh"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	r.GET("/.well-known/oauth-authorization-server", meta)
func (a *Auth) MetadataHandler(m MetadataOptions) (gin.HandlerFunc, error) {
	md, err := a.Metadata(m)
	if err != nil {
		return nil, err
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.JSON(http.StatusOK, md)
	}, nil
}

// endpointURL returns the URL of an endpoint: base followed by value when
// value is a path, else value itself, which must then be an acceptable URL.
func endpointURL(base, value string) (string, error) {
	if strings.HasPrefix(value, "/") {
		if strings.HasPrefix(value, "//") {
			return "", fmt.Errorf("is neither a path nor an absolute URL")
		}
		value = strings.TrimRight(base, "/") + value
	}
	if err := checkServerURL(value); err != nil {
		return "", err
	}
	return value, nil
}

// checkServerURL refuses what RFC 8414 §2 does not allow as an issuer or
// endpoint URL. Its errors complete a sentence that starts with the name of
// the option, and never quote the value.
func checkServerURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return fmt.Errorf("is empty; want an https URL")
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("is not an absolute URL such as https://api.example.com")
	case u.User != nil:
		return fmt.Errorf("must not hold user information")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("must have no query and no fragment (RFC 8414 §2)")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLocalHost(u.Hostname()):
		return nil
	}
	return fmt.Errorf("must use https (http only on localhost or a loopback address)")
}

// isLocalHost reports whether host names this machine: localhost or a
// loopback address.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
