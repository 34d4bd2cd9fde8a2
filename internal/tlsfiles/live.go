package tlsfiles

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
)

// Live is a client TLS config that follows its files while the process
// runs: cert-manager (or an operator) rewrites the CA bundle, the client
// certificate and its key in place, and the next handshake uses them.
// Config rebuilds the CA pool when ca_file's contents changed; the config
// it returns loads the client certificate again, through
// GetClientCertificate, when cert_file's or key_file's did. A file that
// cannot be read or parsed (say the certificate was rewritten and its key
// not yet) keeps what was loaded before, with one warning naming the field
// and the file until a load succeeds again. Live is safe for concurrent
// use.
type Live struct {
	c     Config
	field string // prefix of the fields in the log lines, e.g. gnmi.targets[r1].tls
	log   *slog.Logger
	base  *tls.Config // c.Client() at start, without the certificate

	mu      sync.Mutex
	ca      fileStamp
	pool    *x509.CertPool
	cert    fileStamp // cert_file's stamp; key is key_file's
	key     fileStamp
	pair    *tls.Certificate
	failing map[string]bool // fields whose last load failed; logged once
}

// fileStamp is what tells that a file changed: a hash of its contents.
// A modification time and size would miss a same-size file rewritten
// within the file system's timestamp granularity, or copied in with its
// old time kept (rsync -t, cp -p); the files are a few KB, read once per
// handshake.
type fileStamp [sha256.Size]byte

func stamp(path string) (fileStamp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileStamp{}, err
	}
	return sha256.Sum256(b), nil
}

// Live loads c as Client does (an error if it cannot) and returns it as a
// Live config, or nil when TLS is not enabled. field prefixes the fields
// named in the lines it logs (gnmi.targets[r1].tls, say); a nil log logs
// nothing.
func (c Config) Live(field string, log *slog.Logger) (*Live, error) {
	base, err := c.Client()
	if err != nil || base == nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Live{c: c, field: field, log: log, base: base, pool: base.RootCAs, failing: map[string]bool{}}
	if c.CAFile != "" {
		l.ca, _ = stamp(c.CAFile)
	}
	if len(base.Certificates) > 0 {
		l.pair = &base.Certificates[0]
		l.cert, _ = stamp(c.CertFile)
		l.key, _ = stamp(c.KeyFile)
	}
	return l, nil
}

// Config returns the TLS config for the next handshake: the CA pool read
// again when ca_file changed, and a GetClientCertificate that does the
// same for the client certificate. The caller may modify the result.
func (l *Live) Config() *tls.Config {
	tc := l.base.Clone()
	tc.Certificates = nil
	l.mu.Lock()
	l.reloadCA()
	tc.RootCAs = l.pool
	l.mu.Unlock()
	if l.c.CertFile != "" {
		tc.GetClientCertificate = l.clientCertificate
	}
	return tc
}

// reloadCA reads ca_file again when it changed. l.mu must be held.
func (l *Live) reloadCA() {
	if l.c.CAFile == "" {
		return
	}
	pem, err := os.ReadFile(l.c.CAFile)
	st := fileStamp(sha256.Sum256(pem))
	if err == nil && st == l.ca {
		return
	}
	var pool *x509.CertPool
	if err == nil {
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			err = fmt.Errorf("%s holds no PEM certificate", l.c.CAFile)
		}
	}
	if l.result("ca_file", l.c.CAFile, err) {
		l.ca, l.pool = st, pool
	}
}

// clientCertificate returns the client certificate, loaded again when
// cert_file or key_file changed. It never fails: without a good new pair it
// offers the one loaded before.
func (l *Live) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs, cerr := stamp(l.c.CertFile)
	ks, kerr := stamp(l.c.KeyFile)
	if cerr == nil && kerr == nil && cs == l.cert && ks == l.key {
		return l.pair, nil
	}
	pair, err := keyPair(l.c.CertFile, l.c.KeyFile)
	if l.result("cert_file", l.c.CertFile, err) {
		l.cert, l.key, l.pair = cs, ks, pair
		if cerr != nil || kerr != nil { // changed between stat and load: look again next time
			l.cert = fileStamp{}
		}
	}
	return l.pair, nil
}

// result logs the outcome of loading field's file and reports whether it
// succeeded: one warning when a load fails (until one succeeds), one line
// when it succeeds after a failure or a change. l.mu must be held.
func (l *Live) result(field, file string, err error) bool {
	name := l.field + "." + field
	if err != nil {
		if !l.failing[field] {
			l.failing[field] = true
			l.log.Warn("cannot load the TLS file again; keeping what was loaded before", "field", name, "file", file, "err", err)
		}
		return false
	}
	delete(l.failing, field)
	l.log.Info("TLS file changed; using the new one", "field", name, "file", file)
	return true
}

// DialContext returns a dial function for clients that take one (franz-go's
// kgo.Dialer, net/http's Transport.DialTLSContext): each call connects with
// d and completes a TLS handshake with a fresh Config, so the connection
// uses the files as they are now. The server name checked is server_name,
// else the host of addr, as crypto/tls.Dial does; verification is
// crypto/tls's own. d's Timeout bounds the connection and the handshake.
func (l *Live) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&tls.Dialer{NetDialer: d, Config: l.ConfigFor(addr)}).DialContext(ctx, network, addr)
	}
}

// ConfigFor is Config with ServerName set to the host of addr when
// server_name is not set, for a caller that runs the handshake itself.
func (l *Live) ConfigFor(addr string) *tls.Config {
	tc := l.Config()
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			tc.ServerName = host
		}
	}
	return tc
}
