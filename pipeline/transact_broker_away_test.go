package pipeline

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

// TestTransactBrokerAwayMidTransaction: the transaction coordinator
// stops answering (COORDINATOR_NOT_AVAILABLE to AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit and EndTxn: a broker restarting, the
// coordinator moving) for 4s, twice the transaction timeout, while a
// stage has transactions open on a steady input. When it is back the
// stage goes on, and a read_committed reader of its outputs sees the
// running count 1, 2, … once each: nothing duplicated, nothing lost.
func TestTransactBrokerAwayMidTransaction(t *testing.T) {
	cluster := newCluster(t, 1, "in", "in.out", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod := testClient(t, ctx, kc)
	produce := func(n int) {
		t.Helper()
		for range n {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	produce(50)
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "dlq", TransactionTimeout: 2 * time.Second},
		newCountProc("in.out", TransactionConfig{Interval: 100 * time.Millisecond}), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	waitFor(t, "a first commit", func() bool { return tr.Stats().Transactions > 0 })
	away := cluster.Fault(kfake.Fault{
		Keys:  []kmsg.Key{kmsg.TxnOffsetCommit, kmsg.EndTxn, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn},
		Err:   kerr.CoordinatorNotAvailable,
		Count: -1,
	})
	go func() { time.Sleep(4 * time.Second); away.Remove() }()
	produce(150) // 1.5s and more into the outage, then after it
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("the stage did not drain after the broker came back: %+v", tr.Stats())
	}
	var outs []string
	if err := kafka.ReadAll(ctx, kc, "in.out", func(r *kgo.Record) { outs = append(outs, string(r.Value)) }); err != nil {
		t.Fatal(err)
	}
	for i, v := range outs {
		if v != strconv.Itoa(i+1) {
			t.Fatalf("output %d is %q, want %d: an output duplicated or lost (%d outputs, %+v)", i, v, i+1, len(outs), tr.Stats())
		}
	}
	if len(outs) != 200 {
		t.Errorf("%d outputs, want 200 (%+v)", len(outs), tr.Stats())
	}
	if away.Hits() == 0 {
		t.Error("no request met the outage")
	}
	t.Logf("%d requests refused during the outage; %+v", away.Hits(), tr.Stats())
}
