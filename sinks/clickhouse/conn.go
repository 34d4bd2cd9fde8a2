package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telekernel/telekernel/internal/tlsfiles"
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
// INSERT, and the server sees the INSERT end. The connection of an INSERT
// whose context ends is closed and broken so too (see inserts).
//
// The driver uses a connection from one goroutine at a time; the mutex
// guards the deadline and error that SetDeadline (from the driver's
// context watchdog) may touch concurrently.
type stallConn struct {
	net.Conn
	stall time.Duration
	ins   *inserts // the sink's INSERTs in flight, to bind to (see inserts)

	mu       sync.Mutex
	bound    *insertWatch // the INSERT last bound to the connection (see inserts.bind)
	deadline time.Time    // the write deadline the driver set; zero for none
	err      error        // set by a stall
}

var (
	_ net.Conn     = (*stallConn)(nil)
	_ syscall.Conn = (*stallConn)(nil)
)

// SyscallConn returns the socket under the connection, for the driver's
// check of a connection it takes from its pool (clickhouse-go's connCheck
// reads the socket without blocking: an end of file means the other end
// closed it, and the connection is discarded instead of reused). Without
// it a connection that a server restart, an idle timeout or a load
// balancer closed while it sat in the pool was handed out again, and its
// next statement failed ("read: EOF") although the server was up
// (TestIntegrationPooledConnectionClosedByPeer). A connection broken by a
// stall or an interrupt returns its error, so it is discarded too.
func (c *stallConn) SyscallConn() (syscall.RawConn, error) {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("clickhouse: a %T has no socket to check", c.Conn)
	}
	return sc.SyscallConn()
}

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
	if c.ins.bind(t, c) {
		// The deadline only tells the INSERT (its context has none):
		// the driver's read timeout, set before it, stays, and writes
		// have none, as without a deadline.
		c.mu.Lock()
		c.deadline = time.Time{}
		c.mu.Unlock()
		return c.Conn.SetWriteDeadline(time.Time{})
	}
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// interrupt fails the connection with err and closes it, as a stall does:
// a Read or Write blocked on it returns at once, and so do later ones. It
// does nothing unless the connection still carries the INSERT of w: the
// driver puts a connection back in its pool (in Batch.Send) before the
// INSERT's watch ends, and another INSERT may have taken it since. It
// reports whether the connection carried w's INSERT.
func (c *stallConn) interrupt(w *insertWatch, err error) bool {
	c.mu.Lock()
	if c.bound != w {
		c.mu.Unlock()
		return false
	}
	if c.err == nil {
		c.err = fmt.Errorf("%w (%w)", errInterrupted, err)
	}
	c.mu.Unlock()
	_ = c.Conn.Close()
	return true
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
// dialTimeout, under a stallConn, under TLS when live is set (the
// handshake bounded by dialTimeout too), as the driver's own dial does.
// Each TLS connection takes a fresh config from live, so a CA bundle,
// client certificate or key rewritten in place is used from the next
// connection on.
func dialer(dialTimeout, stall time.Duration, live *tlsfiles.Live, ins *inserts) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: dialTimeout}
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if p, ok := ctx.Value(dialedKey{}).(*net.Conn); ok {
			*p = raw
		}
		var c net.Conn = &stallConn{Conn: raw, stall: stall, ins: ins}
		if live == nil {
			return c, nil
		}
		tc := tls.Client(c, live.ConfigFor(addr))
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

// inserts binds each INSERT in flight to the connection that carries it,
// so that the INSERT's context ending closes that connection. The driver
// watches the context only in Batch.Send; the writes of the blocks before
// it (Batch.Flush) go on until they finish or stall for read_timeout, so a
// stop during a multi-block INSERT to a server that stopped reading waited
// for read_timeout. The driver calls SetDeadline with the context's
// deadline on the connection of a batch when it prepares it: each INSERT
// gets a deadline of its own (a nanosecond earlier than its parent's, or,
// only as a tag, a day away), which tells its connection (see bind).
//
// An inserts is safe for concurrent use.
type inserts struct {
	mu     sync.Mutex
	seq    int64
	byTime map[int64]*insertWatch // by deadline, in Unix nanoseconds
}

// insertWatch is one INSERT in flight.
type insertWatch struct {
	ins     *inserts
	key     int64
	parent  context.Context // the caller's
	stopF   func() bool
	tagOnly bool          // parent has no deadline but the tag (see bind)
	ended   chan struct{} // insertCtx.Done: closed when fired is set

	mu    sync.Mutex
	conn  *stallConn // the connection carrying the INSERT, once known
	fired bool       // the context ended while the INSERT was in flight
	err   error      // parent.Err() when fired was set
	done  bool       // the INSERT returned
}

// insertCtx is the context an INSERT is prepared with (see watch): the
// caller's values, the watch's deadline, and a Done that is closed only
// when the caller's context ends while the INSERT is in flight, never
// after the INSERT returned.
//
// That matters because of the driver's Batch.Send (clickhouse-go v2.50):
// it starts a goroutine that closes the batch's connection when the
// context is done, and stops it before it puts the connection back in
// its pool and returns. A goroutine that was not scheduled before then
// finds both its stop and, if the context ended since, the context done,
// picks either at random, and so may close a connection that is back in
// the pool; the next statement on it fails with "use of closed network
// connection". The context the INSERT was prepared with used to be
// cancelled as soon as it returned, which made that happen whenever the
// goroutine was late (TestInsertContextOutlivesInsert; under CPU load,
// TestIncidentsStageReloadsInventory failed so in 6 of 100 runs).
type insertCtx struct {
	context.Context // context.WithoutCancel(parent): its values only
	w               *insertWatch
}

func (c insertCtx) Deadline() (time.Time, bool) { return time.Unix(0, c.w.key), true }
func (c insertCtx) Done() <-chan struct{}       { return c.w.ended }

func (c insertCtx) Err() error {
	select {
	case <-c.w.ended:
		return c.w.err // set before ended was closed
	default:
		return nil
	}
}

// errInterrupted is wrapped by the error of an INSERT whose context ended
// while it was in flight.
var errInterrupted = errors.New("interrupted by the stop")

// watch returns the context to prepare an INSERT with, and its watch:
// when ctx ends before the watch's end, the connection of the INSERT is
// closed, so the driver returns at once and the server ends the INSERT.
// The context it returns (an insertCtx) ends then too, and at no other
// time. The caller must call end once the INSERT returned.
func (ins *inserts) watch(ctx context.Context) (context.Context, *insertWatch) {
	base, ok := ctx.Deadline()
	if !ok {
		base = time.Now().Add(24 * time.Hour)
	}
	w := &insertWatch{ins: ins, parent: ctx, tagOnly: !ok, ended: make(chan struct{})}
	ins.mu.Lock()
	for {
		ins.seq++
		// Strictly before the parent's deadline: the driver sets it on
		// the connection, which must not wait past the caller's.
		w.key = base.Add(-time.Duration(ins.seq)).UnixNano()
		if _, taken := ins.byTime[w.key]; !taken {
			break
		}
	}
	if ins.byTime == nil {
		ins.byTime = map[int64]*insertWatch{}
	}
	ins.byTime[w.key] = w
	ins.mu.Unlock()
	w.stopF = context.AfterFunc(ctx, w.interrupt)
	if ctx.Err() != nil {
		// Already ended: end the INSERT's context now, as the AfterFunc's
		// goroutine would only later, so that the driver returns at once
		// instead of taking (or dialling) a connection first.
		w.interrupt()
	}
	return insertCtx{Context: context.WithoutCancel(ctx), w: w}, w
}

// bind notes that c carries the INSERT whose deadline is t, if any; the
// driver sets it on the connection of a batch it prepares. It reports
// whether t is only the INSERT's tag, its context having no deadline of
// its own: the driver lets a context's deadline override its read
// timeout, which such a deadline, a day away, must not.
func (ins *inserts) bind(t time.Time, c *stallConn) (tagOnly bool) {
	if ins == nil || t.IsZero() {
		return false
	}
	ins.mu.Lock()
	w := ins.byTime[t.UnixNano()]
	ins.mu.Unlock()
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.conn = c
		c.mu.Lock()
		c.bound = w
		c.mu.Unlock()
		if w.fired {
			c.interrupt(w, w.err)
		}
	}
	return w.tagOnly
}

// interrupt runs when the caller's context ends. Unless the INSERT
// returned, or its connection went back to the pool and carries another
// INSERT since, it closes the connection and ends the INSERT's context,
// so the driver returns at once.
func (w *insertWatch) interrupt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.fired { // fired: run by watch already
		return
	}
	err := w.parent.Err()
	if w.conn != nil && !w.conn.interrupt(w, err) {
		return
	}
	w.fired, w.err = true, err
	close(w.ended)
}

// end ends the watch of an INSERT that returned err, and returns err, or
// for an INSERT its context interrupted an error saying so in one line
// that wraps errInterrupted and the context's error.
func (w *insertWatch) end(err error) error {
	w.stopF()
	w.mu.Lock()
	w.done, w.conn = true, nil
	fired := w.fired
	w.mu.Unlock()
	w.ins.mu.Lock()
	delete(w.ins.byTime, w.key)
	w.ins.mu.Unlock()
	if err == nil || !fired {
		return err
	}
	return fmt.Errorf("%w (%w): the connection was closed, so the server ended the INSERT; rows it did not acknowledge stay with the caller", errInterrupted, context.Cause(w.parent))
}

// dialedKey is the context key under which closeFailed asks the dialer for
// the connection it made (a *net.Conn).
type dialedKey struct{}

// closeFailed wraps the driver's dial of one address so that a connection
// whose handshake (or anything after the TCP dial) fails is closed: the
// driver drops it without closing it.
func closeFailed(dial ch.Dial) ch.Dial {
	return func(ctx context.Context, addr string, opt *ch.Options) (ch.DialResult, error) {
		var raw net.Conn
		r, err := dial(context.WithValue(ctx, dialedKey{}, &raw), addr, opt)
		if err != nil && raw != nil {
			_ = raw.Close()
		}
		return r, err
	}
}
