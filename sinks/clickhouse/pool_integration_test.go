package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// TestIntegrationPooledConnectionClosedByPeer: a pooled connection is
// reused statement after statement, and one idle in the pool that the
// other end closed (a server restart, a load balancer's or the server's
// idle timeout, a proxy cut) is not handed out again. The driver checks a
// pooled connection's socket before it reuses it; the sink's stallConn hid
// the socket from that check, so the next statement went out on the dead
// connection and failed ("read: EOF") although the server was up.
func TestIntegrationPooledConnectionClosedByPeer(t *testing.T) {
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.MaxOpenConns = 1
	})
	checkPool(t, s, proxy)
}

// TestIntegrationTLSPool is TestIntegrationPooledConnectionClosedByPeer
// over TLS: the pool check reads the socket under TLS too, and finds no
// stray bytes on an idle connection (10 statements, one dial).
func TestIntegrationTLSPool(t *testing.T) {
	cfg, proxy, _ := tlsConfig(t)
	cfg.MaxOpenConns = 1
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkPool(t, s, proxy)
}

// checkPool pings s (one pooled connection, through proxy) 10 times,
// which must dial once at most, then cuts the proxy's connections 3 times
// (the server stays up), after each of which a ping must succeed.
func checkPool(t *testing.T, s *Sink, proxy *sinktest.Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := proxy.Accepted()
	for i := range 10 {
		if err := s.conn.Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := proxy.Accepted() - before; n > 1 {
		t.Errorf("10 pings dialled %d connections: the pooled one was discarded", n)
	}
	for i := range 3 {
		proxy.Cut() // closes the pooled connection's far end
		proxy.Restore(t)
		time.Sleep(100 * time.Millisecond) // the FIN reaches the client's socket
		if err := s.conn.Ping(ctx); err != nil {
			t.Fatalf("ping after cut %d, the server up: %v", i, err)
		}
	}
}

// TestIntegrationInsertCancelledCallerKeepsPool: an INSERT whose caller's
// context is already cancelled returns the context's error without
// touching the pool: the pooled connection stays, no connection is
// dialled. When the INSERT's context ended only once the AfterFunc's
// goroutine ran, the driver had taken the pooled connection by then, and
// the interrupt closed it (20 dials for 20 such INSERTs).
func TestIntegrationInsertCancelledCallerKeepsPool(t *testing.T) {
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.MaxOpenConns = 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	before := proxy.Accepted()
	for i := range 20 {
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		if err := s.recordVersions(cctx, []string{"samples", "legacy"}, time.Now()); err == nil {
			t.Fatalf("INSERT %d with a cancelled context succeeded", i)
		}
		if err := s.conn.Ping(ctx); err != nil {
			t.Fatalf("ping after INSERT %d: %v", i, err)
		}
	}
	if n := proxy.Accepted() - before; n > 0 {
		t.Errorf("20 INSERTs with a cancelled context cost %d pooled connections (dials)", n)
	}
}
