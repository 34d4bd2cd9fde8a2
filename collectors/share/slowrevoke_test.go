package share

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/kafka"
)

// TestSlowRevokeDuringRebalance: member a takes 4 s to stop the targets
// of the buckets revoked when b joins (their last batches going to a slow
// Kafka), and c joins meanwhile. a rejoins late but within the rebalance
// timeout (the session, 6 s), so it stays in the group and no bucket is
// ever owned twice. A rebalance timeout of half the session (3 s) had the
// coordinator drop a and give all its buckets to b and c while a still
// collected those it kept.
func TestSlowRevokeDuringRebalance(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := &ledger{owner: map[int32]string{}}
	revoking := make(chan struct{}, 1)
	join := func(name string, slow bool) *Group {
		g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 12, SessionTimeout: 6 * time.Second}, "test",
			func(c Change) {
				if slow && c.Reason == "revoked" {
					select {
					case revoking <- struct{}{}:
					default:
					}
					time.Sleep(4 * time.Second)
				}
				l.change(name, c)
			}, WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	a := join("a", true)
	defer a.Close()
	for l.owns("a") < 12 {
		if ctx.Err() != nil {
			t.Fatal("a was not assigned the 12 buckets")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := join("b", false)
	defer b.Close()
	<-revoking
	c := join("c", false)
	defer c.Close()
	for l.owns("a") == 0 || l.owns("b") == 0 || l.owns("c") == 0 || l.owns("a")+l.owns("b")+l.owns("c") != 12 {
		if ctx.Err() != nil {
			t.Fatalf("a, b and c did not share the 12 buckets: %d, %d, %d", l.owns("a"), l.owns("b"), l.owns("c"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.double {
		t.Error(d)
	}
}
