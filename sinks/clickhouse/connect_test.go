package clickhouse

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// fakeServer accepts connections on loopback and hands each to serve; it
// stops when the test ends.
func fakeServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// checkConnectError checks that New failed fast with a one-line
// ConnectError matching pattern.
func checkConnectError(t *testing.T, cfg Config, within time.Duration, pattern string, retryable bool) {
	t.Helper()
	start := time.Now()
	s, err := New(context.Background(), cfg)
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("New succeeded")
	}
	msg := err.Error()
	t.Logf("%v after %v", msg, took.Round(time.Millisecond))
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("error is %T, want *ConnectError", err)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !regexp.MustCompile(pattern).MatchString(msg) {
		t.Errorf("error\n  %s\ndoes not match\n  %s", msg, pattern)
	}
	if took > within {
		t.Errorf("New took %v, want at most %v", took, within)
	}
	if IsRetryable(err) != retryable {
		t.Errorf("IsRetryable = %v, want %v", !retryable, retryable)
	}
}

func TestConnectRefused(t *testing.T) {
	addr := closedPort(t)
	q := regexp.QuoteMeta(addr)
	checkConnectError(t, Config{Addr: []string{addr}}, 3*time.Second,
		`^clickhouse `+q+`: cannot connect: dial tcp `+q+`: connect: connection refused \(is the server running and the address right\?\)$`, true)
}

// A server that accepts and never answers: New gives up after dial_timeout.
func TestConnectSilentServer(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	checkConnectError(t, Config{Addr: []string{addr}, DialTimeout: time.Second}, 4*time.Second,
		`^clickhouse `+regexp.QuoteMeta(addr)+`: cannot connect: .+ \(no answer within 1s: check the address, firewalls, and dial_timeout\)$`, true)
}

// An HTTP endpoint, not the native protocol: it answers and hangs up.
func TestConnectNotNative(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 512)
		_, _ = c.Read(buf)
		_, _ = io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
		c.Close()
	})
	checkConnectError(t, Config{Addr: []string{addr}, DialTimeout: 2 * time.Second}, 4*time.Second,
		`^clickhouse `+regexp.QuoteMeta(addr)+`: cannot connect: \[handshake\] unexpected packet \[72\] from server \(the server does not speak the native protocol: is this its native port \(usually 9000; 8123 is HTTP\)\?\)$`, false)
}

// A server that hangs up at once.
func TestConnectHangUp(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) {
		c.Close()
	})
	checkConnectError(t, Config{Addr: []string{addr}, DialTimeout: 2 * time.Second}, 4*time.Second,
		`^clickhouse `+regexp.QuoteMeta(addr)+`: cannot connect: .+ \(the server closed the connection: is this the native-protocol port \(usually 9000, not HTTP 8123\), and does it expect TLS \(set tls\.enabled\)\?\)$`, true)
}

// TLS to a server that does not speak it.
func TestConnectTLSToPlainServer(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 512)
		_, _ = c.Read(buf)
		_, _ = io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
		c.Close()
	})
	checkConnectError(t, Config{Addr: []string{addr}, DialTimeout: 2 * time.Second, TLS: tlsfiles.Config{Enabled: true}}, 4*time.Second,
		`^clickhouse `+regexp.QuoteMeta(addr)+`: cannot connect: .+ \(the server did not answer with TLS: .+\)$`, false)
}

func TestConnectInvalidConfig(t *testing.T) {
	_, err := New(context.Background(), Config{Addr: []string{"nohost"}})
	if err == nil || !strings.Contains(err.Error(), `addr[0]: "nohost" is not host:port`) {
		t.Fatalf("New with a bad addr: %v", err)
	}
	_, err = New(context.Background(), Config{Password: secret.Source{File: "/nonexistent/tk-password"}})
	if err == nil || !strings.Contains(err.Error(), "invalid config: password: cannot read secret file") {
		t.Fatalf("New with a missing password file: %v", err)
	}
}

// openSockets returns the number of sockets this process has open (Linux).
func openSockets(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open sockets: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// checkNoSocketLeak runs New with cfg, which must fail at the handshake,
// tries times with the garbage collector off (a socket's finalizer would
// otherwise close what the sink forgot), and fails the test if the sockets
// of the process grew by more than a few.
func checkNoSocketLeak(t *testing.T, cfg Config, tries int) {
	t.Helper()
	runtime.GC() // sockets forgotten earlier close now, not during the count
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := openSockets(t)
	var last error
	for range tries {
		s, err := New(context.Background(), cfg)
		if err == nil {
			s.Close()
			t.Fatal("New succeeded")
		}
		last = err
	}
	time.Sleep(100 * time.Millisecond) // the fake server's side closes
	after := openSockets(t)
	t.Logf("%d failed handshakes (%v): open sockets %d before, %d after", tries, last, before, after)
	if after-before > 2 {
		t.Errorf("%d failed handshakes left %d more sockets open", tries, after-before)
	}
}

// A server that hangs up during the handshake, 50 times: the sink closes
// each connection (clickhouse-go v2.50 does not close the connection of a
// failed handshake; its finalizer would, at some GC).
func TestConnectHangUpClosesSocket(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) {
		c.Close()
	})
	checkNoSocketLeak(t, Config{Addr: []string{addr}, DialTimeout: 2 * time.Second}, 50)
}
