// Package tlsfiles builds a *tls.Config from certificate files named in a
// config. It keeps crypto/tls defaults for versions and key exchange (TLS 1.3
// with the hybrid post-quantum X25519MLKEM768 group offered first) and never
// narrows them.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config names the files of a TLS client.
type Config struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`              // PEM CA bundle; default the system pool
	CertFile           string `yaml:"cert_file"`            // client certificate for mutual TLS
	KeyFile            string `yaml:"key_file"`             // its private key
	ServerName         string `yaml:"server_name"`          // overrides the name checked in the server certificate
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // opt-in; for lab use only
}

// Client returns the client TLS config, or nil when TLS is not enabled.
func (c Config) Client() (*tls.Config, error) {
	if !c.Enabled {
		if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.InsecureSkipVerify {
			return nil, errors.New("tls: files or options are set but enabled is false")
		}
		return nil, nil
	}
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: cannot read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("tls: cert_file and key_file must be set together")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: cannot load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
