package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

func TestTransactionConfig(t *testing.T) {
	c := TransactionConfig{}.WithDefaults()
	if c.Interval != DefaultTransactionInterval || c.MaxRecords != DefaultTransactionMaxRecords || c.CatchUp != DefaultTransactionCatchUp {
		t.Fatalf("defaults: %+v", c)
	}
	// The catch-up interval defaults to at least the interval.
	if c := (TransactionConfig{Interval: 3 * time.Second}).WithDefaults(); c.CatchUp != 3*time.Second {
		t.Errorf("catch_up with interval 3s: %v, want 3s", c.CatchUp)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    TransactionConfig
		want string
	}{
		{TransactionConfig{Interval: 6 * time.Second, MaxRecords: 1}, "interval: 6s must be within (0, 5s]"},
		{TransactionConfig{Interval: -time.Second, MaxRecords: 1}, "interval: -1s must be within"},
		{TransactionConfig{Interval: time.Second, MaxRecords: -1}, "max_records: -1 must not be negative"},
		{TransactionConfig{Interval: time.Second, CatchUp: 500 * time.Millisecond}, "catch_up: 500ms must be within [interval (1s), 5s]"},
		{TransactionConfig{Interval: time.Second, CatchUp: 6 * time.Second}, "catch_up: 6s must be within"},
		{TransactionConfig{Interval: time.Second, CheckpointInterval: -time.Second}, "checkpoint_interval: -1s must be within [0, 5m0s]"},
		{TransactionConfig{Interval: time.Second, CheckpointInterval: 6 * time.Minute}, "checkpoint_interval: 6m0s must be within"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.c, err, tc.want)
		}
	}
	// The processor's cadence fills what the runner's config leaves zero.
	got := cadence(TransactionConfig{MaxRecords: 7}, cadenceProc{cfg: TransactionConfig{Interval: time.Second, MaxRecords: 9, CatchUp: 2 * time.Second}})
	if got != (TransactionConfig{Interval: time.Second, MaxRecords: 7, CatchUp: 2 * time.Second}) {
		t.Errorf("cadence: %+v", got)
	}
	// A runner's own interval takes its own default catch-up, not the
	// processor's (set against another interval).
	got = cadence(TransactionConfig{Interval: 2 * time.Second}, cadenceProc{cfg: TransactionConfig{Interval: 250 * time.Millisecond, CatchUp: time.Second}})
	if got.CatchUp != 2*time.Second || got.Validate() != nil {
		t.Errorf("cadence with the runner's interval 2s: %+v (%v)", got, got.Validate())
	}
}

// TestCheckpointTimeout: with a checkpoint interval, an explicit
// transaction timeout under twice it plus 10s is refused before any
// connection, naming both.
func TestCheckpointTimeout(t *testing.T) {
	proc := cadenceProc{cfg: TransactionConfig{CheckpointInterval: 10 * time.Second}, dirty: new(bool)}
	_, err := NewTransactRunner(context.Background(), kafka.Config{Brokers: []string{"127.0.0.1:1"}},
		TransactConfig{Name: "s", Group: "g", Input: "in", TransactionTimeout: 20 * time.Second}, proc,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "transaction.checkpoint_interval: 10s needs a transaction timeout of at least twice it plus 10s (30s), not 20s") {
		t.Errorf("err = %v", err)
	}
}

// cadenceProc is a Processor with one key of state, changed by every
// record: it checkpoints one changelog record per transaction. Process
// sleeps pause for each record.
type cadenceProc struct {
	cfg   TransactionConfig
	dirty *bool
	pause time.Duration
}

func (p cadenceProc) Process(context.Context, *kgo.Record, func(*kgo.Record)) error {
	*p.dirty = true
	time.Sleep(p.pause)
	return nil
}

func (p cadenceProc) Checkpoint(emit func(partition int32, key, value []byte)) {
	if *p.dirty {
		*p.dirty = false
		emit(0, []byte("k"), []byte("v"))
	}
}
func (p cadenceProc) Restore(int32, []byte, []byte) error { return nil }
func (p cadenceProc) Drop(int32)                          {}
func (p cadenceProc) Committed(int)                       {}
func (p cadenceProc) Transaction() TransactionConfig      { return p.cfg }

// TestTransactCadence: on a real Kafka, a transaction collects polls until
// it holds max_records records (here 50, in polls of at most 10), so 200
// input records make 4 transactions and 4 changelog records, not one per
// poll; and a drain ends the open transaction at once rather than at the
// end of its (long) interval.
func TestTransactCadence(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 200)
	m := NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	proc := cadenceProc{cfg: TransactionConfig{Interval: 4 * time.Second, MaxRecords: 50}, dirty: new(bool)}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "cadence", Group: id, Input: id, DeadLetterTopic: id + ".dlq", MaxPoll: 10}, proc, m, log)
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	start := time.Now()
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	st := tr.Stats()
	if st.Records != 200 || st.Transactions != 4 {
		t.Errorf("%d records in %d transactions, want 200 in 4 (max_records 50)", st.Records, st.Transactions)
	}
	if n := testutil.ToFloat64(m.changelog.WithLabelValues("cadence")); n != 4 {
		t.Errorf("%v changelog records, want 4: one per transaction", n)
	}
	// The last transaction ends with the drain, not after its 4s interval.
	if took > 4*time.Second {
		t.Errorf("drain took %v, want under the 4s transaction interval", took)
	}
}

// TestMaxRecordsBoundsFirstPoll: transaction.max_records bounds a
// transaction's first poll too, not only the polls that fill it: with 10
// records waiting and max_records 2 (the default max poll is 10,000), no
// transaction holds more than 2, so they are at least 5, where a first
// poll of the whole backlog made one.
func TestMaxRecordsBoundsFirstPoll(t *testing.T) {
	cluster := newCluster(t, 1, "in")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 10 {
		if err := prod.ProduceSync(ctx, samplesRecord(t, "in", 1, 1e18+int64(i)*1e9)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", Transaction: TransactionConfig{MaxRecords: 2}},
		newSeriesProc(), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	if st.Records != 10 || st.Transactions < 5 {
		t.Errorf("%d records in %d transactions, want 10 in at least 5 (max_records 2)", st.Records, st.Transactions)
	}
}

// TestTransactCatchUp: on a real Kafka, a stage that starts behind its
// input (200 records waiting, polled 10 at a time, each taking 1ms)
// collects for the catch-up interval rather than its 1ms interval, so the
// backlog is one transaction (ended by the drain) with one changelog
// record, where without catching up (catch_up equal to the interval) it
// takes a transaction, and a changelog record, per poll; a stage that is
// not behind does not catch up.
func TestTransactCatchUp(t *testing.T) {
	run := func(n int, catchUp time.Duration) (Stats, float64, float64) {
		ctx, kc, id, end := transactInput(t, n)
		m := NewMetrics(prometheus.NewRegistry())
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		proc := cadenceProc{cfg: TransactionConfig{Interval: time.Millisecond, MaxRecords: 1000, CatchUp: catchUp}, dirty: new(bool), pause: time.Millisecond}
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "catchup", Group: id, Input: id, DeadLetterTopic: id + ".dlq", MaxPoll: 10}, proc, m, log)
		if err != nil {
			t.Fatal(err)
		}
		tr.DrainTo(end)
		if err := tr.Run(ctx); err != nil {
			t.Fatal(err)
		}
		return tr.Stats(), testutil.ToFloat64(m.changelog.WithLabelValues("catchup")), testutil.ToFloat64(m.catchUp.WithLabelValues("catchup"))
	}
	st, changelog, caught := run(200, 4*time.Second)
	if st.Records != 200 || st.Transactions != 1 || changelog != 1 || caught != 1 {
		t.Errorf("catching up: %d records in %d transactions (%v catching up), %v changelog records; want 200 in 1 (1), 1",
			st.Records, st.Transactions, caught, changelog)
	}
	st, changelog, caught = run(200, time.Millisecond)
	if st.Records != 200 || st.Transactions != 20 || changelog != 20 {
		t.Errorf("not catching up: %d records in %d transactions, %v changelog records; want 200 in 20, one record each",
			st.Records, st.Transactions, changelog)
	}
	if caught != 0 {
		t.Errorf("not catching up: %v transactions counted as catching up, want 0", caught)
	}
	// Caught up: 5 records, all in the first poll, leave nothing waiting.
	st, _, caught = run(5, 4*time.Second)
	if st.Records != 5 || caught != 0 {
		t.Errorf("caught up: %d records, %v transactions catching up; want 5, 0", st.Records, caught)
	}
}

// transactInput writes n one-byte records to a new topic of one partition
// on the test broker, makes TOPIC.out beside it for outputs (both deleted
// with the changelog at the end) and returns a context of a minute, the
// broker's config, the topic and its end offsets.
func transactInput(t *testing.T, n int) (context.Context, kafka.Config, string, map[string]map[int32]int64) {
	t.Helper()
	broker := testenv.Service(t, "TK_KAFKA")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "test-cadence-" + hex.EncodeToString(b)
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: id, Partitions: 1}, kafka.TopicSpec{Name: id + ".out", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), id, id+"-changelog", id+".out") })
	var recs []*kgo.Record
	for range n {
		recs = append(recs, &kgo.Record{Topic: id, Value: []byte("x")})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, cl, id)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, kc, id, end
}

// TestBehind: a poll is behind when more records wait on its partitions,
// up to their last stable offsets, than it returned.
func TestBehind(t *testing.T) {
	recs := func(from, n int64) []*kgo.Record {
		var rs []*kgo.Record
		for o := from; o < from+n; o++ {
			rs = append(rs, &kgo.Record{Offset: o})
		}
		return rs
	}
	poll := func(ps ...kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "in", Partitions: ps}}}}
	}
	for _, tc := range []struct {
		name  string
		fetch kgo.Fetches
		want  bool
	}{
		{"caught up", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: 10, Records: recs(0, 10)}), false},
		{"as many waiting as returned", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: 20, Records: recs(0, 10)}), false},
		{"more waiting", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: 21, Records: recs(0, 10)}), true},
		{"unknown last stable offset", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: -1, Records: recs(0, 10)}), false},
		{"no records", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: 100}), false},
		{"one of two partitions far behind", poll(
			kgo.FetchPartition{Partition: 0, LastStableOffset: 5, Records: recs(0, 5)},
			kgo.FetchPartition{Partition: 1, LastStableOffset: 100, Records: recs(80, 5)}), true},
		{"the rest of a split fetch", poll(kgo.FetchPartition{Partition: 0, LastStableOffset: 30, Records: recs(10, 5)}), true},
	} {
		if got := behind(tc.fetch); got != tc.want {
			t.Errorf("%s: behind = %v, want %v", tc.name, got, tc.want)
		}
	}
}
