// Package httpserve serves a process's /metrics, /healthz and /readyz endpoints
// (Serve), over TLS and with basic authentication when configured. The
// pipeline commands and the collectors share it.
package httpserve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// Config configures the /metrics, /healthz and /readyz endpoint of a
// process.
type Config struct {
	// Listen is host:port, or "off" to serve nothing. The commands default
	// it to a loopback address; anything else exposes the endpoints.
	Listen string `yaml:"listen"`
	// TLS serves HTTPS with this certificate and key (both or neither);
	// default plain HTTP.
	TLS tlsfiles.Server `yaml:"tls"`
	// Username turns on HTTP basic authentication for all three endpoints
	// (a Kubernetes probe sends it with httpHeaders); default none.
	Username string `yaml:"username"`
	// Password of Username, from a file or an environment variable; never
	// logged. Required when Username is set.
	Password secret.Source `yaml:"password"`
}

// Validate reports the first bad field as "field: problem", loading the
// certificate and the password as Serve does.
func (c Config) Validate() error {
	if c.Listen == "off" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || !validHost(host) {
		return fmt.Errorf("listen: %q is not host:port (e.g. 127.0.0.1:9464) or off", c.Listen)
	}
	if _, err := c.TLS.Config(); err != nil {
		return fmt.Errorf("tls.%w", err)
	}
	_, err = c.password()
	return err
}

// validHost reports whether h is empty (all addresses), an IP address or
// looks like a DNS name.
func validHost(h string) bool {
	if h == "" || net.ParseIP(h) != nil {
		return true
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (c Config) password() (secret.Secret, error) {
	switch {
	case c.Username == "" && !c.Password.IsZero():
		return "", errors.New("password: set without username")
	case c.Username != "" && c.Password.IsZero():
		return "", errors.New("password: required with username (file or env)")
	}
	pw, err := c.Password.Load()
	if err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return pw, nil
}

// Health answers the health endpoints. Ready returns nil when the process can
// do its work (connected, topics in place); it is called per request.
type Health struct {
	Ready func() error
	// Routes are more paths served beside the defaults, behind the same
	// TLS and authentication (e.g. a collector's /targets).
	Routes map[string]http.Handler
}

// Serve serves /metrics, /healthz (the process is alive) and /readyz
// (Health.Ready) as c says until ctx is done, then shuts the server down
// in the background (at most 2 s for requests in flight). A process that
// goes on working after a signal (draining, flushing) should pass a ctx
// that ends once it has stopped, not the signal's: its stop can then be
// watched, and a liveness probe still passes meanwhile (Health.Ready may
// report it stopping). It returns once the listener is open, so a port
// already in use or a bad certificate fails the start. It warns when the
// endpoints listen beyond loopback without TLS: with no authentication,
// or with a password that then travels in clear text.
func Serve(ctx context.Context, c Config, g prometheus.Gatherer, h Health, log *slog.Logger) (net.Addr, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("http.%w", err)
	}
	tc, _ := c.TLS.Config()
	pw, _ := c.password()
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("http: cannot listen on %s: %w (set http.listen to a free address, or \"off\")", c.Listen, err)
	}
	if ap, ok := ln.Addr().(*net.TCPAddr); ok && tc == nil && !ap.IP.IsLoopback() {
		if c.Username == "" {
			log.Warn("the metrics and health endpoints are served without TLS or authentication beyond loopback; set http.tls and http.username", "addr", ln.Addr().String())
		} else {
			// Basic authentication without TLS sends the password, in
			// base64, with every request: anyone on the path can read it.
			log.Warn("http.username is set without http.tls: the password crosses the network in clear text; enable http.tls or bind http.listen to loopback", "addr", ln.Addr().String())
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if h.Ready != nil {
			if err := h.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	for path, h := range h.Routes {
		mux.Handle(path, h)
	}
	var handler http.Handler = mux
	if c.Username != "" {
		handler = basicAuth(mux, c.Username, pw)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, TLSConfig: tc}
	go func() {
		var err error
		if tc != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// basicAuth answers 401 to requests without the right credentials; the
// comparison takes the same time whatever the input.
func basicAuth(next http.Handler, user string, pw secret.Secret) http.Handler {
	want := sha256.Sum256([]byte(user + "\x00" + pw.Reveal()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(u + "\x00" + p))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="telekernel", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
