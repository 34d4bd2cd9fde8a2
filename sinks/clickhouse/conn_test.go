package clickhouse

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// loopback returns the two ends of a TCP connection on 127.0.0.1, closed
// when the test ends.
func loopback(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestStallConnWrite writes to a peer that reads nothing: the write fails
// about stall after the buffers filled, retryably, and
// the connection stays failed. A deadline the driver set first is the
// driver's own timeout, and the connection stays usable.
func TestStallConnWrite(t *testing.T) {
	const stall = 300 * time.Millisecond
	big := make([]byte, 64<<20) // far more than the socket buffers hold

	raw, _ := loopback(t)
	c := &stallConn{Conn: raw, stall: stall}
	start := time.Now()
	n, err := c.Write(big)
	took := time.Since(start)
	var se *stallError
	if !errors.As(err, &se) || !IsRetryable(err) || n == 0 || n == len(big) {
		t.Fatalf("Write = %d, %v; want part written and a retryable stallError", n, err)
	}
	if took < stall || took > 3*stall {
		t.Errorf("Write failed after %v, want about %v", took, stall)
	}
	t.Logf("wrote %d bytes, failed after %v: %v", n, took.Round(time.Millisecond), err)
	if _, err2 := c.Write([]byte{1}); !errors.Is(err2, errStalled) {
		t.Errorf("Write after the stall = %v, want the stall's error", err2)
	}
	if _, err2 := c.Read(make([]byte, 1)); !errors.Is(err2, errStalled) {
		t.Errorf("Read after the stall = %v, want the stall's error", err2)
	}

	raw2, _ := loopback(t)
	c2 := &stallConn{Conn: raw2, stall: time.Minute}
	if err := c2.SetDeadline(time.Now().Add(stall)); err != nil {
		t.Fatal(err)
	}
	_, err = c2.Write(big)
	var ne net.Error
	if errors.As(err, &se) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Write past the driver's deadline = %v, want the driver's timeout", err)
	}
	if err := c2.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if c2.err != nil {
		t.Errorf("the driver's deadline broke the connection: %v", c2.err)
	}
}

// TestInsertWatchInterrupts binds a connection to an INSERT's watch as the
// driver does (SetDeadline with the context's deadline), blocks a write on
// a peer that reads nothing, and cancels the context: the write returns at
// once, the connection stays failed, and end says the stop interrupted
// the INSERT. A connection given another deadline is not bound, and one
// whose INSERT ended is not closed by a later cancel.
func TestInsertWatchInterrupts(t *testing.T) {
	ins := &inserts{}
	big := make([]byte, 64<<20)

	raw, _ := loopback(t)
	c := &stallConn{Conn: raw, stall: time.Minute, ins: ins}
	other, _ := loopback(t)
	o := &stallConn{Conn: other, stall: time.Minute, ins: ins}
	ctx, cancel := context.WithCancel(context.Background())
	ictx, w := ins.watch(ctx)
	dl, ok := ictx.Deadline()
	if !ok {
		t.Fatal("the watched context has no deadline")
	}
	if err := o.SetDeadline(dl.Add(time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeadline(dl); err != nil { // the driver's prepareBatch
		t.Fatal(err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Write(big)
	if took := time.Since(start); took > 2*time.Second || err == nil {
		t.Fatalf("Write returned %v after %v; want an error soon after the cancel", err, took)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, errInterrupted) {
		t.Errorf("Read after the interrupt = %v, want errInterrupted", err)
	}
	err = w.end(err)
	if !errors.Is(err, errInterrupted) || !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "\n") {
		t.Errorf("end = %q; want one line wrapping errInterrupted and context.Canceled", err)
	}
	if o.err != nil {
		t.Errorf("a connection with another deadline was interrupted: %v", o.err)
	}
	if len(ins.byTime) != 0 {
		t.Errorf("%d watches left after end", len(ins.byTime))
	}

	// An INSERT that returned before its context ended keeps its connection.
	raw2, _ := loopback(t)
	c2 := &stallConn{Conn: raw2, stall: time.Minute, ins: ins}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	ictx2, w2 := ins.watch(ctx2)
	if dl2, _ := ictx2.Deadline(); !dl2.Before(time.Now().Add(time.Hour)) {
		t.Errorf("the watched deadline %v is not before the parent's", dl2)
	} else if err := c2.SetDeadline(dl2); err != nil {
		t.Fatal(err)
	}
	if err := w2.end(nil); err != nil {
		t.Fatal(err)
	}
	cancel2()
	time.Sleep(50 * time.Millisecond)
	if _, err := c2.Write([]byte{1}); err != nil || c2.err != nil {
		t.Errorf("the connection of an INSERT that ended was interrupted: %v, %v", err, c2.err)
	}
}

// TestInsertWatchEndKeepsConnection: ending the watch of an INSERT that
// succeeded never closes its connection, which the driver has already put
// back in its pool for the next INSERT. Each round is one INSERT: a watch,
// its connection bound, its end.
func TestInsertWatchEndKeepsConnection(t *testing.T) {
	ins := &inserts{}
	raw, _ := loopback(t)
	c := &stallConn{Conn: raw, stall: time.Minute, ins: ins}
	const rounds = 2000
	for i := range rounds {
		ictx, w := ins.watch(context.Background())
		dl, _ := ictx.Deadline()
		if err := c.SetDeadline(dl); err != nil {
			t.Fatal(err)
		}
		if err := w.end(nil); err != nil {
			t.Fatalf("round %d: end = %v", i, err)
		}
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err != nil {
			t.Fatalf("round %d of %d: the connection of an INSERT that succeeded was closed by its own end: %v", i+1, rounds, err)
		}
	}
}

// TestInsertWatchReusedConnection: the driver returns an INSERT's
// connection to its pool inside Batch.Send, before the INSERT's watch
// ends (InsertSamples ends it in a defer after Send). When another INSERT
// takes that connection in between and the first INSERT's context then
// ends, the connection now carrying the second INSERT must not be closed:
// only the second INSERT's own context may interrupt it.
func TestInsertWatchReusedConnection(t *testing.T) {
	ins := &inserts{}
	raw, _ := loopback(t)
	c := &stallConn{Conn: raw, stall: time.Minute, ins: ins}

	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ictx1, w1 := ins.watch(ctx1)
	dl1, _ := ictx1.Deadline()
	if err := c.SetDeadline(dl1); err != nil { // the first INSERT's prepareBatch
		t.Fatal(err)
	}
	// Send released the connection; a second INSERT takes it from the pool.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	ictx2, w2 := ins.watch(ctx2)
	dl2, _ := ictx2.Deadline()
	if err := c.SetDeadline(dl2); err != nil { // the second INSERT's prepareBatch
		t.Fatal(err)
	}
	// The first INSERT's context ends before its deferred end runs.
	cancel1()
	time.Sleep(50 * time.Millisecond)
	if err := w1.end(nil); err != nil {
		t.Errorf("end of the first INSERT, which succeeded = %v", err)
	}
	if _, err := c.Write([]byte{1}); err != nil || c.err != nil {
		t.Errorf("the second INSERT's connection was closed by the first INSERT's context: Write = %v, conn error %v", err, c.err)
	}
	if err := w2.end(nil); err != nil {
		t.Errorf("end of the second INSERT = %v", err)
	}
}

// TestInsertContextOutlivesInsert: the context an INSERT is prepared with
// ends while the INSERT is in flight when the caller's does, and never
// after the INSERT returned, neither by the watch's end nor by the
// caller's context ending later. The driver's Batch.Send closes the
// batch's connection from a goroutine when that context is done; the
// goroutine stops only when it sees its stop, which Send signals before
// putting the connection back in the pool. One scheduled late sees both
// and picks either, so a context done after the INSERT returned had it
// close a pooled connection: the next statement failed with "use of
// closed network connection" (TestIncidentsStageReloadsInventory under
// CPU load). Below, a late goroutine is the select after end.
func TestInsertContextOutlivesInsert(t *testing.T) {
	type key struct{}
	ins := &inserts{}
	raw, _ := loopback(t)
	c := &stallConn{Conn: raw, stall: time.Minute, ins: ins}
	lateWatchdog := func(ictx context.Context, when string) {
		t.Helper()
		select {
		case <-ictx.Done():
			t.Errorf("%s: the INSERT's context is done (%v): a late Send watchdog may close the pooled connection", when, ictx.Err())
		default:
		}
		if err := ictx.Err(); err != nil {
			t.Errorf("%s: Err = %v, want nil", when, err)
		}
	}

	for _, withDeadline := range []bool{false, true} {
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		if withDeadline {
			parent, cancel = context.WithTimeout(parent, time.Hour)
		}
		ictx, w := ins.watch(parent)
		if ictx.Value(key{}) != "v" {
			t.Errorf("the INSERT's context lost the caller's values")
		}
		dl, _ := ictx.Deadline()
		if err := c.SetDeadline(dl); err != nil { // the driver's prepareBatch
			t.Fatal(err)
		}
		if err := c.SetDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		// Send returned, the connection is back in the pool.
		if err := w.end(nil); err != nil {
			t.Fatal(err)
		}
		lateWatchdog(ictx, "after end")
		cancel()
		time.Sleep(20 * time.Millisecond) // let an AfterFunc run if one were left
		lateWatchdog(ictx, "after end and the caller's cancel")
		if _, err := c.Write([]byte{1}); err != nil || c.err != nil {
			t.Fatalf("the connection of an INSERT that returned was closed: %v, %v", err, c.err)
		}
	}

	// In flight, the caller's cancel ends the INSERT's context, so the
	// driver's own watchdog still interrupts a Send.
	parent, cancel := context.WithCancel(context.Background())
	ictx, w := ins.watch(parent)
	dl, _ := ictx.Deadline()
	if err := c.SetDeadline(dl); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-ictx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the INSERT's context did not end when the caller's did")
	}
	if !errors.Is(ictx.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", ictx.Err())
	}
	if err := w.end(errors.New("closed")); !errors.Is(err, errInterrupted) {
		t.Errorf("end = %v, want errInterrupted", err)
	}
}

// TestInsertContextOfCancelledCaller: an INSERT prepared with a context
// the caller already cancelled gets a context that is already done (as
// the context.WithDeadline child before 97d0df0 was), so the driver
// returns at once without taking or dialling a connection, instead of
// racing the AfterFunc goroutine that ends it.
func TestInsertContextOfCancelledCaller(t *testing.T) {
	ins := &inserts{}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	notDone := 0
	for range 1000 {
		ictx, w := ins.watch(parent)
		if ictx.Err() == nil {
			notDone++
		}
		select {
		case <-ictx.Done():
		default:
			notDone++
		}
		w.end(nil)
	}
	if notDone > 0 {
		t.Errorf("a cancelled caller's INSERT context was not done right after watch %d times (of 2000 checks)", notDone)
	}
}
