package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCA is a certificate authority made for one test: it signs server
// certificates for 127.0.0.1 and client certificates.
type TestCA struct {
	Name   string
	PEM    []byte // the CA certificate
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64
}

// NewTestCA returns a new self-signed CA named name.
func NewTestCA(t testing.TB, name string) *TestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &TestCA{Name: name, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: cert, key: key}
	ca.serial.Store(1)
	return ca
}

// Issue returns the PEM certificate and key of a leaf named cn that ca
// signed, valid for 127.0.0.1 (and the name localhost) as a server and as
// a client.
func (ca *TestCA) Issue(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// ClientFiles are the ca_file, cert_file and key_file of a TLS client.
type ClientFiles struct{ CA, Cert, Key string }

// NewClientFiles returns the three paths in a new temporary folder; the
// files are not written yet.
func NewClientFiles(t testing.TB) ClientFiles {
	dir := t.TempDir()
	return ClientFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}
}

// Write rewrites the files in place: trust holds the CA bundle, and the
// client certificate named cn is signed by signer.
func (f ClientFiles) Write(t testing.TB, trust []*TestCA, signer *TestCA, cn string) {
	t.Helper()
	var bundle []byte
	for _, ca := range trust {
		bundle = append(bundle, ca.PEM...)
	}
	c, k := signer.Issue(t, cn)
	for p, b := range map[string][]byte{f.CA: bundle, f.Cert: c, f.Key: k} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// MTLS is a server TLS config that requires a client certificate signed
// by one of its client CAs, serves a certificate it can switch, and
// records the common name of each client certificate it accepted.
type MTLS struct {
	Config *tls.Config
	cert   atomic.Pointer[tls.Certificate]
	mu     sync.Mutex
	seen   []string
}

// NewMTLS returns an MTLS that serves a certificate server signed and
// accepts clients that any of clientCAs signed.
func NewMTLS(t testing.TB, server *TestCA, clientCAs ...*TestCA) *MTLS {
	t.Helper()
	pool := x509.NewCertPool()
	for _, ca := range clientCAs {
		pool.AddCert(ca.cert)
	}
	m := &MTLS{}
	m.Serve(t, server)
	m.Config = &tls.Config{
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return m.cert.Load(), nil },
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				m.mu.Lock()
				m.seen = append(m.seen, cs.PeerCertificates[0].Subject.CommonName)
				m.mu.Unlock()
			}
			return nil
		},
	}
	return m
}

// Serve makes the server present a new certificate that ca signed from the
// next handshake on.
func (m *MTLS) Serve(t testing.TB, ca *TestCA) {
	t.Helper()
	c, k := ca.Issue(t, "server")
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	m.cert.Store(&pair)
}

// Seen returns the common names of the client certificates accepted so far
// and forgets them.
func (m *MTLS) Seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.seen
	m.seen = nil
	return s
}

// Listen serves m on 127.0.0.1 until the test ends: each connection is
// handshaken and then held open until the client closes it. It returns
// the address. After a handshake the server writes one byte: a client
// that reads it knows the server accepted its certificate (TLS 1.3 ends
// the client's handshake before the server checks it).
func (m *MTLS) Listen(t testing.TB) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				_, _ = c.Write([]byte{1})
				_, _ = c.Read(make([]byte, 1))
			}()
		}
	}()
	return ln.Addr().String()
}

// WriteFile writes b to path in place, as a secret volume's update does.
func WriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
