package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// stallConn is the TCP connection under the driver. The driver puts no
// deadline on the writes that send an INSERT's blocks between PrepareBatch
// and Send (batch.Flush), and the context does not interrupt them: a server
// that stops reading mid-INSERT would block them, and so a flush and the
// stop that waits for it, for as long as the kernel keeps the connection.
// stallConn fails a Write that makes no progress for stall (the sink's
// read_timeout), whatever it wrote before. A
// deadline the driver sets itself still applies, and its expiry is the
// driver's error. After a stall the connection is closed and broken: every
// later Read and Write fails at once with the same error, so the driver
// discards the connection instead of waiting on it again to end the
// INSERT, and the server sees the INSERT end.
//
// The driver uses a connection from one goroutine at a time; the mutex
// guards the deadline and error that SetDeadline (from the driver's
// context watchdog) may touch concurrently.
type stallConn struct {
	net.Conn
	stall time.Duration

	mu       sync.Mutex
	deadline time.Time // the write deadline the driver set; zero for none
	err      error     // set by a stall
}

var _ net.Conn = (*stallConn)(nil)

// errStalled is wrapped by the error of a write that made no progress.
var errStalled = errors.New("the server read nothing")

func (c *stallConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	err, driverDeadline := c.err, c.deadline
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	// Wait in slices of a quarter of stall, so that a slice that wrote
	// something moves the last progress forward by at most that much: the
	// write fails about stall after its last byte went.
	slice := max(c.stall/4, time.Millisecond)
	written, progress := 0, time.Now()
	for {
		now := time.Now()
		dl, own := now.Add(min(slice, progress.Add(c.stall).Sub(now))), true
		if !driverDeadline.IsZero() && driverDeadline.Before(dl) {
			dl, own = driverDeadline, false
		}
		if err := c.Conn.SetWriteDeadline(dl); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(p[written:])
		written += n
		var ne net.Error
		switch {
		case err == nil:
			return written, nil
		case !own || !errors.As(err, &ne) || !ne.Timeout():
			return written, err
		case n > 0:
			progress = time.Now()
			continue
		case time.Since(progress) < c.stall:
			continue
		}
		err = &stallError{stall: c.stall, err: err}
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		// The driver marks a connection closed after a write error
		// without closing it (clickhouse-go v2.50 connect.sendData), so
		// close it here: the server then ends the INSERT, which would
		// otherwise hold its table (a DROP or ALTER waits) until the
		// server's receive_timeout.
		_ = c.Conn.Close()
		return written, err
	}
}

func (c *stallConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// stallError is the error of a write that made no progress for stall. It
// is a net.Error with Timeout true, so IsRetryable holds.
type stallError struct {
	stall time.Duration
	err   error
}

func (e *stallError) Error() string {
	return fmt.Sprintf("%v for read_timeout %s (is the server overloaded or unreachable?): %v", errStalled, e.stall, e.err)
}

func (e *stallError) Unwrap() []error { return []error{errStalled, e.err} }
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }

// dialer returns the driver's DialContext: a TCP connection within
// dialTimeout, under a stallConn, under TLS when tlsCfg is set (the
// handshake bounded by dialTimeout too), as the driver's own dial does.
func dialer(dialTimeout, stall time.Duration, tlsCfg *tls.Config) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: dialTimeout}
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		var c net.Conn = &stallConn{Conn: raw, stall: stall}
		if tlsCfg == nil {
			return c, nil
		}
		cfg := tlsCfg.Clone()
		if cfg.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				cfg.ServerName = host
			}
		}
		tc := tls.Client(c, cfg)
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		return tc, nil
	}
}
