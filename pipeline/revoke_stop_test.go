package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// revokeHangSink takes any record; once armed, a Flush (there is none but
// the revocation's: the runner's own flush interval is an hour) waits for
// its context to end, as a sink whose target hangs and that honours its
// context does (the package's own downSink does the same), or for the test
// to release it.
type revokeHangSink struct {
	mu       sync.Mutex
	pending  int
	armed    atomic.Bool
	entered  chan struct{}
	release  chan struct{}
	ctxEnded atomic.Bool
}

func (s *revokeHangSink) Add(context.Context, *kgo.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	return nil
}

func (s *revokeHangSink) Flush(ctx context.Context) (int, error) {
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		select {
		case <-ctx.Done():
			s.ctxEnded.Store(true)
			return 0, ctx.Err()
		case <-s.release:
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.pending
	s.pending = 0
	return n, nil
}

func (s *revokeHangSink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// TestStopDuringRevocationFlush: a stop that comes while a rebalance's
// revocation flush waits on a hung sink must still return within
// FinalFlushTimeout (README: `telekernel stage NAME` exits within 10 s of
// the signal whatever a sink does; Run's doc: the flush within
// FinalFlushTimeout). Before, onRevoked flushed on the client's context,
// which only Close ends, holding r.mu meanwhile; Run's loop waited for r.mu
// before it looked at its context, and Close came only after Run's loop
// returned, so the stop waited for the sink for as long as it hung (for
// ever, for a sink that honours its context).
func TestStopDuringRevocationFlush(t *testing.T) {
	cluster := newCluster(t, 2, "in", "dlq")
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range int32(2) {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "in", Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sink := &revokeHangSink{entered: make(chan struct{}), release: make(chan struct{})}
	r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq", FlushInterval: time.Hour},
		sink, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(runCtx) }()
	waitFor(t, "both records", func() bool { return r.Stats().Records == 2 })

	// A second member joins: the runner's revocation flush hangs.
	sink.armed.Store(true)
	_ = member(t, kc.Brokers, "g")
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no revocation flush")
	}
	stopped := time.Now()
	stop()
	select {
	case err := <-ran:
		t.Logf("Run returned %v after the stop: %v", time.Since(stopped).Round(time.Millisecond), err)
	case <-time.After(FinalFlushTimeout + time.Second):
		t.Errorf("Run had not returned %v after the stop (the revocation flush's context ended: %v): the stop waits for the sink",
			FinalFlushTimeout+time.Second, sink.ctxEnded.Load())
		close(sink.release)
		<-ran
	}
}
