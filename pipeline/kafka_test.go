package pipeline

import (
	"context"
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
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// selfSigned writes a CA-less self-signed certificate for 127.0.0.1 and
// returns the server TLS config and the PEM path a client trusts; its key is
// key.pem in the same folder.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "telekernel test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, p
}

// TestConnectTLSAndSASL connects over TLS with SCRAM-SHA-512 credentials
// read from a file, and checks that a wrong password or an untrusted server
// fails in one line without revealing the password.
func TestConnectTLSAndSASL(t *testing.T) {
	srvTLS, caFile := selfSigned(t)
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.TLS(srvTLS), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "tk", "s3cret-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := KafkaConfig{
		Brokers:        cluster.ListenAddrs(),
		TLS:            tlsfiles.Config{Enabled: true, CAFile: caFile},
		SASL:           SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "tk", Password: secret.Source{File: pw}},
		ConnectTimeout: 3 * time.Second,
	}
	ctx := context.Background()
	cl, err := Connect(ctx, kc)
	if err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "t", Partitions: 2}, TopicSpec{Name: "t", Partitions: 2}); err != nil {
		t.Fatalf("EnsureTopics twice: %v", err)
	}
	cl.Close()

	t.Setenv("TK_TEST_KAFKA_PW", "wrong-pass")
	bad := kc
	bad.SASL.Password = secret.Source{Env: "TK_TEST_KAFKA_PW"}
	_, err = Connect(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || strings.Contains(err.Error(), "wrong-pass") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("wrong password: %v", err)
	}

	untrusted := kc
	untrusted.TLS.CAFile = ""
	if _, err = Connect(ctx, untrusted); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}

	for _, c := range []KafkaConfig{
		{Brokers: []string{"nocolon"}},
		{SASL: SASLConfig{Mechanism: "GSSAPI"}},
		{SASL: SASLConfig{Mechanism: "PLAIN"}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want a validation error", c)
		}
	}
}
