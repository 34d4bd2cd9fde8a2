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
	if c.Interval != DefaultTransactionInterval || c.MaxRecords != DefaultTransactionMaxRecords {
		t.Fatalf("defaults: %+v", c)
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
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.c, err, tc.want)
		}
	}
	// The processor's cadence fills what the runner's config leaves zero.
	got := cadence(TransactionConfig{MaxRecords: 7}, cadenceProc{cfg: TransactionConfig{Interval: time.Second, MaxRecords: 9}})
	if got != (TransactionConfig{Interval: time.Second, MaxRecords: 7}) {
		t.Errorf("cadence: %+v", got)
	}
}

// cadenceProc is a Processor with one key of state, changed by every
// record: it checkpoints one changelog record per transaction.
type cadenceProc struct {
	cfg   TransactionConfig
	dirty *bool
}

func (p cadenceProc) Process(context.Context, *kgo.Record, func(*kgo.Record)) error {
	*p.dirty = true
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
