package httpserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestServeHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	dead := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_stage_dead_letters_total"}, []string{"stage", "reason"})
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "telekernel_stage_lag_records"}, []string{"stage"})
	reg.MustRegister(dead, lag)
	dead.WithLabelValues("detect", "malformed").Inc()
	lag.WithLabelValues("detect").Set(7)
	var ready atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, Config{Listen: "127.0.0.1:0"}, reg, Health{Ready: func() error {
		if !ready.Load() {
			return errors.New("starting")
		}
		return nil
	}}, discard)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "starting") {
		t.Errorf("/readyz before ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz when ready: %d", code)
	}
	_, body := get("/metrics")
	for _, want := range []string{`telekernel_stage_dead_letters_total{reason="malformed",stage="detect"} 1`, `telekernel_stage_lag_records{stage="detect"} 7`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, err := Serve(ctx, Config{Listen: addr.String()}, reg, Health{}, discard); err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Errorf("a port in use: %v", err)
	}
}

// TestServeHTTPSWithBasicAuth serves the endpoints over TLS with basic
// authentication: the right credentials get 200 over a connection that
// negotiated the hybrid post-quantum group, wrong or missing ones 401, and
// plain HTTP gets no answer.
func TestServeHTTPSWithBasicAuth(t *testing.T) {
	_, certFile := testenv.SelfSigned(t)
	keyFile := filepath.Join(filepath.Dir(certFile), "key.pem")
	t.Setenv("TK_TEST_HTTP_PW", "metrics-pass")
	c := Config{Listen: "127.0.0.1:0", TLS: tlsfiles.Server{CertFile: certFile, KeyFile: keyFile},
		Username: "prom", Password: secret.Source{Env: "TK_TEST_HTTP_PW"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, c, prometheus.NewRegistry(), Health{}, discard)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(user, pass string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr.String()+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("prom", "metrics-pass")
	if resp.StatusCode != 200 {
		t.Fatalf("right credentials: HTTP %d", resp.StatusCode)
	}
	if resp.TLS == nil || resp.TLS.CurveID != tls.X25519MLKEM768 {
		t.Errorf("key exchange: %+v, want X25519MLKEM768", resp.TLS)
	}
	for _, up := range [][2]string{{"prom", "wrong"}, {"other", "metrics-pass"}, {"", ""}} {
		if r := get(up[0], up[1]); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("credentials %q: HTTP %d, want 401", up, r.StatusCode)
		}
	}
	if r, err := http.Get("http://" + addr.String() + "/metrics"); err == nil && r.StatusCode == 200 {
		t.Errorf("plain HTTP on the TLS port answered 200")
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	t.Setenv("TK_TEST_HTTP_EMPTY", "")
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		if want == "" && err != nil || want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("%+v: got %v, want prefix %q", c, err, want)
		}
	}
	f(Config{Listen: "off"}, "")
	f(Config{Listen: "127.0.0.1:9464"}, "")
	f(Config{Listen: ":9464"}, "")
	f(Config{Listen: "[::1]:9464"}, "")
	f(Config{Listen: "localhost:9464"}, "")
	f(Config{Listen: "notanaddr"}, `listen: "notanaddr" is not host:port`)
	f(Config{Listen: "127.0.0.1:99999"}, "listen:")
	f(Config{Listen: "127.0.0.1:http"}, "listen:")
	f(Config{Listen: ":1", TLS: tlsfiles.Server{CertFile: "/x.pem"}}, "tls.key_file: required with cert_file")
	f(Config{Listen: ":1", TLS: tlsfiles.Server{CertFile: "/nonexistent.pem", KeyFile: "/k.pem"}}, "tls.cert_file: cannot read it")
	f(Config{Listen: ":1", Username: "u"}, "password: required with username")
	f(Config{Listen: ":1", Password: secret.Source{Env: "X"}}, "password: set without username")
	f(Config{Listen: ":1", Username: "u", Password: secret.Source{Env: "TK_TEST_HTTP_EMPTY"}}, "password: environment variable TK_TEST_HTTP_EMPTY is empty")
}

// TestServeHTTPWarnsWhenExposed: beyond loopback with neither TLS nor a
// username, the start logs one warning; on loopback, none. (A username
// without TLS gets its own warning: TestServeWarnsOfClearTextPassword.)
func TestServeHTTPWarnsWhenExposed(t *testing.T) {
	f := func(c Config, warnings int) {
		t.Helper()
		var buf strings.Builder
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := Serve(ctx, c, prometheus.NewRegistry(), Health{}, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(buf.String(), "level=WARN"); n != warnings {
			t.Errorf("%+v: %d warnings, want %d: %s", c, n, warnings, buf.String())
		}
	}
	f(Config{Listen: "0.0.0.0:0"}, 1)
	f(Config{Listen: "127.0.0.1:0"}, 0)
}
