package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// seenProc is a countProc that publishes how many records it processed,
// for a test to act on from another goroutine.
type seenProc struct {
	*countProc
	seen atomic.Int64
}

func (p *seenProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	err := p.countProc.Process(ctx, r, emit)
	p.seen.Add(1)
	return err
}

// TestTransactStopCommits: on a real Kafka, a stop (the context ending)
// inside an open transaction commits what it processed, with a checkpoint,
// instead of aborting it: the group's offset, the outputs and the
// changelog's marker all stand at the last record, and the next instance
// has nothing to process again and nothing to replay. The transaction
// interval is 5s, the most allowed: the stop comes within milliseconds of
// the second transaction's last record, well inside it.
func TestTransactStopCommits(t *testing.T) {
	ctx, kc, id, _ := transactInput(t, 100)
	cfg := TransactionConfig{Interval: 5 * time.Second, MaxRecords: 100, CheckpointInterval: time.Minute}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	newRunner := func(proc Processor) *TransactRunner {
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "stop", Group: id, Input: id, DeadLetterTopic: id + ".dlq"}, proc, NewMetrics(prometheus.NewRegistry()), log)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	cl := testClient(t, ctx, kc)

	// The first transaction ends at MaxRecords (100, a checkpoint: the
	// first); the second collects 50 more and is open when the stop comes.
	proc := &seenProc{countProc: newCountProc(id+".out", cfg)}
	tr := newRunner(proc)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	waitSeen(t, &proc.seen, 100)
	var more []*kgo.Record
	for range 50 {
		more = append(more, &kgo.Record{Topic: id, Value: []byte("y")})
	}
	if err := cl.ProduceSync(ctx, more...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitSeen(t, &proc.seen, 150)
	stopped := time.Now()
	stop()
	waitRun(t, ran, FinalFlushTimeout+5*time.Second)
	t.Logf("stopped in %v", time.Since(stopped).Round(time.Millisecond))
	if st := tr.Stats(); st.Transactions != 2 || st.Flushed != 150 {
		t.Errorf("%d transactions committed with %d outputs, want 2 with 150: the stop must commit the open one", st.Transactions, st.Flushed)
	}

	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(id, 0); !ok || o.At != 150 {
		t.Errorf("group committed offset %d, want 150", o.At)
	}
	var outs int
	if err := kafka.ReadAll(ctx, kc, id+".out", func(*kgo.Record) { outs++ }); err != nil {
		t.Fatal(err)
	}
	marker := lastMarker(t, ctx, kc, id+"-changelog")
	if outs != 150 {
		t.Errorf("%d outputs visible to read_committed readers, want 150", outs)
	}
	if !bytes.Equal(marker, []byte{0, 0, 0, 0, 0, 0, 0, 150}) {
		t.Errorf("checkpoint marker %v, want offset 150: the stop's transaction must checkpoint", marker)
	}

	// The next instance restores 150 and replays nothing.
	logs.Reset()
	next := newCountProc(id+".out", cfg)
	tr = newRunner(next)
	more = more[:1]
	if err := cl.ProduceSync(ctx, more...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, cl, id)
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if next.count[0] != 151 || tr.Stats().Records != 1 {
		t.Errorf("next instance: count %d after %d records, want 151 after 1", next.count[0], tr.Stats().Records)
	}
	if !strings.Contains(logs.String(), "replayed=0") {
		t.Errorf("the next instance replayed input:\n%s", logs.String())
	}
}

// waitSeen waits until the processor has seen n records.
func waitSeen(t *testing.T, seen *atomic.Int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for seen.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the processor saw %d records in 30s, want %d", seen.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTransactTimeoutAboveBrokerMax: on a real Kafka (its
// transaction.max.timeout.ms is the default 15 min), a transaction timeout
// above the broker's maximum stops the stage with one line naming both
// settings, rather than retrying forever.
func TestTransactTimeoutAboveBrokerMax(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 10)
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "timeout", Group: id, Input: id, DeadLetterTopic: id + ".dlq", TransactionTimeout: 16 * time.Minute},
		newCountProc(id+".out", TransactionConfig{}), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = tr.Run(runCtx)
	t.Logf("Run: %v", err)
	if err == nil || !strings.Contains(err.Error(), "transaction.max.timeout.ms") {
		t.Fatalf("Run returned %v, want an error naming the broker's transaction.max.timeout.ms", err)
	}
}

// TestRestoreStateAhead: on a real Kafka, a changelog whose checkpoint
// marker stands past the first record polled (the group's offsets moved
// back by hand) is restored as it is, with one line saying the records
// between are processed again.
func TestRestoreStateAhead(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 10)
	cl := testClient(t, ctx, kc)
	var logs bytes.Buffer
	proc := newCountProc(id+".out", TransactionConfig{})
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "ahead", Group: id, Input: id, DeadLetterTopic: id + ".dlq"},
		proc, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The runner made the changelog topic.
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: id + "-changelog", Key: []byte("n"), Value: []byte("30")},
		&kgo.Record{Topic: id + "-changelog", Key: []byte(CheckpointKey), Value: []byte{0, 0, 0, 0, 0, 0, 0, 30}},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if proc.count[0] != 40 {
		t.Errorf("count %d, want 40 (the state's 30, then the 10 records)", proc.count[0])
	}
	if !strings.Contains(logs.String(), "state_at=30 first_polled=0") {
		t.Errorf("no line about the state standing past the input:\n%s", logs.String())
	}
}

// slowProc is a countProc whose record "slow" takes longer than a stop
// leaves for the commit; started is closed when it begins.
type slowProc struct {
	*countProc
	started chan struct{}
}

func (p *slowProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	if string(r.Value) == "slow" {
		close(p.started)
		time.Sleep(FinalFlushTimeout + time.Second)
	}
	return p.countProc.Process(ctx, r, emit)
}

// TestTransactStopAbortsWhatCannotCommit: on a real Kafka, a transaction
// that cannot commit within FinalFlushTimeout of a stop is aborted, not
// left open (which would hold up every read_committed reader of its
// topics until the broker's transaction timeout), and nothing of it is
// committed. It takes FinalFlushTimeout.
func TestTransactStopAbortsWhatCannotCommit(t *testing.T) {
	ctx, kc, id, _ := transactInput(t, 5)
	cl := testClient(t, ctx, kc)
	var logs lockedLog
	proc := &slowProc{countProc: newCountProc(id+".out", TransactionConfig{Interval: 5 * time.Second}), started: make(chan struct{})}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "slow", Group: id, Input: id, DeadLetterTopic: id + ".dlq"}, proc, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: id, Value: []byte("slow")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	<-proc.started
	stopped := time.Now()
	stop()
	waitRun(t, ran, StopTimeout+5*time.Second)
	t.Logf("Run returned %v after the stop", time.Since(stopped).Round(time.Millisecond))
	adm := kadm.NewClient(cl)
	// The abort's markers reach the partition after EndTxn returns (the
	// coordinator writes them): a few seconds, far less than the
	// transaction timeout (2 × 5 s + 10 s from the transaction's start)
	// after which the broker would abort a transaction left open.
	var s, e kadm.ListedOffset
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		stable, err := adm.ListCommittedOffsets(ctx, id+".out")
		if err != nil {
			t.Fatal(err)
		}
		ends, err := adm.ListEndOffsets(ctx, id+".out")
		if err != nil {
			t.Fatal(err)
		}
		s, _ = stable.Lookup(id+".out", 0)
		e, _ = ends.Lookup(id+".out", 0)
		if s.Offset == e.Offset && e.Offset != 0 || time.Now().After(deadline) {
			break
		}
	}
	if s.Offset != e.Offset || e.Offset == 0 {
		t.Errorf("output topic: last stable offset %d, end %d: the transaction was left open (want both equal, past the aborted outputs)", s.Offset, e.Offset)
	}
	offs, err := adm.FetchOffsets(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(id, 0); ok && o.At > 5 {
		t.Errorf("group committed offset %d, want at most 5: the transaction with the slow record could not commit", o.At)
	}
	if len(logs.lines("level=WARN", "stopped before the last transaction could commit", "records=")) != 1 {
		t.Errorf("log %q: want one warning that the stop aborted the last transaction", logs.lines())
	}
}

// testClient connects to kc for the rest of the test.
func testClient(t *testing.T, ctx context.Context, kc kafka.Config) *kgo.Client {
	t.Helper()
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// lastMarker returns the value of the last checkpoint marker in changelog
// (nil: none).
func lastMarker(t *testing.T, ctx context.Context, kc kafka.Config, changelog string) []byte {
	t.Helper()
	var marker []byte
	if err := kafka.ReadAll(ctx, kc, changelog, func(r *kgo.Record) {
		if string(r.Key) == CheckpointKey {
			marker = r.Value
		}
	}); err != nil {
		t.Fatal(err)
	}
	return marker
}

// waitRun waits for Run's error on ran, failing the test if Run fails or
// does not return within bound.
func waitRun(t *testing.T, ran <-chan error, bound time.Duration) {
	t.Helper()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(bound):
		t.Fatalf("Run did not return within %v of the stop", bound)
	}
}
