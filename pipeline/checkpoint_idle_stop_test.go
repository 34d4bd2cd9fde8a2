package pipeline

import (
	"context"
	"encoding/binary"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// checkpointMarker reads the last checkpoint marker of changelog (read
// committed) on kfake; -1 when there is none.
func checkpointMarker(t *testing.T, ctx context.Context, brokers []string, changelog string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(changelog),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	marker := int64(-1)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			if string(r.Key) == CheckpointKey {
				marker = int64(binary.BigEndian.Uint64(r.Value))
			}
		})
		cancel()
	}
	return marker
}

// idleAfterUncheckpointed runs a runner with checkpoint_interval 1 min
// over 5 records (its first transaction checkpoints at 5), then 5 more
// (committed without a checkpoint), and returns once they are committed:
// the runner is then idle between transactions.
func idleAfterUncheckpointed(t *testing.T) (ctx context.Context, brokers []string, tr *TransactRunner, stop func(), ran chan error, cfg TransactionConfig, produce func(int)) {
	cluster := newCluster(t, 1, "in", "out")
	brokers = cluster.ListenAddrs()
	kc := kafka.Config{Brokers: brokers}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	produce = func(n int) {
		t.Helper()
		var rs []*kgo.Record
		for range n {
			rs = append(rs, &kgo.Record{Topic: "in", Value: []byte("x")})
		}
		if err := prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cfg = TransactionConfig{Interval: 100 * time.Millisecond, CheckpointInterval: time.Minute}
	proc := &seenProc{countProc: newCountProc("out", cfg)}
	tr, err = NewTransactRunner(ctx, kc, TransactConfig{Name: "idle", Group: "g", Input: "in", DeadLetterTopic: "out"}, proc,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	t.Cleanup(stopRun)
	ran = make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	produce(5)
	waitFor(t, "the first transaction", func() bool { return committedNext(tr) == 5 })
	produce(5)
	waitFor(t, "the second transaction", func() bool { return committedNext(tr) == 10 })
	if m := checkpointMarker(t, ctx, brokers, "g-changelog"); m < 0 || m >= 10 {
		t.Fatalf("set-up: marker %d after the second transaction, want one below 10 (it committed without a checkpoint)", m)
	}
	return ctx, brokers, tr, stopRun, ran, cfg, produce
}

// TestStopBetweenTransactionsCheckpoints: with checkpoint_interval set, a
// stop (SIGTERM) that comes while the stage is idle between transactions
// (caught up: the common case for a stage whose input is quiet), after
// transactions committed without a checkpoint, commits one holding only a
// checkpoint, so the last marker stands at the committed offset and the
// next owner replays nothing, as for a stop inside a transaction. Before,
// Run returned without one, and the next owner replayed the input since
// the older checkpoint.
func TestStopBetweenTransactionsCheckpoints(t *testing.T) {
	ctx, brokers, _, stop, ran, cfg, produce := idleAfterUncheckpointed(t)
	time.Sleep(300 * time.Millisecond) // idle in Run's poll, no transaction open
	stop()
	waitRun(t, ran, FinalFlushTimeout+5*time.Second)
	marker := checkpointMarker(t, ctx, brokers, "g-changelog")
	if marker != 10 {
		t.Errorf("after a stop between transactions the last checkpoint marker is %d, want 10 (the committed offset): the stop wrote no checkpoint", marker)
	}
	// The next owner replays what the stopped one committed since its
	// checkpoint.
	var logs testenv.LogBuffer
	next := newCountProc("out", cfg)
	tr2, err := NewTransactRunner(ctx, kafka.Config{Brokers: brokers}, TransactConfig{Name: "idle", Group: "g", Input: "in", DeadLetterTopic: "out"}, next,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	produce(1)
	end, err := EndOffsets(ctx, tr2.reader, "in")
	if err != nil {
		t.Fatal(err)
	}
	tr2.DrainTo(end)
	if err := tr2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if next.count[0] != 11 {
		t.Errorf("next owner's count %d, want 11", next.count[0])
	}
	if !strings.Contains(logs.String(), "replayed=0") {
		t.Errorf("the next owner replayed input after a stop, want nothing to replay: %s", grepLine(logs.String(), "restored partition state"))
	}
}

// TestDrainWhenCaughtUpCheckpoints: `telekernel run`'s stop drains the
// stages (DrainTo, then Run returns). With checkpoint_interval set, a stage
// already caught up when the drain target is set, after transactions
// committed without a checkpoint, commits one holding only a checkpoint
// before Run returns: the last marker stands at the drain target. Before,
// it returned without one, since no transaction reached the target (it was
// reached by input already committed).
func TestDrainWhenCaughtUpCheckpoints(t *testing.T) {
	ctx, brokers, tr, _, ran, _, _ := idleAfterUncheckpointed(t)
	end, err := EndOffsets(ctx, tr.reader, "in")
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	waitRun(t, ran, 10*time.Second)
	if marker := checkpointMarker(t, ctx, brokers, "g-changelog"); marker != 10 {
		t.Errorf("after a drain the last checkpoint marker is %d, want 10 (the drain target): the drained stage wrote no checkpoint", marker)
	}
}

// committedNext is the next input offset of partition 0 the runner committed.
func committedNext(tr *TransactRunner) int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.done[0]
}

func grepLine(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
