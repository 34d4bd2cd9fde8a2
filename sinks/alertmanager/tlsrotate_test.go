package alertmanager

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// An Alertmanager behind mutual TLS whose CA, client certificate and key
// cert-manager rewrites in place: the next connection uses the new files
// (the server sees the new client certificate, and its certificate signed
// by the new CA verifies); a half-written pair keeps the old one with one
// warning naming alertmanager.tls.cert_file and the file.
func TestTLSFilesRotation(t *testing.T) {
	caA, caB := testenv.NewTestCA(t, "A"), testenv.NewTestCA(t, "B")
	mt := testenv.NewMTLS(t, caA, caA, caB)
	am := newFakeAM(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", mt.Config)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: am.Config.Handler}
	hs.SetKeepAlivesEnabled(false) // a connection per request
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	files := testenv.NewClientFiles(t)
	files.Write(t, []*testenv.TestCA{caA}, caA, "client-1")
	var logs bytes.Buffer
	s := newSink(t, Config{URL: "https://" + ln.Addr().String(),
		TLS: tlsfiles.Config{Enabled: true, CAFile: files.CA, CertFile: files.Cert, KeyFile: files.Key}},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	step := func(name, dev string, want ...string) {
		t.Helper()
		add(t, s, detection(dev, schemas.StateFiring, schemas.SeverityCritical))
		if n, err := s.Flush(context.Background()); err != nil || n != 1 {
			t.Fatalf("%s: Flush = %d, %v", name, n, err)
		}
		if got := mt.Seen(); !slices.Equal(got, want) {
			t.Fatalf("%s: the server saw %v, want %v", name, got, want)
		}
	}
	step("at start", "edge-1", "client-1")
	files.Write(t, []*testenv.TestCA{caA, caB}, caB, "client-2")
	mt.Serve(t, caB)
	step("after the rewrite", "edge-2", "client-2")
	c3, _ := caB.Issue(t, "client-3")
	testenv.WriteFile(t, files.Cert, c3) // its key not yet
	step("with a half-written pair", "edge-3", "client-2")
	step("with a half-written pair again", "edge-4", "client-2")
	want := "field=alertmanager.tls.cert_file file=" + files.Cert
	n := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, want) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warnings %q, want 1:\n%s", n, want, logs.String())
	}
}
