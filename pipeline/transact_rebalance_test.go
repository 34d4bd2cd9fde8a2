package pipeline

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
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

// endGapProc counts the records of each partition and emits, keyed by the
// partition, the running count; it holds nothing, but its Flush (after a
// transaction's last records are processed, before the transaction ends)
// stops once armed until released.
type endGapProc struct {
	*countProc
	gate *gateProc // its arm, stopped and release only
}

func (p *endGapProc) HoldOutputs() {}

func (p *endGapProc) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	p.count[r.Partition]++
	p.dirty[r.Partition] = true
	emit(&kgo.Record{Topic: p.out, Key: []byte(strconv.Itoa(int(r.Partition))), Value: []byte(strconv.Itoa(p.count[r.Partition]))})
	return nil
}

func (p *endGapProc) Flush(func(*kgo.Record)) error {
	g := p.gate
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(g.stopped)
		<-g.release
	}
	return nil
}

// TestRevokedAtTransactionEnd: with checkpoint_interval set (transactions
// between checkpoints commit outputs and offsets only), a partition
// revoked after a transaction's last records were processed and before it
// ends makes it abort: the new owner restores the last checkpoint, replays
// the input to the committed offsets and goes on, and every count of every
// partition is committed once, in order.
func TestRevokedAtTransactionEnd(t *testing.T) {
	cluster := newCluster(t, 2, "in", "out")
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produced := 0
	produce := func(n int) {
		t.Helper()
		for range n {
			for p := range int32(2) {
				if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
		produced += n
	}
	cfg := TransactionConfig{Interval: 100 * time.Millisecond, CheckpointInterval: time.Minute}
	start := func(proc Processor, logs io.Writer) (*TransactRunner, chan error) {
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: "g", Input: "in", DeadLetterTopic: "out"}, proc,
			NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- tr.Run(ctx) }()
		return tr, ran
	}
	produce(5)
	a := &endGapProc{countProc: newCountProc("out", cfg), gate: &gateProc{}}
	ta, ranA := start(a, io.Discard)
	waitFor(t, "A's first commit", func() bool { return ta.Stats().Transactions >= 1 && ta.Stats().Records == 10 })
	txns := ta.Stats().Transactions
	produce(5) // committed without a checkpoint
	waitFor(t, "A's second commit", func() bool { return ta.Stats().Transactions > txns && ta.Stats().Records == 20 })

	// A processes 5 more records of each partition and stops before the
	// end of their transaction (which holds no checkpoint either); B joins
	// and takes a partition, restores its checkpoint, replays the 5
	// records committed since, processes the 5 new ones and commits.
	a.gate.arm()
	produce(5)
	<-a.gate.stopped
	b := &endGapProc{countProc: newCountProc("out", cfg), gate: &gateProc{}}
	var logsB testenv.LogBuffer
	tb, ranB := start(b, &logsB)
	waitFor(t, "B's commit", func() bool { return tb.Stats().Transactions >= 1 })
	if !strings.Contains(logsB.String(), "replayed=5") {
		t.Errorf("B did not replay the 5 records committed since the checkpoint:\n%s", logsB.String())
	}
	aborts := ta.Stats().Aborts
	close(a.gate.release)
	waitFor(t, "A's abort", func() bool { return ta.Stats().Aborts > aborts })
	produce(5)

	// Every count of each partition, 1 to 20, is committed once.
	rd, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.ConsumeTopics("out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string][]int{}
	n := 0
	for deadline := time.Now().Add(20 * time.Second); n < 2*produced && time.Now().Before(deadline); {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			c, _ := strconv.Atoi(string(r.Value))
			got[string(r.Key)] = append(got[string(r.Key)], c)
			n++
		})
		cancel()
	}
	time.Sleep(time.Second) // anything more
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
		c, _ := strconv.Atoi(string(r.Value))
		got[string(r.Key)] = append(got[string(r.Key)], c)
	})
	cancel()
	for _, p := range []string{"0", "1"} {
		want := make([]int, produced)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(got[p], want) {
			t.Errorf("partition %s: counts committed %v, want %v", p, got[p], want)
		}
	}
	stop()
	for _, ran := range []chan error{ranA, ranB} {
		if err := <-ran; err != nil {
			t.Error(err)
		}
	}
}
