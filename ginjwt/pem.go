package ginjwt

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ParseKeyPEM returns a Key for alg from a PEM-encoded private key (PKCS #8,
// PKCS #1 RSA or SEC 1 EC) or public key (PKIX or PKCS #1 RSA). A public key
// gives a verification-only Key. Whether the key suits alg is checked by New.
func ParseKeyPEM(id, alg string, data []byte) (Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return Key{}, errors.New("ginjwt: no PEM block found")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return Key{}, errors.New("ginjwt: more than one PEM block; give one key at a time")
	}
	k := Key{ID: id, Algorithm: alg}
	switch block.Type {
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		priv, err := parsePrivateKey(block)
		if err != nil {
			return Key{}, err
		}
		k.Private = priv
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		pub, err := parsePublicKey(block)
		if err != nil {
			return Key{}, err
		}
		k.Public = pub
	case "ENCRYPTED PRIVATE KEY":
		return Key{}, errors.New("ginjwt: encrypted private keys are not supported; decrypt it first (openssl pkey)")
	default:
		return Key{}, fmt.Errorf("ginjwt: PEM block %q is not a private or public key", block.Type)
	}
	return k, nil
}

// LoadKeyFile reads a PEM key file and returns ParseKeyPEM's Key.
func LoadKeyFile(id, alg, path string) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("ginjwt: reading key file: %w", err)
	}
	k, err := ParseKeyPEM(id, alg, data)
	if err != nil {
		return Key{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

func parsePrivateKey(block *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("ginjwt: parsing %s: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ginjwt: %T cannot sign", key)
	}
	return signer, nil
}

func parsePublicKey(block *pem.Block) (crypto.PublicKey, error) {
	var (
		key any
		err error
	)
	if block.Type == "RSA PUBLIC KEY" {
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	} else {
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("ginjwt: parsing %s: %w", block.Type, err)
	}
	return key, nil
}
