package alertmanager

import (
	"crypto/x509"
	"net/http"
	"sync"

	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// liveTransport is the sink's HTTP transport over TLS files that
// cert-manager rewrites in place: each handshake loads the client
// certificate and key again when their files changed (the Live config's
// GetClientCertificate), and a request after the CA bundle changed goes
// through a new Transport whose config holds the new pool, so its
// connections verify against it (crypto/tls's own verification, proxies
// included); the old Transport's idle connections are closed. Requests in
// flight finish on the connections they have. It is safe for concurrent
// use.
type liveTransport struct {
	live *tlsfiles.Live
	base *http.Transport // cloned for each CA pool

	mu   sync.Mutex
	pool *x509.CertPool // tr's RootCAs
	tr   *http.Transport
}

var _ http.RoundTripper = (*liveTransport)(nil)

// RoundTrip sends r through the Transport of the current CA pool.
func (t *liveTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.current().RoundTrip(r)
}

// CloseIdleConnections closes the current Transport's idle connections
// (http.Client.CloseIdleConnections calls it).
func (t *liveTransport) CloseIdleConnections() {
	t.mu.Lock()
	tr := t.tr
	t.mu.Unlock()
	if tr != nil {
		tr.CloseIdleConnections()
	}
}

// current returns the Transport for the CA pool of the files as they are
// now, building it when the pool changed.
func (t *liveTransport) current() *http.Transport {
	tc := t.live.Config() // reads ca_file again only when it changed
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tr != nil && tc.RootCAs == t.pool {
		return t.tr
	}
	old := t.tr
	t.tr = t.base.Clone()
	t.tr.TLSClientConfig = tc
	t.pool = tc.RootCAs
	if old != nil {
		old.CloseIdleConnections()
	}
	return t.tr
}
