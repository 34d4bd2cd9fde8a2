package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/testenv"
)

// downSink is a countSink whose flushes fail while its target is down;
// once the test says the stop came, a flush waits for the end of its
// context (all of the final flush's time) and fails, and the sink records
// when that flush began and its deadline.
type downSink struct {
	mu sync.Mutex
	countSink
	fails   atomic.Int32 // failed flushes before the stop
	stopped atomic.Bool
	final   chan finalFlush
}

type finalFlush struct {
	at, deadline time.Time
	hasDeadline  bool
}

func (s *downSink) Add(ctx context.Context, r *kgo.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countSink.Add(ctx, r)
}

func (s *downSink) Flush(ctx context.Context) (int, error) {
	if !s.stopped.Load() {
		s.fails.Add(1)
		return 0, errors.New("target down")
	}
	d, ok := ctx.Deadline()
	select {
	case s.final <- finalFlush{at: time.Now(), deadline: d, hasDeadline: ok}:
	default:
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

func (s *downSink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countSink.Pending()
}

// TestStopWhileRetryingLeavesRoomToClose stops a Runner whose sink keeps
// failing while the coordinator holds every heartbeat (the broker away):
// the final flush begins at once (no heartbeat after the stop), its
// deadline leaves stopCloseMargin of FinalFlushTimeout for closing, and,
// the broker back meanwhile, Run returns within FinalFlushTimeout of the
// stop although the final flush used all of its time. Before, the retry loop sent its heartbeat after
// the stop and the final flush began 1 s late; its deadline was the whole
// FinalFlushTimeout, and Run returned past it.
func TestStopWhileRetryingLeavesRoomToClose(t *testing.T) {
	_, newRunner, _, cluster := threeRecords(t)
	gate := testenv.HoldRequests(cluster, kmsg.Heartbeat)
	t.Cleanup(gate.Release) // before the cluster closes
	sink := &downSink{final: make(chan finalFlush, 1)}
	r := newRunner(sink)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); sink.Pending() < 30 || sink.fails.Load() < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("in 10 s the sink held %d rows and failed %d flushes, want 30 rows and a failure", sink.Pending(), sink.fails.Load())
		}
	}
	gate.Hold()
	// Into the retry loop's backoff, with the heartbeat held from now on.
	time.Sleep(50 * time.Millisecond)
	sink.stopped.Store(true)
	stopped := time.Now()
	stop()
	var f finalFlush
	select {
	case f = <-sink.final:
	case <-time.After(FinalFlushTimeout + 5*time.Second):
		t.Fatal("no final flush")
	}
	// The broker is back: leaving the group does not wait (a held
	// heartbeat holds the leave, up to stopAbortWait).
	gate.Release()
	var err error
	select {
	case err = <-ran:
	case <-time.After(StopTimeout + 5*time.Second):
		t.Fatalf("Run did not return within %v of the stop", StopTimeout+5*time.Second)
	}
	took := time.Since(stopped)
	begin := f.at.Sub(stopped)
	budget := f.deadline.Sub(stopped)
	t.Logf("final flush began %v after the stop, with a deadline %v after it; Run returned %v after the stop",
		begin.Round(time.Millisecond), budget.Round(time.Millisecond), took.Round(time.Millisecond))
	if begin > 200*time.Millisecond {
		t.Errorf("the final flush began %v after the stop, want at once (no heartbeat once stopping)", begin.Round(time.Millisecond))
	}
	// The runner stamps the stop from a timer's goroutine, which a loaded
	// machine runs late: 100 ms of slack, well inside the margin.
	if !f.hasDeadline || budget > FinalFlushTimeout-stopCloseMargin+100*time.Millisecond {
		t.Errorf("the final flush's deadline is %v after the stop (set: %v), want at most %v", budget.Round(time.Millisecond), f.hasDeadline, FinalFlushTimeout-stopCloseMargin)
	}
	if took > FinalFlushTimeout {
		t.Errorf("Run returned %v after the stop, beyond FinalFlushTimeout (%v)", took.Round(time.Millisecond), FinalFlushTimeout)
	}
	if err == nil || !strings.Contains(err.Error(), "stopped without flushing 30 rows") {
		t.Errorf("Run: %v, want an error saying the 30 rows were not flushed", err)
	}
}
