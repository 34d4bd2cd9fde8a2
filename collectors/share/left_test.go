package share

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/kafka"
)

// TestCloseReportsLeft: the change Close reports, the last, has reason
// "left" (what telekernel_collect_rebalances_total and the rebalance log
// line say), not "revoked": the client revokes everything as it leaves,
// before Close's own report.
func TestCloseReportsLeft(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	var reasons []string
	owned := 0
	g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 4}, "test",
		func(c Change) { mu.Lock(); reasons = append(reasons, c.Reason); owned = c.Owned.Len(); mu.Unlock() },
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	for {
		mu.Lock()
		n := owned
		mu.Unlock()
		if n == 4 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the member was not assigned the 4 buckets")
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.Close()
	mu.Lock()
	defer mu.Unlock()
	if last := reasons[len(reasons)-1]; last != "left" || owned != 0 {
		t.Errorf("changes %v, owning %d at the end; want the last one \"left\", owning none", reasons, owned)
	}
}
