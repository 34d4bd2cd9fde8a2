package pipeline

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// TestStopDuringRestoreInTransactionSaysSo: a stop whose final flush
// time runs out while the open transaction restores a partition first
// polled in it (its changelog held up by a killed owner's open
// transaction: "a new owner's restore may wait that long") aborts that
// transaction, as Run's doc says, and says so, as the two other ways a
// stop's time runs out do ("stopped before the last transaction could
// commit: aborted; its input is read again from the last commit"). Before,
// the restore's error went to renew, which returns nil on a stopped context
// without a word, so an operator was left to guess why the processed input
// was done again.
func TestStopDuringRestoreInTransactionSaysSo(t *testing.T) {
	cluster := newCluster(t, 2, "in", "out")
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var logs lockedLog
	proc := &seenProc{countProc: newCountProc("out", TransactionConfig{Interval: 5 * time.Second})}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "stoprestore", Group: "g", Input: "in", DeadLetterTopic: "out"}, proc,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// A killed owner's transaction, open on changelog partition 1.
	zombie, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.TransactionalID("zombie"), kgo.TransactionTimeout(time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := zombie.ProduceSync(ctx, &kgo.Record{Topic: "g-changelog", Partition: 1, Key: []byte("n"), Value: []byte("7")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	// A transaction opens on partition 0 (5 s interval) ...
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: 0, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitSeen(t, &proc.seen, 1)
	// ... and polls partition 1's first record: its restore waits for the
	// zombie's transaction.
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: 1, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if proc.seen.Load() != 1 {
		t.Fatalf("set-up: partition 1's record was processed (seen %d): its restore did not wait", proc.seen.Load())
	}
	stopped := time.Now()
	stop()
	waitRun(t, ran, StopTimeout+5*time.Second)
	t.Logf("Run returned %v after the stop", time.Since(stopped).Round(time.Millisecond))
	if n := tr.Stats().Transactions; n != 0 {
		t.Fatalf("set-up: %d transactions committed, want 0 (the restore outlasted the stop's time)", n)
	}
	if len(logs.lines("level=WARN", "stopped before the last transaction could commit")) != 1 {
		t.Errorf("the stop aborted the open transaction (1 record processed, read again by the next owner) without a word; log:\n%s", logs.lines())
	}
}
