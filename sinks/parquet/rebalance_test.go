package parquet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// fullDisk wraps a Stage whose Flush fails while failing is set, as on a
// full disk.
type fullDisk struct {
	*Stage
	failing atomic.Bool
}

func (f *fullDisk) Flush(ctx context.Context) (int, error) {
	if f.failing.Load() {
		return 0, errors.New("cannot write: no space left on device")
	}
	return f.Stage.Flush(ctx)
}

// TestStageForgetsARevokedPartition: member A buffers both partitions, its
// flush fails when B joins and one partition moves to B, which writes and
// commits it; B leaves and the partition comes back to A at B's committed
// offset. A must not write the rows it buffered before the move: a file of
// them, named by an offset range that spans what B committed, replaced B's
// files and lost their rows.
func TestStageForgetsARevokedPartition(t *testing.T) {
	const perMsg = 8 // rows of mixed
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	kc := kafka.Config{Brokers: cluster.ListenAddrs(), SessionTimeout: 6 * time.Second}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var hs []kgo.RecordHeader
	for _, h := range schemas.SamplesHeaders() {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	produced := 0
	produce := func(n int) { // n messages to each partition
		t.Helper()
		for range n {
			for p := range int32(2) {
				rec := record(t, memory.DefaultAllocator, mixed(t0))
				v, err := schemas.EncodeSamples(nil, rec)
				rec.Release()
				if err != nil {
					t.Fatal(err)
				}
				if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: p, Value: v, Headers: hs}).FirstErr(); err != nil {
					t.Fatal(err)
				}
				produced += perMsg
			}
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	root := t.TempDir()
	newRunner := func(sink pipeline.Sink, interval time.Duration, rows int) *pipeline.Runner {
		t.Helper()
		r, err := pipeline.NewRunner(context.Background(), kc, pipeline.RunnerConfig{Name: "parquet", Group: "g", Topics: []string{topic}, FlushInterval: interval, FlushRows: rows},
			sink, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	produce(10)
	a := &fullDisk{Stage: NewStage(newWriter(t, Config{Root: root}), nil)}
	ra := newRunner(a, time.Hour, 0) // flushes only on revocation and at the drain
	aDone := make(chan error, 1)
	go func() { aDone <- ra.Run(context.Background()) }()
	waitFor("A to buffer both partitions", func() bool { return a.Pending() == produced })
	a.failing.Store(true)

	// B gets one partition and writes it in one file once it has read
	// 20 messages of it, offsets 0 to 19.
	b := NewStage(newWriter(t, Config{Root: root}), nil)
	rb := newRunner(b, time.Hour, 20*perMsg)
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	bDone := make(chan error, 1)
	go func() { bDone <- rb.Run(ctxB) }()
	waitFor("B to read the partition it got", func() bool { return b.Pending() == 10*perMsg })
	produce(10)
	waitFor("B to write its partition", func() bool { return rb.Stats().Flushed == 20*perMsg })

	// The disk is back: A drains (the moved partition by the group's
	// committed offsets), then B stops.
	a.failing.Store(false)
	end, err := ra.EndOffsets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ra.DrainTo(end)
	select {
	case err := <-aDone:
		if err != nil {
			t.Fatalf("A: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("A did not drain")
	}
	stopB()
	if err := <-bDone; err != nil {
		t.Fatalf("B: %v", err)
	}
	n, err := CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lake:\n%v", lake(t, root))
	if n != int64(produced) {
		t.Fatalf("the lake holds %d rows, want the %d produced", n, produced)
	}
}
