package kafka

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestConnectTLSAndSASL connects over TLS with SCRAM-SHA-512 credentials
// read from a file, and checks that a wrong password or an untrusted server
// fails in one line without revealing the password.
func TestConnectTLSAndSASL(t *testing.T) {
	srvTLS, caFile := testenv.SelfSigned(t)
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
	kc := Config{
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

	for _, c := range []Config{
		{Brokers: []string{"nocolon"}},
		{SASL: SASLConfig{Mechanism: "GSSAPI"}},
		{SASL: SASLConfig{Mechanism: "PLAIN"}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want a validation error", c)
		}
	}
}
