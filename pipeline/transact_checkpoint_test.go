package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// countProc counts the records of each partition, its state, and emits
// the running count for each record to out.
type countProc struct {
	out   string
	cfg   TransactionConfig
	count map[int32]int
	dirty map[int32]bool
}

func newCountProc(out string, cfg TransactionConfig) *countProc {
	return &countProc{out: out, cfg: cfg, count: map[int32]int{}, dirty: map[int32]bool{}}
}

func (p *countProc) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	p.count[r.Partition]++
	p.dirty[r.Partition] = true
	out := &kgo.Record{Topic: p.out, Value: []byte(strconv.Itoa(p.count[r.Partition]))}
	emit(out)
	return nil
}

func (p *countProc) Checkpoint(emit func(int32, []byte, []byte)) {
	for part := range p.dirty {
		emit(part, []byte("n"), []byte(strconv.Itoa(p.count[part])))
	}
	clear(p.dirty)
}

func (p *countProc) Restore(part int32, _, value []byte) error {
	n, err := strconv.Atoi(string(value))
	p.count[part] = n
	return err
}

func (p *countProc) Drop(part int32)                { delete(p.count, part); delete(p.dirty, part) }
func (p *countProc) Committed(int)                  {}
func (p *countProc) Transaction() TransactionConfig { return p.cfg }

// TestTransactCheckpointInterval: on a real Kafka, with checkpoint_interval
// set, transactions between checkpoints commit outputs and offsets only;
// a new instance restores the last checkpoint and replays the input from
// it to the committed offset with the outputs discarded, so its state is
// exactly that of one run over all the input and every output is written
// once. Input that retention deleted since the checkpoint cannot be
// replayed: the restore says so and replays what is left.
func TestTransactCheckpointInterval(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 100)
	cfg := TransactionConfig{Interval: 4 * time.Second, MaxRecords: 10, CheckpointInterval: time.Minute}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	run := func(end map[string]map[int32]int64) (*countProc, *Metrics, Stats) {
		m := NewMetrics(prometheus.NewRegistry())
		proc := newCountProc(id+".out", cfg)
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "ckpt", Group: id, Input: id, DeadLetterTopic: id + ".dlq", MaxPoll: 10}, proc, m, log)
		if err != nil {
			t.Fatal(err)
		}
		tr.DrainTo(end)
		if err := tr.Run(ctx); err != nil {
			t.Fatal(err)
		}
		return proc, m, tr.Stats()
	}
	// 100 records in 10 transactions: the first checkpoints (none yet) and
	// so does the last (it reaches the drain); the 8 between do not.
	proc, m, st := run(end)
	if st.Transactions != 10 || proc.count[0] != 100 {
		t.Fatalf("first run: %d transactions, count %d; want 10, 100", st.Transactions, proc.count[0])
	}
	if n := testutil.ToFloat64(m.changelog.WithLabelValues("ckpt")); n != 2 {
		t.Errorf("first run wrote %v changelog records, want 2: the first and last transactions' checkpoints", n)
	}
	marker := lastMarker(t, ctx, kc, id+"-changelog")
	if !bytes.Equal(marker, []byte{0, 0, 0, 0, 0, 0, 0, 100}) {
		t.Errorf("last checkpoint marker %v, want offset 100", marker)
	}

	// The last checkpoint stands at 100. Rewrite it as if the instance had
	// died after its 3rd transaction: the changelog says 30 at offset 30.
	cl := testClient(t, ctx, kc)
	// rewind writes n more input records and a checkpoint of count 30 at
	// offset 30, and returns the input's end offsets.
	rewind := func(n int) map[string]map[int32]int64 {
		var more []*kgo.Record
		for range n {
			more = append(more, &kgo.Record{Topic: id, Value: []byte("x")})
		}
		if err := cl.ProduceSync(ctx, more...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx,
			&kgo.Record{Topic: id + "-changelog", Key: []byte("n"), Value: []byte("30")},
			&kgo.Record{Topic: id + "-changelog", Key: []byte(CheckpointKey), Value: []byte{0, 0, 0, 0, 0, 0, 0, 30}},
		).FirstErr(); err != nil {
			t.Fatal(err)
		}
		end, err := EndOffsets(ctx, cl, id)
		if err != nil {
			t.Fatal(err)
		}
		return end
	}
	end2 := rewind(50)
	// The second instance restores 30, replays offsets 30–99 (committed
	// before) without outputs, and processes the 50 new records.
	proc, _, st = run(end2)
	if proc.count[0] != 150 || st.Records != 50 || st.Flushed != 50 {
		t.Errorf("second run: count %d, %d records processed, %d outputs; want 150, 50, 50", proc.count[0], st.Records, st.Flushed)
	}
	var outs []*kgo.Record
	if err := kafka.ReadAll(ctx, kc, id+".out", func(r *kgo.Record) { outs = append(outs, r) }); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 150 || string(outs[149].Value) != "150" || string(outs[100].Value) != "101" {
		t.Errorf("outputs: %d, want 150 counting 1 to 150", len(outs))
	}

	// Retention deleted the input below 60: a third instance restores 30,
	// says what it cannot replay, replays 60–149 and processes 10 more.
	end3 := rewind(10)
	below := kadm.Offsets{}
	below.Add(kadm.Offset{Topic: id, Partition: 0, At: 60})
	if _, err := kadm.NewClient(cl).DeleteRecords(ctx, below); err != nil {
		t.Fatal(err)
	}
	proc, _, _ = run(end3)
	if proc.count[0] != 130 {
		t.Errorf("after retention: count %d, want 130 (30 + 90 replayed + 10)", proc.count[0])
	}
	if !strings.Contains(logs.String(), "partly deleted by retention") || !strings.Contains(logs.String(), "first_retained=60") {
		t.Errorf("no log line about the deleted input:\n%s", logs.String())
	}
}

// TestMarkerOffsets: markers go to partitions whose state is in memory,
// at this transaction's offset or else the last committed one; with every
// transaction checkpointing, only to partitions that had one.
func TestMarkerOffsets(t *testing.T) {
	done := map[int32]int64{0: 50, 1: 80, 2: 30}
	next := map[int32]int64{0: 60}
	restored := map[int32]bool{0: true, 2: true} // 1 dropped after an abort
	marked := map[int32]bool{2: true}
	if got, want := markerOffsets(done, next, restored, marked, true), map[int32]int64{0: 60, 2: 30}; !maps.Equal(got, want) {
		t.Errorf("with an interval: %v, want %v (not 1: its state was dropped)", got, want)
	}
	if got, want := markerOffsets(done, next, restored, marked, false), map[int32]int64{2: 30}; !maps.Equal(got, want) {
		t.Errorf("every transaction: %v, want %v (only the partition that had a marker)", got, want)
	}
}

// TestCheckpointDue: with an interval, a transaction checkpoints when
// none was committed for that long, when it read a partition with no
// marker in the changelog, or when the stage is stopping.
func TestCheckpointDue(t *testing.T) {
	tr := &TransactRunner{cfg: TransactConfig{Transaction: TransactionConfig{CheckpointInterval: time.Minute}},
		checkpointed: time.Now(), marked: map[int32]bool{0: true}}
	ctx := context.Background()
	if tr.checkpointDue(ctx, ctx, &txnState{next: map[int32]int64{0: 5}}) {
		t.Error("due right after a checkpoint, reading a marked partition")
	}
	if !tr.checkpointDue(ctx, ctx, &txnState{next: map[int32]int64{0: 5, 1: 3}}) {
		t.Error("not due reading partition 1, which has no marker")
	}
	stopped, stop := context.WithCancel(ctx)
	stop()
	if !tr.checkpointDue(stopped, ctx, &txnState{next: map[int32]int64{0: 5}}) {
		t.Error("not due in the last transaction before a stop")
	}
	tr.checkpointed = time.Now().Add(-time.Minute)
	if !tr.checkpointDue(ctx, ctx, &txnState{next: map[int32]int64{0: 5}}) {
		t.Error("not due a minute after the last checkpoint")
	}
	tr.cfg.Transaction.CheckpointInterval = 0
	tr.checkpointed = time.Now()
	if !tr.checkpointDue(ctx, ctx, &txnState{next: map[int32]int64{0: 5}}) {
		t.Error("not due without an interval")
	}
}

// badProc is a countProc that takes a record whose value is longer than
// 1 KB for malformed (a dead letter), without counting it.
type badProc struct{ *countProc }

func (p badProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	if len(r.Value) > 1<<10 {
		return fmt.Errorf("%w: a %d-byte value", schemas.ErrMalformed, len(r.Value))
	}
	return p.countProc.Process(ctx, r, emit)
}

// TestCheckpointAfterAbort: on a real Kafka, with checkpoint_interval set,
// transactions that abort (a dead letter too large for its topic, cut
// smaller on each try) drop the partition's state; each retry restores
// the last checkpoint and replays the input since it, so the count, the
// outputs (one per good record, counting 1 to 49, each once) and the last
// marker are exactly those of a run without aborts. Before, the retry's
// abort was also logged as one a rebalance made; now only its cause is.
func TestCheckpointAfterAbort(t *testing.T) {
	ctx, kc, id, _ := transactInput(t, 30)
	cl := testClient(t, ctx, kc)
	limit := "20000"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"max.message.bytes": &limit}, id+".dlq"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), id+".dlq") })
	bad := make([]byte, 100<<10) // incompressible: the topic's limit is on compressed batches
	_, _ = rand.Read(bad)
	more := []*kgo.Record{{Topic: id, Value: bad}}
	for range 19 {
		more = append(more, &kgo.Record{Topic: id, Value: []byte("x")})
	}
	if err := cl.ProduceSync(ctx, more...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, cl, id)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	proc := badProc{newCountProc(id+".out", TransactionConfig{Interval: 4 * time.Second, MaxRecords: 10, CheckpointInterval: time.Minute})}
	m := NewMetrics(prometheus.NewRegistry())
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "abort", Group: id, Input: id, DeadLetterTopic: id + ".dlq", MaxPoll: 10},
		proc, m, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	if st.Aborts == 0 || proc.count[0] != 49 || st.Flushed != 49 || st.DeadLetters != 1 {
		t.Errorf("%d aborts, count %d, %d outputs, %d dead letters; want some aborts, 49, 49, 1", st.Aborts, proc.count[0], st.Flushed, st.DeadLetters)
	}
	if n := testutil.ToFloat64(m.aborts.WithLabelValues("abort")); n != float64(st.Aborts) {
		t.Errorf("telekernel_stage_transaction_aborts_total is %v, Stats says %d aborts", n, st.Aborts)
	}
	if strings.Contains(logs.String(), "aborted by a rebalance") {
		t.Errorf("an abort to retry with smaller dead letters was logged as a rebalance's:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "replayed=20") {
		t.Errorf("no restore replayed offsets 10–29 after an abort:\n%s", logs.String())
	}
	var outs []string
	if err := kafka.ReadAll(ctx, kc, id+".out", func(r *kgo.Record) { outs = append(outs, string(r.Value)) }); err != nil {
		t.Fatal(err)
	}
	marker := lastMarker(t, ctx, kc, id+"-changelog")
	for i, v := range outs {
		if v != strconv.Itoa(i+1) {
			t.Fatalf("output %d is %q, want %d (outputs %v)", i, v, i+1, outs)
		}
	}
	if len(outs) != 49 || !bytes.Equal(marker, []byte{0, 0, 0, 0, 0, 0, 0, 50}) {
		t.Errorf("%d outputs, marker %v; want 49, offset 50", len(outs), marker)
	}
}
