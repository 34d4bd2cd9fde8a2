package pipeline

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// caughtUpGroup puts 5 records on each of the 2 partitions of topic "in"
// of an in-process broker and commits them all for group "g", as a stage
// that processed everything before a restart leaves them.
func caughtUpGroup(t *testing.T, ctx context.Context) kafka.Config {
	t.Helper()
	cluster := newCluster(t, 2, "in", "in.out", "dlq")
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range int32(2) {
		for range 5 {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cl, err := kafka.Connect(ctx, kc, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for n := 0; n < 10; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("the 10 records did not arrive")
		}
		n += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	return kc
}

// sampledLag waits for the first sample of the lag gauge of stage s in m
// (the runners sample every lagInterval) and returns it.
func sampledLag(t *testing.T, m *Metrics, s string) float64 {
	t.Helper()
	deadline := time.Now().Add(3 * lagInterval)
	for testutil.CollectAndCount(m.lag) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no lag sampled within %v", 3*lagInterval)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return testutil.ToFloat64(m.lag.WithLabelValues(s))
}

// TestLagOfCaughtUpPartitions: a stage restarted on a group that committed
// all of its input has no lag. Before, a partition owned but with nothing
// new to process counted from offset 0 (nothing processed by this
// member), so both runners reported the whole input as lag (10 records)
// for as long as no new record came to it; now a partition is counted
// from what the member processed or, before that, from what the group
// committed.
func TestLagOfCaughtUpPartitions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := caughtUpGroup(t, ctx)
	t.Run("transact", func(t *testing.T) {
		m := NewMetrics(prometheus.NewRegistry())
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "dlq"},
			newCountProc("in.out", TransactionConfig{}), m, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- tr.Run(runCtx) }()
		lag := sampledLag(t, m, "s")
		tr.mu.Lock()
		owns := len(tr.owned.parts["in"])
		tr.mu.Unlock()
		stop()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		if lag != 0 || owns != 2 {
			t.Errorf("lag %v of a caught-up stage owning %d partitions, want 0 owning 2", lag, owns)
		}
	})
	t.Run("runner", func(t *testing.T) {
		m := NewMetrics(prometheus.NewRegistry())
		r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq"},
			&countSink{}, m, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- r.Run(runCtx) }()
		lag := sampledLag(t, m, "s")
		r.mu.Lock()
		owns := len(r.owned.parts["in"])
		r.mu.Unlock()
		stop()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		if lag != 0 || owns != 2 {
			t.Errorf("lag %v of a caught-up stage owning %d partitions, want 0 owning 2", lag, owns)
		}
	})
}
