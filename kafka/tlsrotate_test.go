package kafka

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// A client's connections after its CA bundle, client certificate and key
// were rewritten in place use the new files: the server (which requires a
// client certificate) sees the new certificate, and a server certificate
// signed by the new CA is accepted. A half-written pair keeps the old one
// with one warning naming the field and the file.
func TestTLSFilesRotation(t *testing.T) {
	caA, caB := testenv.NewTestCA(t, "A"), testenv.NewTestCA(t, "B")
	srv := testenv.NewMTLS(t, caA, caA, caB)
	addr := srv.Listen(t)
	files := testenv.NewClientFiles(t)
	files.Write(t, []*testenv.TestCA{caA}, caA, "client-1")
	var logs bytes.Buffer
	cfg := Config{Brokers: []string{addr}, TLS: tlsfiles.Config{Enabled: true, CAFile: files.CA, CertFile: files.Cert, KeyFile: files.Key}}
	cfg = cfg.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dial := cl.OptValue(kgo.Dialer).(func(context.Context, string, string) (net.Conn, error))
	connect := func() error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := dial(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err
	}
	if err := connect(); err != nil {
		t.Fatalf("at start: %v", err)
	}
	if got := srv.Seen(); !slices.Equal(got, []string{"client-1"}) {
		t.Fatalf("at start the server saw %v", got)
	}

	// cert-manager rewrites the files: a new CA (the bundle holds both while
	// the server moves), a client certificate the new CA signed.
	files.Write(t, []*testenv.TestCA{caA, caB}, caB, "client-2")
	srv.Serve(t, caB)
	if err := connect(); err != nil {
		t.Fatalf("after the rewrite: %v", err)
	}
	if got := srv.Seen(); !slices.Equal(got, []string{"client-2"}) {
		t.Fatalf("after the rewrite the server saw %v, want the new certificate client-2", got)
	}

	// A half-written pair (a new certificate, its key not yet) keeps the
	// pair loaded before, with one warning.
	c3, _ := caB.Issue(t, "client-3")
	testenv.WriteFile(t, files.Cert, c3)
	for range 3 {
		if err := connect(); err != nil {
			t.Fatalf("with a half-written pair: %v", err)
		}
	}
	if got := srv.Seen(); !slices.Equal(got, []string{"client-2", "client-2", "client-2"}) {
		t.Fatalf("with a half-written pair the server saw %v", got)
	}
	want := "cannot load the TLS file again; keeping what was loaded before\" field=kafka.tls.cert_file file=" + files.Cert
	if n := strings.Count(logs.String(), want); n != 1 {
		t.Errorf("%d warnings %q, want 1:\n%s", n, want, logs.String())
	}
}
