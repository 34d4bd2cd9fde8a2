package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// downSink is a lockedSink whose flushes fail until up is closed.
type downSink struct {
	lockedSink
	up      chan struct{}
	flushes int
}

func (s *downSink) Flush(ctx context.Context) (int, error) {
	select {
	case <-s.up:
	default:
		return 0, errors.New("sink down")
	}
	n, err := s.lockedSink.Flush(ctx)
	if n > 0 {
		s.mu.Lock()
		s.flushes++
		s.mu.Unlock()
	}
	return n, err
}

// TestSinkRetryPastRebalance: a member whose sink is down for longer
// than the group's rebalance timeout loses its partitions to a member that
// joined (the rebalance waits for it that long, then goes on without it);
// the new owner writes and commits on. When its sink is up again, the old
// member writes the rows it had, but its commit finds it unknown to the
// group: it must not then write (and commit, as the member it rejoins as)
// the records of those partitions the client had fetched meanwhile, which
// the new owner already wrote. It did: every row of the new owner, again,
// after it. Nor may the group's offsets go back. On a real Kafka with
// TK_KAFKA set, else on kfake (which behaves alike); it waits out the
// rebalance timeout (60s).
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
	newRunner := func(sink Sink) *Runner {
		r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: group, Topics: []string{topic}, DeadLetterTopic: topic + ".dlq", FlushInterval: 20 * time.Millisecond},
			sink, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	produce(1e18)
	a := &downSink{up: make(chan struct{})}
	ra := newRunner(a)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); _ = ra.Run(ctx) }()
	waitFor(t, "A's rows", func() bool { return a.seen() == 6 })
	b := &lockedSink{}
	rb := newRunner(b)
	go func() { defer wg.Done(); _ = rb.Run(ctx) }()
	for deadline := time.Now().Add(2 * time.Minute); b.seen() < 6; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B got no partition")
		}
	}
	const batches = 6
	for i := 2; i <= batches; i++ {
		produce(int64(i) * 1e18)
		waitFor(t, "B's rows", func() bool { return b.seen() == 6*i })
		time.Sleep(300 * time.Millisecond)
	}
	waitFor(t, "B's commit", func() bool { c := committed(); return c[0] == batches && c[1] == batches })
	close(a.up)
	waitFor(t, "A's flush", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.flushes > 0 })
	time.Sleep(3 * time.Second)
	if c := committed(); c[0] < batches || c[1] < batches {
		t.Errorf("the group's offsets went back from %d to %v after the old member's sink was up", batches, c)
	}
	a.mu.Lock()
	if a.flushed != 6 {
		t.Errorf("A wrote %d rows, want only the 6 it had before it lost its partitions", a.flushed)
	}
	a.mu.Unlock()
}
