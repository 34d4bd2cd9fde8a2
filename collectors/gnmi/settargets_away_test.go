package gnmi_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestRemovedTargetsAllUnsubscribeWhileKafkaIsAway: a process
// cut off from Kafka (its producer buffer full, every publish waiting)
// loses its buckets, and the group's onChange removes its two targets
// (SetTargets without them), so that it stops collecting them before
// another process takes them over. Every removed target is cancelled at
// once, before SetTargets waits for any. Before, it stopped them one
// after the other, each waiting for its last batch to be produced: the
// first one's wait blocked while Kafka was away, so the second target was
// not even cancelled: its subscription stayed open (and its stream went
// on reading and publishing once Kafka was back, while another process
// collected it too).
func TestRemovedTargetsAllUnsubscribeWhileKafkaIsAway(t *testing.T) {
	var ended [2]atomic.Bool
	var addrs [2]string
	for i := range addrs {
		addrs[i], _ = rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
			context.AfterFunc(ctx, func() { ended[i].Store(true) })
			for ts := time.Now().UnixNano(); ctx.Err() == nil; ts += int64(time.Second) {
				if err := send(chassis(t, ts, 64, 20)); err != nil {
					return nil
				}
				time.Sleep(5 * time.Millisecond)
			}
			return nil
		})
	}
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	gate := testenv.HoldProduce(cluster)
	t.Cleanup(gate.Release)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedBytes(256<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	pub, err := publish.New(cl, publish.Config{Topic: "samples", MaxBatchBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig([]gnmi.Target{{Name: "a", Address: addrs[0], StallTimeout: -1}, {Name: "b", Address: addrs[1], StallTimeout: -1}})
	c, stop := runCollector(t, cfg, pub, slog.New(slog.DiscardHandler))
	defer stop()
	defer gate.Release() // before the stop, so it does not wait out its grace period
	waitFor(t, 10*time.Second, "both subscriptions", func() bool { return c.Stats().Connects == 2 })
	time.Sleep(200 * time.Millisecond)
	gate.Hold() // Kafka is away: the 256 KiB buffer fills at once
	time.Sleep(time.Second)

	go func() { _ = c.SetTargets(nil) }() // the buckets are lost: stop both targets
	deadline := time.Now().Add(3 * time.Second)
	for !ended[0].Load() || !ended[1].Load() {
		if time.Now().After(deadline) {
			t.Fatalf("3 s after both targets were removed, subscription a ended: %v, b ended: %v; want both ended (the removed targets are still subscribed while Kafka is away)",
				ended[0].Load(), ended[1].Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
