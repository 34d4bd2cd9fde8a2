package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// TestIntegrationPooledConnectionClosedByPeer: a connection idle in the
// pool that the other end closed (a server restart, a load balancer's or
// the server's idle timeout, a proxy cut) is not handed out again. The
// driver checks a pooled connection's socket before it reuses it; the
// sink's stallConn hid the socket from that check, so the next statement
// went out on the dead connection and failed ("EOF", "use of closed
// network connection") although the server was up.
func TestIntegrationPooledConnectionClosedByPeer(t *testing.T) {
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
	for i := range 3 {
		if _, err := s.Count(ctx, schemas.TableSamples); err != nil {
			t.Fatalf("count before cut %d: %v", i, err)
		}
		proxy.Cut() // closes the pooled connection's far end
		proxy.Restore(t)
		time.Sleep(100 * time.Millisecond) // the FIN reaches the client's socket
		if _, err := s.Count(ctx, schemas.TableSamples); err != nil {
			t.Fatalf("count after cut %d, the server up: %v", i, err)
		}
	}
}
