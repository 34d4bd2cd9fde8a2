package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/telekernel/telekernel/internal/testenv"
)

// caPool loads TK_TLS_CA, the CA that signed both services' certificate.
func caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	return caPoolAt(t, testenv.Service(t, "TK_TLS_CA"))
}

// caPoolAt loads the CA certificate at path.
func caPoolAt(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", path)
	}
	return pool
}

// saslPing logs in to the SASL_SSL listener at addr as user with pass
// (SCRAM-SHA-512), trusting pool, and pings the broker.
func saslPing(ctx context.Context, addr string, pool *x509.CertPool, user, pass string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.Ping(ctx)
}

// TestKafkaSASLSSL checks the SASL_SSL listener: the certificate verifies
// against TK_TLS_CA for 127.0.0.1, the SCRAM-SHA-512 user authenticates, and
// a wrong password is refused.
func TestKafkaSASLSSL(t *testing.T) {
	addr := testenv.Service(t, "TK_KAFKA_SASL")
	user, pass := testenv.Service(t, "TK_KAFKA_SASL_USER"), testenv.Service(t, "TK_KAFKA_SASL_PASSWORD")
	pool := caPool(t)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	st := conn.ConnectionState()
	conn.Close()
	t.Logf("Kafka SASL_SSL: TLS %x, key exchange %v", st.Version, st.CurveID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		pass string
		ok   bool
	}{{pass, true}, {"wrong-" + pass, false}} {
		if err := saslPing(ctx, addr, pool, user, c.pass); (err == nil) != c.ok {
			t.Errorf("password ok=%v: ping error %v", c.ok, err)
		}
	}
}

// TestClickHouseTLS checks the secure native port: the certificate verifies
// against TK_TLS_CA, the password user runs a query, a wrong password is
// refused.
func TestClickHouseTLS(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE_TLS")
	user, pass := testenv.Service(t, "TK_CLICKHOUSE_TLS_USER"), testenv.Service(t, "TK_CLICKHOUSE_TLS_PASSWORD")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		pass string
		ok   bool
	}{{pass, true}, {"wrong-" + pass, false}} {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 5 * time.Second,
			Auth: clickhouse.Auth{Username: user, Password: c.pass}, TLS: &tls.Config{RootCAs: caPool(t)}})
		if err != nil {
			t.Fatal(err)
		}
		var one uint8
		err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
		conn.Close()
		if (err == nil && one == 1) != c.ok {
			t.Errorf("password ok=%v: SELECT 1 = %d, %v", c.ok, one, err)
		}
	}
}
