package clickhouse

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// The sink's dialer uses the TLS files as they are at each connection: a
// server that requires a client certificate sees the new one after
// cert-manager rewrote the CA bundle, certificate and key in place, and a
// server certificate signed by the new CA verifies; a half-written pair
// keeps the old one with one warning naming the field and the file. The
// connection stays under a stallConn.
func TestDialerTLSFilesRotation(t *testing.T) {
	caA, caB := testenv.NewTestCA(t, "A"), testenv.NewTestCA(t, "B")
	srv := testenv.NewMTLS(t, caA, caA, caB)
	addr := srv.Listen(t)
	files := testenv.NewClientFiles(t)
	files.Write(t, []*testenv.TestCA{caA}, caA, "client-1")
	var logs bytes.Buffer
	live, err := tlsfiles.Config{Enabled: true, CAFile: files.CA, CertFile: files.Cert, KeyFile: files.Key}.
		Live("clickhouse.tls", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	dial := dialer(5*time.Second, 5*time.Second, live, &inserts{})
	connect := func() error {
		t.Helper()
		c, err := dial(context.Background(), addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if tc, ok := c.(*tls.Conn); !ok {
			t.Fatalf("the dialer returned a %T, want a *tls.Conn", c)
		} else if _, ok := tc.NetConn().(*stallConn); !ok {
			t.Fatalf("the TLS connection is over a %T, want a *stallConn", tc.NetConn())
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err
	}
	step := func(name string, want ...string) {
		t.Helper()
		if err := connect(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := srv.Seen(); !slices.Equal(got, want) {
			t.Fatalf("%s: the server saw %v, want %v", name, got, want)
		}
	}
	step("at start", "client-1")
	files.Write(t, []*testenv.TestCA{caA, caB}, caB, "client-2")
	srv.Serve(t, caB)
	step("after the rewrite", "client-2")
	c3, _ := caB.Issue(t, "client-3")
	testenv.WriteFile(t, files.Cert, c3) // its key not yet
	step("with a half-written pair", "client-2")
	step("with a half-written pair again", "client-2")
	want := "keeping what was loaded before\" field=clickhouse.tls.cert_file file=" + files.Cert
	if n := strings.Count(logs.String(), want); n != 1 {
		t.Errorf("%d warnings %q, want 1:\n%s", n, want, logs.String())
	}
}
