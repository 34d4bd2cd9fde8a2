package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// holdProc is a cadenceProc that holds each record's output until Flush,
// noting whether the runner asked it to hold, how many outputs were held
// at a checkpoint (there must be none) and how many were committed.
type holdProc struct {
	cadenceProc
	out                 string
	asked               bool
	held                []*kgo.Record
	atCheckpoint, count int
}

func (p *holdProc) HoldOutputs() { p.asked = true }

func (p *holdProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	p.held = append(p.held, &kgo.Record{Topic: p.out, Value: r.Value})
	return p.cadenceProc.Process(ctx, r, emit)
}

func (p *holdProc) Flush(emit func(*kgo.Record)) error {
	for _, r := range p.held {
		emit(r)
	}
	p.held = p.held[:0]
	return nil
}

func (p *holdProc) Checkpoint(emit func(partition int32, key, value []byte)) {
	p.atCheckpoint += len(p.held)
	p.cadenceProc.Checkpoint(emit)
}

func (p *holdProc) Committed(n int) { p.count += n }

// TestTransactHolder: on a real Kafka, a Processor that holds its outputs
// past Process (pipeline.Holder, as the detect stage does with workers) is
// told to, and flushed before every checkpoint: all 200 outputs are
// committed, in the 4 transactions of max_records 50, and none was still
// held at a checkpoint.
func TestTransactHolder(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 200)
	proc := &holdProc{cadenceProc: cadenceProc{cfg: TransactionConfig{Interval: 4 * time.Second, MaxRecords: 50}, dirty: new(bool)}, out: id + ".out"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "hold", Group: id, Input: id, DeadLetterTopic: id + ".dlq", MaxPoll: 10}, proc, NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); !proc.asked || proc.count != 200 || st.Transactions != 4 || proc.atCheckpoint != 0 {
		t.Errorf("asked to hold %t; %d outputs committed in %d transactions, want 200 in 4; %d held at a checkpoint, want 0",
			proc.asked, proc.count, st.Transactions, proc.atCheckpoint)
	}
}
