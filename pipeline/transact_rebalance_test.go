package pipeline

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// gateProc is a countProc whose Process, once armed, stops at its next
// record until released: the transaction stays open meanwhile.
type gateProc struct {
	*countProc
	mu      sync.Mutex
	armed   bool
	stopped chan struct{} // closed when Process stopped at the gate
	release chan struct{}
	seen    atomic.Int64
}

func (p *gateProc) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	p.seen.Add(1)
	p.mu.Lock()
	armed := p.armed
	p.armed = false
	p.mu.Unlock()
	if armed {
		close(p.stopped)
		<-p.release
	}
	return p.countProc.Process(ctx, r, emit)
}

func (p *gateProc) arm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.stopped, p.release = true, make(chan struct{}), make(chan struct{})
}

// member joins group g on topic "in" as a plain cooperative consumer and
// returns a function reporting the partitions it was assigned.
func member(t *testing.T, brokers []string, group string) func() []int32 {
	t.Helper()
	var mu sync.Mutex
	got := map[int32]bool{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics("in"),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range m["in"] {
				got[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range m["in"] {
				delete(got, p)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return func() []int32 {
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(maps.Keys(got))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestTwoRevocationsInOneTransaction: two rebalances take a partition each
// from a member while one transaction is open. franz-go's transactional
// session reports only the first revocation of a transaction to the
// runner; the member must still know it no longer owns the second
// partition (its lag gauge and its drain count only what it owns).
func TestTwoRevocationsInOneTransaction(t *testing.T) {
	cluster := newCluster(t, 3, "in", "out")
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produce := func() {
		t.Helper()
		for p := range int32(3) {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce()
	proc := &gateProc{countProc: newCountProc("out", TransactionConfig{Interval: 100 * time.Millisecond})}
	m := NewMetrics(prometheus.NewRegistry())
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "out"}, proc, m,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(ctx) }()
	waitFor(t, "the first transaction", func() bool { return tr.Stats().Transactions > 0 && proc.seen.Load() >= 3 })

	// Hold a transaction open while two members join one after the other.
	proc.arm()
	produce()
	<-proc.stopped
	b := member(t, kc.Brokers, "g")
	waitFor(t, "B's partition", func() bool { return len(b()) == 1 })
	c := member(t, kc.Brokers, "g")
	waitFor(t, "C's partition", func() bool { return len(c()) == 1 })
	close(proc.release)

	others := append(b(), c()...)
	// The transaction open through both revocations aborts.
	waitFor(t, "the transaction to abort", func() bool { return tr.Stats().Aborts > 0 })
	time.Sleep(500 * time.Millisecond)
	tr.mu.Lock()
	owned := slices.Sorted(maps.Keys(tr.owned.parts["in"]))
	tr.mu.Unlock()
	for _, p := range others {
		if slices.Contains(owned, p) {
			t.Errorf("the runner still counts partition %d as its own (owns %v; B and C have %v)", p, owned, others)
		}
	}
	if len(owned) != 1 {
		t.Errorf("the runner owns %v, want the one partition B and C (%v) do not have", owned, others)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}
