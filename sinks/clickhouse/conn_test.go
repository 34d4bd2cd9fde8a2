package clickhouse

import (
	"errors"
	"net"
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
