package tlsfiles

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns the PEM of a new self-signed certificate and its key.
func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// A Live config loads its files again when they change, keeps what it
// loaded before when they cannot be loaded (one warning per field naming
// the field and the file), and loads nothing when nothing changed.
func TestLive(t *testing.T) {
	dir := t.TempDir()
	c := Config{Enabled: true, CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	write := func(path string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert1, key1 := selfSigned(t, "one")
	cert2, key2 := selfSigned(t, "two")
	write(c.CAFile, cert1)
	write(c.CertFile, cert1)
	write(c.KeyFile, key1)
	var logs bytes.Buffer
	l, err := c.Live("x.tls", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	leaf := func() string {
		t.Helper()
		pair, err := l.Config().GetClientCertificate(nil)
		if err != nil || pair == nil {
			t.Fatalf("GetClientCertificate: %v, %v", pair, err)
		}
		x, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.Subject.CommonName
	}
	if got := leaf(); got != "one" || logs.Len() != 0 {
		t.Fatalf("at start: %q, logs %s", got, logs.String())
	}
	write(c.CertFile, cert2) // the key is still key1
	for range 3 {
		if got := leaf(); got != "one" {
			t.Fatalf("an unmatched pair replaced the old one: %q", got)
		}
	}
	write(c.KeyFile, key2)
	if got := leaf(); got != "two" {
		t.Fatalf("after the rewrite: %q", got)
	}
	pool := l.Config().RootCAs
	if err := os.Remove(c.CAFile); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if p := l.Config().RootCAs; p != pool {
			t.Fatal("a missing ca_file replaced the pool")
		}
	}
	write(c.CAFile, cert2)
	if p := l.Config().RootCAs; p == pool || p == nil {
		t.Fatal("a rewritten ca_file was not loaded")
	}
	out := logs.String()
	for _, want := range []string{"field=x.tls.cert_file file=" + c.CertFile, "field=x.tls.ca_file file=" + c.CAFile} {
		if n := strings.Count(out, "cannot load the TLS file again; keeping what was loaded before\" "+want); n != 1 {
			t.Errorf("%d warnings with %q, want 1:\n%s", n, want, out)
		}
	}
	if n := strings.Count(out, "TLS file changed"); n != 2 {
		t.Errorf("%d lines for the changes, want 2:\n%s", n, out)
	}
	if l, err := (Config{}).Live("x", nil); l != nil || err != nil {
		t.Errorf("TLS off: %v, %v", l, err)
	}
}

// A certificate and key copied in place of the old ones with the old
// files' size and modification time (rsync -t, cp -p, or a rewrite within
// the file system's timestamp granularity) are loaded too: what tells a
// change is the contents.
func TestLiveSameSizeAndTime(t *testing.T) {
	dir := t.TempDir()
	c := Config{Enabled: true, CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	cert1, key1 := selfSigned(t, "one")
	cert2, key2 := selfSigned(t, "two")
	for len(cert2) != len(cert1) || len(key2) != len(key1) { // an ECDSA signature's length varies
		cert2, key2 = selfSigned(t, "two")
	}
	old := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	write := func(path string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(c.CAFile, cert1)
	write(c.CertFile, cert1)
	write(c.KeyFile, key1)
	l, err := c.Live("x.tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func() string {
		t.Helper()
		pair, err := l.Config().GetClientCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.Subject.CommonName
	}
	if got := leaf(); got != "one" {
		t.Fatalf("at start: %q", got)
	}
	pool := l.Config().RootCAs
	write(c.CAFile, cert2)
	write(c.CertFile, cert2)
	write(c.KeyFile, key2)
	if got := leaf(); got != "two" {
		t.Errorf("client certificate after the copy: %q, want two", got)
	}
	if l.Config().RootCAs == pool {
		t.Error("the CA pool was not loaded again after the copy")
	}
}
