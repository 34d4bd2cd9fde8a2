package clickhouse

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// countingProxy forwards to target and counts the connections it accepted;
// cut closes the ones open.
type countingProxy struct {
	addr     string
	accepted atomic.Int64
	mu       sync.Mutex
	open     []net.Conn
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *countingProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}

// TestIntegrationTLSPool: over TLS, with the pool check now reading the
// socket under stallConn (SyscallConn), a pooled connection is reused
// statement after statement (the check finds no stray TLS bytes), and one
// the other end closed is discarded, not handed out.
func TestIntegrationTLSPool(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE_TLS")
	user := testenv.Service(t, "TK_CLICKHOUSE_TLS_USER")
	testenv.Service(t, "TK_CLICKHOUSE_TLS_PASSWORD")
	serverCA, err := os.ReadFile(testenv.Service(t, "TK_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	testenv.WriteFile(t, caFile, serverCA)
	p := newCountingProxy(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, Config{Addr: []string{p.addr}, Database: "default", Username: user, MaxOpenConns: 1,
		Password: secret.Source{Env: "TK_CLICKHOUSE_TLS_PASSWORD"}, DialTimeout: 2 * time.Second,
		TLS: tlsfiles.Config{Enabled: true, CAFile: caFile}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := p.accepted.Load()
	for i := range 10 {
		if err := s.conn.Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := p.accepted.Load() - before; n > 1 {
		t.Errorf("10 pings over TLS dialled %d connections: the pooled ones were discarded", n)
	}
	for i := range 3 {
		p.cut()
		time.Sleep(100 * time.Millisecond)
		if err := s.conn.Ping(ctx); err != nil {
			t.Fatalf("ping after cut %d: %v", i, err)
		}
	}
}

// TestIntegrationInsertCancelledCallerKeepsPool: an INSERT whose caller's
// context is already cancelled returns the context's error without
// touching the pool: the pooled connection stays, no connection is
// dialled. Since 97d0df0 the INSERT's context ended only when the
// AfterFunc's goroutine ran, after the driver had taken the pooled
// connection, which the interrupt then closed.
func TestIntegrationInsertCancelledCallerKeepsPool(t *testing.T) {
	p := newCountingProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{p.addr}
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
	before := p.accepted.Load()
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
	if n := p.accepted.Load() - before; n > 0 {
		t.Errorf("20 INSERTs with a cancelled context cost %d pooled connections (dials)", n)
	}
}
