package httpserve

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestServeWarnsOfClearTextPassword: with http.username but no http.tls on
// an address beyond loopback, the start logs one warning naming the
// address and the fix; on a loopback address (127.0.0.0/8, ::1,
// localhost) or with TLS, none. Before, a username counted as protection
// and nothing was logged, though basic authentication then sends the
// password in clear over the network with every scrape.
func TestServeWarnsOfClearTextPassword(t *testing.T) {
	t.Setenv("TK_TEST_HTTP_PW", "x")
	_, certFile := testenv.SelfSigned(t)
	tls := tlsfiles.Server{CertFile: certFile, KeyFile: filepath.Join(filepath.Dir(certFile), "key.pem")}
	f := func(listen string, tc tlsfiles.Server, warn bool) {
		t.Helper()
		var buf strings.Builder
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := Config{Listen: listen, TLS: tc, Username: "prom", Password: secret.Source{Env: "TK_TEST_HTTP_PW"}}
		addr, err := Serve(ctx, c, prometheus.NewRegistry(), Health{}, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		w := []string{}
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "level=WARN") {
				w = append(w, l)
			}
		}
		switch {
		case !warn && len(w) != 0:
			t.Errorf("%s: want no warning, got:\n%s", listen, strings.Join(w, "\n"))
		case warn && (len(w) != 1 || !strings.Contains(w[0], "addr="+addr.String()) ||
			!strings.Contains(w[0], "http.tls") || !strings.Contains(w[0], "loopback")):
			t.Errorf("%s: want one warning naming %s, http.tls and loopback, got:\n%s", listen, addr, strings.Join(w, "\n"))
		}
	}
	f("0.0.0.0:0", tlsfiles.Server{}, true)
	f(":0", tlsfiles.Server{}, true)
	f("0.0.0.0:0", tls, false)
	f("127.0.0.1:0", tlsfiles.Server{}, false)
	f("127.0.0.2:0", tlsfiles.Server{}, false)
	f("localhost:0", tlsfiles.Server{}, false)
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil { // hosts without IPv6 have no ::1
		ln.Close()
		f("[::1]:0", tlsfiles.Server{}, false)
	}
}
