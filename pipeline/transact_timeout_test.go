package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// pacedProc is a countProc that takes each record for 20ms: a stage whose
// one poll of a backlog takes longer to process than its transaction
// timeout.
type pacedProc struct{ *countProc }

func (p pacedProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	time.Sleep(20 * time.Millisecond)
	return p.countProc.Process(ctx, r, emit)
}

// TestTransactOutlivingTimeoutShrinks: a backlog of 100 records, polled at
// once, takes 2s to process, twice the transaction timeout. Before, the
// broker aborted every try and the runner took the same 100 records again
// each time: the stage never committed, whatever the backoff (on kfake,
// whose answer to it is PRODUCER_FENCED, it even stopped at the third,
// saying two instances shared its transactional id), and the failed
// transactions were not counted as aborts. Now a transaction that outlived
// the timeout bounds the records of the next ones to what it processed in
// half the timeout, which commit; the stage says so in one line, and
// counts the abort.
func TestTransactOutlivingTimeoutShrinks(t *testing.T) {
	cluster := newCluster(t, 1, "in", "in.out", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod := testClient(t, ctx, kc)
	var recs []*kgo.Record
	for range 100 {
		recs = append(recs, &kgo.Record{Topic: "in", Value: []byte("x")})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedLog
	proc := pacedProc{newCountProc("in.out", TransactionConfig{Interval: 100 * time.Millisecond, CatchUp: 100 * time.Millisecond})}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "dlq", TransactionTimeout: time.Second},
		proc, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	runCtx, stop := context.WithTimeout(ctx, 25*time.Second)
	defer stop()
	if err := tr.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	if runCtx.Err() != nil || proc.count[0] != 100 {
		t.Fatalf("stopped by the test's deadline, not the drain: count %d, %d transactions, %d aborts", proc.count[0], st.Transactions, st.Aborts)
	}
	var outs []*kgo.Record
	if err := kafka.ReadAll(ctx, kc, "in.out", func(r *kgo.Record) { outs = append(outs, r) }); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 100 || !bytes.Equal(outs[99].Value, []byte("100")) {
		t.Errorf("%d outputs, want 100 counting 1 to 100", len(outs))
	}
	if st.Aborts == 0 {
		t.Error("no transaction counted aborted: the one the broker aborted for its timeout, retried, must count")
	}
	if lines := logs.lines("outlived the transaction timeout"); len(lines) == 0 || !strings.Contains(strings.Join(lines, ""), "max_records") {
		t.Errorf("no line saying the transactions were made smaller:\n%s", logs.buf.String())
	}
}
