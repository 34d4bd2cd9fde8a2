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
	"log/slog"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/internal/secret"
)

// Config names the files of a TLS client. It is the one TLS client setting
// of every component (Kafka, ClickHouse, Alertmanager).
type Config struct {
	Enabled bool `yaml:"enabled"`
	// Enable is the deprecated spelling of Enabled (the ClickHouse sink's
	// until issue 14); reading YAML folds it into Enabled, and Deprecated
	// names it.
	Enable             bool   `yaml:"enable"`
	CAFile             string `yaml:"ca_file"`              // PEM CA bundle; default the system pool
	CertFile           string `yaml:"cert_file"`            // client certificate for mutual TLS
	KeyFile            string `yaml:"key_file"`             // its private key
	ServerName         string `yaml:"server_name"`          // overrides the name checked in the server certificate
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // opt-in; for lab use only
}

// Validate loads the files as Client does and reports the first problem as
// "field: problem" (ca_file, cert_file, key_file or enabled), so a config
// check fails on the files a start would fail on.
func (c Config) Validate() error {
	_, err := c.Client()
	return err
}

// Credentials loads pw as a secret.Live (field names it in the lines its
// Reload logs through log) and c as a Live config (its lines name
// <prefix>.tls, prefix being field without its last element: field
// alertmanager.password logs alertmanager.tls.cert_file), or nil when TLS
// is off: the credentials of a client that signs in with a password over
// optional TLS (the Alertmanager sink, which reloads the password before
// each request and the TLS files at each connection). Errors name the
// field at fault: "password: …" or "tls.<field>: …".
func Credentials(pw secret.Source, field string, log *slog.Logger, c Config) (*secret.Live, *Live, error) {
	p, err := pw.Live(field, log)
	if err != nil {
		return nil, nil, fmt.Errorf("password: %w", err)
	}
	prefix := "tls"
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		prefix = field[:i] + ".tls"
	}
	l, err := c.Live(prefix, log)
	if err != nil {
		return nil, nil, fmt.Errorf("tls.%w", err)
	}
	return p, l, nil
}

// Client returns the client TLS config, or nil when TLS is not enabled.
// Errors name the field at fault, e.g. "ca_file: cannot read /x: ...".
func (c Config) Client() (*tls.Config, error) {
	if !c.Enabled && !c.Enable {
		// server_name counts too: a section that names only it (say a
		// gNMI target's, replacing its defaults' tls) meant TLS, and
		// would otherwise connect in plaintext.
		if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "" || c.InsecureSkipVerify {
			return nil, errors.New("enabled: files or options are set but enabled is false")
		}
		return nil, nil
	}
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: cannot read it: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	cert, err := keyPair(c.CertFile, c.KeyFile)
	if err != nil || cert == nil {
		return tc, err
	}
	tc.Certificates = []tls.Certificate{*cert}
	return tc, nil
}

// Warning returns "insecure_skip_verify: ..." when c turns off the check
// of the server's certificate (TLS still on, but anyone on the path can
// stand in for the server), for the caller to print; else "".
func (c Config) Warning() string {
	if c.InsecureSkipVerify && (c.Enabled || c.Enable) {
		return "insecure_skip_verify: the server's certificate is not verified, so anyone on the path can stand in for it (lab use only); give ca_file instead"
	}
	return ""
}

// fields are the YAML keys of Config.
var fields = []string{"enabled", "enable", "ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}

// UnmarshalYAML reads the fields strictly (an unknown key is an error, in
// yaml.v3's wording so the caller names the field) and folds the
// deprecated enable into Enabled, so every consumer that reads Enabled
// sees TLS on.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !slices.Contains(fields, k.Value) {
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: field %s not found in type tlsfiles.Config", k.Line, k.Value)}}
			}
		}
	}
	type plain Config // drops the method, so Decode does not recurse
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Enabled = c.Enabled || c.Enable
	return nil
}

// Deprecated returns one "field: how to migrate" line per deprecated
// spelling c was read with, for the caller to log.
func (c Config) Deprecated() []string {
	if c.Enable {
		return []string{"enable: deprecated spelling, write enabled: true"}
	}
	return nil
}

// keyPair loads a certificate and its key; both empty is no certificate.
func keyPair(certFile, keyFile string) (*tls.Certificate, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case keyFile == "":
		return nil, errors.New("key_file: required with cert_file")
	case certFile == "":
		return nil, errors.New("cert_file: required with key_file")
	}
	for _, f := range []struct{ field, path string }{{"cert_file", certFile}, {"key_file", keyFile}} {
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("%s: cannot read it: %w", f.field, err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cert_file: cannot load the certificate and key: %w", err)
	}
	return &cert, nil
}

// Server names the files of a TLS server (the HTTP endpoints). Both empty
// serve plain HTTP.
type Server struct {
	CertFile string `yaml:"cert_file"` // PEM certificate (chain) of the server
	KeyFile  string `yaml:"key_file"`  // its private key
}

// Enabled reports whether a certificate is configured.
func (s Server) Enabled() bool { return s.CertFile != "" || s.KeyFile != "" }

// Config returns the server TLS config, or nil when s is not enabled. Errors
// name the field at fault.
func (s Server) Config() (*tls.Config, error) {
	cert, err := keyPair(s.CertFile, s.KeyFile)
	if err != nil || cert == nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{*cert}}, nil
}
