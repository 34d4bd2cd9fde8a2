package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// stallProc is a countProc that takes 400ms for each record and does not
// look at its context (as a processor busy on a large batch does not);
// started is closed as it takes the first.
type stallProc struct {
	*countProc
	once    sync.Once
	started chan struct{}
}

func (p *stallProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	p.once.Do(func() { close(p.started) })
	time.Sleep(400 * time.Millisecond)
	return p.countProc.Process(ctx, r, emit)
}

// TestTransactStopUnderLoadKeepsItsTime: a stop comes as the stage starts
// on a poll of 60 records that take 24s to process. Before, the runner
// went on processing all of them after the stop's time (FinalFlushTimeout)
// ran out, though the transaction could then only be aborted, and Run
// returned after 24s, past StopTimeout; now it stops processing when that
// time runs out, aborts, and returns within StopTimeout, committing
// nothing.
func TestTransactStopUnderLoadKeepsItsTime(t *testing.T) {
	cluster := newCluster(t, 1, "in", "in.out", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod := testClient(t, ctx, kc)
	var recs []*kgo.Record
	for range 60 {
		recs = append(recs, &kgo.Record{Topic: "in", Value: []byte("x")})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var logs lockedLog
	proc := &stallProc{countProc: newCountProc("in.out", TransactionConfig{}), started: make(chan struct{})}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "dlq", TransactionTimeout: time.Minute},
		proc, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	<-proc.started
	stopped := time.Now()
	stop()
	waitRun(t, ran, StopTimeout)
	t.Logf("Run returned %v after the stop", time.Since(stopped).Round(time.Millisecond))
	committed, err := GroupCommitted(ctx, prod, "g")
	if err != nil {
		t.Fatal(err)
	}
	if off := committed["in"][0]; off > 0 {
		t.Errorf("group committed offset %d, want none: the transaction could not commit in the stop's time", off)
	}
	if len(logs.lines("level=WARN", "stopped before the last transaction could commit")) != 1 {
		t.Errorf("log %q: want one warning that the stop aborted the last transaction", logs.lines())
	}
}
