package publish

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestForgetOutlivesAcks forgets a device (a target removed, or moved to
// another process of its group) while its last record waits for Kafka, as
// it does whenever a collector stops a target: the acknowledgement that
// comes after must not bring back its last success, or the gauge
// telekernel_publish_last_success_timestamp_seconds{device} stays on this
// process for ever, frozen, for a target it no longer collects. A device
// published again after Forget is tracked again.
func TestForgetOutlivesAcks(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	gate := testenv.HoldProduce(cluster)
	defer gate.Release()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	m := NewMetrics(prometheus.NewRegistry())
	pub, err := New(cl, Config{Topic: "samples"}, WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	publish := func() {
		t.Helper()
		b := NewBatch(memory.NewGoAllocator(), "r1", schemas.SourceGNMI)
		defer b.Release()
		b.AppendGauge(time.Now().UnixNano(), b.MetricIndex("/m"), b.KeysIndex(""), 1)
		rec := b.NewRecord()
		defer rec.Release()
		if err := pub.Publish(ctx, "r1", rec); err != nil {
			t.Fatal(err)
		}
	}
	gate.Hold()
	publish()
	pub.Forget("r1")
	gate.Release()
	if err := pub.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.lastSuccess); n != 0 || !pub.LastSuccess("r1").IsZero() {
		t.Errorf("after Forget, the acknowledgement of the last record brought back the device: %d series, LastSuccess %v", n, pub.LastSuccess("r1"))
	}
	publish()
	if err := pub.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.lastSuccess); n != 1 || pub.LastSuccess("r1").IsZero() {
		t.Errorf("a device published again after Forget: %d series, LastSuccess %v, want it tracked", n, pub.LastSuccess("r1"))
	}
}
