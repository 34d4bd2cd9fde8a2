package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

// stopOnProc is a countProc that calls stop when it processes a record
// whose value is "stop": a stop landing inside a transaction, after its
// records were processed.
type stopOnProc struct {
	*countProc
	stop func()
}

func (p stopOnProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	if string(r.Value) == "stop" {
		p.stop()
	}
	return p.countProc.Process(ctx, r, emit)
}

// failedTxnCommit answers a transactional offset commit with the error
// code (kerr), one no retry gets past, for every partition.
func failedTxnCommit(req *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// TestStopAfterFailedCommitForgetsState: with checkpoint_interval set, a
// stop lands in a transaction whose commit then fails on the broker's
// side (its offsets are refused; it is aborted). Before, renew returned at
// once on the stopped context without forgetting the state that
// transaction had changed (and whose changes its own checkpoint had
// taken), so the stop's last checkpoint then committed a marker at the
// committed offset over the changelog's older state: the next instance
// restored 5 records' state as if it stood at offset 10, replayed nothing
// and counted 10 of 15 records; now the state is forgotten, the last
// checkpoint is skipped, and the next instance replays from the older
// marker and counts 15.
func TestStopAfterFailedCommitForgetsState(t *testing.T) {
	cluster := newCluster(t, 1, "in", "in.out", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod := testClient(t, ctx, kc)
	produce := func(values ...string) {
		t.Helper()
		var rs []*kgo.Record
		for _, v := range values {
			rs = append(rs, &kgo.Record{Topic: "in", Value: []byte(v)})
		}
		if err := prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var failing atomic.Bool
	cluster.ControlKey(int16(kmsg.TxnOffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !failing.CompareAndSwap(true, false) {
			return nil, nil, false
		}
		return failedTxnCommit(req.(*kmsg.TxnOffsetCommitRequest), kerr.OffsetMetadataTooLarge.Code), nil, true
	})
	cfg := TransactionConfig{Interval: 50 * time.Millisecond, CheckpointInterval: time.Minute}
	newRunner := func(p Processor) *TransactRunner {
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "dlq"},
			p, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	tr := newRunner(stopOnProc{newCountProc("in.out", cfg), stop})
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	// The first transaction checkpoints (offset 5), the second does not
	// (offset 10: the changelog still says 5 records at offset 5).
	produce("x", "x", "x", "x", "x")
	waitFor(t, "the first transaction", func() bool { return tr.Stats().Transactions == 1 })
	produce("x", "x", "x", "x", "x")
	waitFor(t, "the second transaction", func() bool { return tr.Stats().Transactions == 2 })
	failing.Store(true)
	produce("x", "x", "x", "x", "stop")
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if failing.Load() {
		t.Fatal("the third transaction's offsets were never committed")
	}

	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	proc := newCountProc("in.out", cfg)
	next := newRunner(proc)
	next.DrainTo(end)
	if err := next.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if proc.count[0] != 15 {
		t.Errorf("the next instance counts %d records, want 15", proc.count[0])
	}
}
