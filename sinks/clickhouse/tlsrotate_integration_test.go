package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// TestIntegrationTLSFilesRotation rewrites the ca_file of a sink on the
// real TLS port of deploy/local's ClickHouse while it runs, cutting its
// connections (a proxy) after each rewrite so that the pool dials again:
// a half-written file keeps the CA loaded before (the new connections
// verify, one WARN names clickhouse.tls.ca_file and the file); a bundle
// that no longer holds the server's CA makes new connections fail
// verification; a bundle of a new CA and the server's (a CA rotation
// under way) verifies again. The server's certificate and files never
// change: the server cannot be made to trust or serve another CA without
// a restart (the client-certificate reload is TestDialerTLSFilesRotation).
func TestIntegrationTLSFilesRotation(t *testing.T) {
	cfg, proxy, serverCA := tlsConfig(t)
	caFile := cfg.TLS.CAFile
	log, lines := sinktest.NewLog(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, cfg, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// ping cuts the connections and pings until a new connection answers
	// or fails verification (the first ping may meet the cut connection).
	ping := func() error {
		t.Helper()
		proxy.Cut()
		proxy.Restore(t)
		var err error
		for range 5 {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = s.conn.Ping(pctx)
			cancel()
			var verr *tls.CertificateVerificationError
			if err == nil || errors.As(err, &verr) {
				return err
			}
		}
		return err
	}
	warns := func() int {
		n := 0
		for _, l := range lines.Lines(slog.LevelWarn) {
			if l.Level == slog.LevelWarn && strings.Contains(l.Text, "field=clickhouse.tls.ca_file file="+caFile) {
				n++
			}
		}
		return n
	}

	testenv.WriteFile(t, caFile, []byte("-----BEGIN CERT")) // half-written
	for range 2 {
		if err := ping(); err != nil {
			t.Fatalf("with a half-written ca_file: %v, want the CA loaded before kept", err)
		}
	}
	if n := warns(); n != 1 {
		t.Errorf("%d warnings naming clickhouse.tls.ca_file and %s, want 1", n, caFile)
	}

	other := testenv.NewTestCA(t, "another CA")
	testenv.WriteFile(t, caFile, other.PEM)
	err = ping()
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("with a ca_file that no longer holds the server's CA: %v, want a verification failure", err)
	}
	t.Logf("with only another CA: %v", err)

	testenv.WriteFile(t, caFile, append(other.PEM, serverCA...))
	if err := ping(); err != nil {
		t.Fatalf("with a bundle of another CA and the server's: %v", err)
	}
}
