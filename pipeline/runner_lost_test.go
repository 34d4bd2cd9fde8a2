package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// partSink counts the sample rows it is given and writes per partition,
// forgets a partition's pending rows when told to (PartitionDropper), and
// fails its flushes until up is closed.
type partSink struct {
	mu      sync.Mutex
	up      chan struct{}
	rows    int
	pending map[int32]int
	written map[int32]int
	flushes int // successful flushes that wrote rows
	tries   int // flushes that failed
}

var _ PartitionDropper = (*partSink)(nil)

func newPartSink(up chan struct{}) *partSink {
	return &partSink{up: up, pending: map[int32]int{}, written: map[int32]int{}}
}

func (s *partSink) Add(ctx context.Context, r *kgo.Record) error {
	var c countSink
	if err := c.Add(ctx, r); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows += c.rows
	s.pending[r.Partition] += c.rows
	return nil
}

func (s *partSink) Flush(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.up:
	default:
		s.tries++
		return 0, errors.New("sink down")
	}
	n := 0
	for p, k := range s.pending {
		s.written[p] += k
		n += k
	}
	clear(s.pending)
	if n > 0 {
		s.flushes++
	}
	return n, nil
}

func (s *partSink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.pending {
		n += k
	}
	return n
}

func (s *partSink) DropPartition(_ string, p int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, p)
}

// seen returns the rows the sink was given.
func (s *partSink) seen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// wrote returns the rows written per partition.
func (s *partSink) wrote() map[int32]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.written)
}

// TestSinkRetryPastRebalance: a member whose sink is down for longer
// than the group's rebalance timeout loses its partitions to a member that
// joined (the rebalance waits for it that long, then goes on without it);
// the new owner reads them from the last committed offset, writes and
// commits on. When its sink is up again, the old member must write none
// of the rows it held of those partitions: none of their offsets were
// committed, so the new owner wrote them already, and a late write after
// the new owner's (a Parquet file) could replace its files. It did write
// them, 3 rows of each partition, and learnt it had lost the partitions
// only from the commit that followed. Nor may it write (and commit, as the
// member it rejoins as) the records of those partitions the client had
// fetched meanwhile, nor may the group's offsets go back. Rows written are
// counted per partition per owner. On a real Kafka with TK_KAFKA set, else
// on kfake (which behaves alike); it waits out the rebalance timeout
// (60s).
func TestSinkRetryPastRebalance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a rebalance timeout")
	}
	if os.Getenv("TK_KAFKA") == "" {
		testSinkRetryPastRebalance(t, newCluster(t, 2, "in", "in.dlq").ListenAddrs(), "in", "g")
		return
	}
	_, kc, id, _ := transactInput(t, 0)
	cl := testClient(t, context.Background(), kc)
	if err := kafka.EnsureTopics(context.Background(), cl, kafka.TopicSpec{Name: id + "-2", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), id+"-2") })
	testSinkRetryPastRebalance(t, kc.Brokers, id+"-2", id)
}

func testSinkRetryPastRebalance(t *testing.T, brokers []string, topic, group string) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: brokers, SessionTimeout: 6 * time.Second}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produce := func(ts int64) {
		for p := range int32(2) {
			r := samplesRecord(t, topic, 3, ts)
			r.Partition = p
			if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	committed := func() map[int32]int64 {
		offs, err := kadm.NewClient(prod).FetchOffsets(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		at := map[int32]int64{}
		for p := range int32(2) {
			o, _ := offs.Lookup(topic, p)
			at[p] = o.At
		}
		return at
	}
	newRunner := func(sink Sink, flushEvery time.Duration) *Runner {
		r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: group, Topics: []string{topic}, DeadLetterTopic: topic + ".dlq", FlushInterval: flushEvery},
			sink, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	produce(1e18)
	a := newPartSink(make(chan struct{}))
	// A flushes only after a while, so that it has the records of both
	// partitions (a real Kafka may return them in two polls) when its
	// flush fails and the retries stop it polling.
	ra := newRunner(a, 2*time.Second)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); _ = ra.Run(ctx) }()
	waitFor(t, "A's rows", func() bool { return a.seen() == 6 })
	waitFor(t, "A's flush to fail", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.tries > 0 })
	up := make(chan struct{})
	close(up)
	b := newPartSink(up)
	rb := newRunner(b, 20*time.Millisecond)
	wg.Add(1)
	go func() { defer wg.Done(); _ = rb.Run(ctx) }()
	for deadline := time.Now().Add(2 * time.Minute); b.seen() < 6; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B got no partition")
		}
	}
	// At once: once A finds it lost its partitions it rejoins, and may
	// take one back with its sink still down.
	const batches = 6
	for i := 2; i <= batches; i++ {
		produce(int64(i) * 1e18)
	}
	waitFor(t, "B's rows", func() bool { return b.seen() == 6*batches })
	waitFor(t, "B's commit", func() bool { c := committed(); return c[0] == batches && c[1] == batches })
	close(a.up)
	waitFor(t, "A's sink to be flushed", func() bool { return a.Pending() == 0 })
	time.Sleep(3 * time.Second)
	if c := committed(); c[0] < batches || c[1] < batches {
		t.Errorf("the group's offsets went back from %d to %v after the old member's sink was up", batches, c)
	}
	t.Logf("rows written per partition: A %v, B %v", a.wrote(), b.wrote())
	for p := range int32(2) {
		if n := a.wrote()[p]; n != 0 {
			t.Errorf("A wrote %d rows of partition %d after B owned it, want none: their offsets were never committed, B wrote them", n, p)
		}
		if n := b.wrote()[p]; n != 3*batches {
			t.Errorf("B wrote %d rows of partition %d, want %d: every row once", n, p, 3*batches)
		}
	}
}
