package kafka

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestIntegrationTLSFilesRotation rewrites the ca_file of a config on the
// real SASL_SSL listener of deploy/local while clients built from it run
// (they share its options, so one tlsfiles.Live): a half-written file
// keeps the CA loaded before (a new client produces; one WARN names
// kafka.tls.ca_file and the file); a bundle that no longer holds the
// broker's CA fails verification at the next connection; a bundle of a new
// CA and the broker's (a CA rotation under way) produces again. The
// broker's own certificate never changes: it cannot be made to serve or
// trust another CA without a restart (the client-certificate reload is
// TestTLSFilesRotation).
func TestIntegrationTLSFilesRotation(t *testing.T) {
	plainAddr := testenv.Service(t, "TK_KAFKA")
	saslAddr := testenv.Service(t, "TK_KAFKA_SASL")
	user := testenv.Service(t, "TK_KAFKA_SASL_USER")
	testenv.Service(t, "TK_KAFKA_SASL_PASSWORD")
	brokerCA, err := os.ReadFile(testenv.Service(t, "TK_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	testenv.WriteFile(t, caFile, brokerCA)
	var r [4]byte
	_, _ = rand.Read(r[:])
	topic := "tk.test.tlsrotate." + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(plainAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	if err := EnsureTopics(ctx, admCl, TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = kadm.NewClient(admCl).DeleteTopics(context.Background(), topic) }()

	logs := &testenv.LogBuffer{}
	cfg := Config{Brokers: []string{saslAddr}, TLS: tlsfiles.Config{Enabled: true, CAFile: caFile},
		SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: user, Password: secret.Source{Env: "TK_KAFKA_SASL_PASSWORD"}}}
	cfg = cfg.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	produce := func(name string) {
		t.Helper()
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := cl.ProduceSync(pctx, &kgo.Record{Topic: topic, Value: []byte(name)}).FirstErr(); err != nil {
			t.Fatalf("%s: produce: %v", name, err)
		}
	}
	// dial opens one connection to the broker as the clients do.
	dial := func() error {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		d := cl.OptValue(kgo.Dialer).(func(context.Context, string, string) (net.Conn, error))
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		c, err := d(dctx, "tcp", saslAddr)
		if err == nil {
			c.Close()
		}
		return err
	}
	produce("at start")

	testenv.WriteFile(t, caFile, []byte("-----BEGIN CERT")) // half-written
	produce("with a half-written ca_file")
	produce("with a half-written ca_file again")
	n := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "field=kafka.tls.ca_file file="+caFile) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warnings naming kafka.tls.ca_file and %s, want 1:\n%s", n, caFile, logs.String())
	}

	other := testenv.NewTestCA(t, "another CA")
	testenv.WriteFile(t, caFile, other.PEM)
	err = dial()
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("with a ca_file that no longer holds the broker's CA: %v, want a verification failure", err)
	}
	t.Logf("with only another CA: %v", err)

	testenv.WriteFile(t, caFile, append(other.PEM, brokerCA...))
	produce("with a bundle of another CA and the broker's")
}
