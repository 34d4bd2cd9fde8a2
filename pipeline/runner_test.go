package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

func samplesRecord(t *testing.T, topic string, n int, ts0 int64) *kgo.Record {
	t.Helper()
	b := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Append(&schemas.Sample{TS: ts0 + int64(i)*1e10, Device: "d1", Metric: "/m", Keys: "name=e1", Kind: schemas.KindCounter, U64: uint64(i) * 1000, Source: "sim"})
	}
	rec := b.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: topic, Key: []byte("d1"), Value: val}
	for _, h := range schemas.SamplesHeaders() {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}

// TestDeadLetters feeds a malformed message and a message of an unknown
// version between good ones: both are dead-lettered with their origin, the
// stage counts them and goes on.
func TestDeadLetters(t *testing.T) {
	cluster := newCluster(t, 1, "in", "out", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	good := samplesRecord(t, "in", 30, 1e18)
	garbage := &kgo.Record{Topic: "in", Value: []byte("not arrow"), Headers: good.Headers}
	future := samplesRecord(t, "in", 3, 1e18)
	for i, h := range future.Headers {
		if h.Key == schemas.HeaderSchemaVersion {
			future.Headers[i].Value = []byte("2")
		}
	}
	if err := prod.ProduceSync(ctx, good, garbage, future, samplesRecord(t, "in", 30, 1e18+300e9)).FirstErr(); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	det := newSeriesProc()
	// The same input through both kinds of stage: the exactly-once detect
	// stage and an at-least-once sink.
	eos, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "detect", Group: "g", Input: "in", DeadLetterTopic: "dlq"}, det, m, log)
	if err != nil {
		t.Fatal(err)
	}
	sink := &countSink{}
	alo, err := NewRunner(ctx, kc, RunnerConfig{Name: "count", Group: "g2", Topics: []string{"in"}, DeadLetterTopic: "dlq"}, sink, m, log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Stage{eos, alo} {
		st.DrainTo(end)
		if err := st.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if s := st.Stats(); s.Records != 4 || s.DeadLetters != 2 {
			t.Fatalf("stats %+v, want 4 records, 2 dead letters", s)
		}
	}
	if det.Series() != 1 {
		t.Fatalf("detect kept %d series, want 1", det.Series())
	}
	if sink.rows != 60 || sink.flushed != 60 {
		t.Fatalf("sink saw %d rows, flushed %d; want 60", sink.rows, sink.flushed)
	}
	for _, stage := range []string{"detect", "count"} {
		for _, reason := range []string{"unknown_version", "malformed"} {
			if v := testutil.ToFloat64(m.deadLetters.WithLabelValues(stage, reason)); v != 1 {
				t.Errorf("%s %s dead letters metric = %v, want 1", stage, reason, v)
			}
		}
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.ConsumeTopics("dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var dead []*kgo.Record
	for len(dead) < 4 && ctx.Err() == nil {
		cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				dead = append(dead, r)
			}
		})
	}
	want := []struct{ offset int64 }{{1}, {2}, {1}, {2}}
	for i, d := range dead {
		h := map[string]string{}
		for _, x := range d.Headers {
			h[x.Key] = string(x.Value)
		}
		if h[HeaderDLQTopic] != "in" || h[HeaderDLQPartition] != "0" || h[HeaderDLQOffset] != strconv.FormatInt(want[i].offset, 10) || h[HeaderDLQReason] == "" {
			t.Errorf("dead letter %d headers: %v", i, h)
		}
	}
	if string(dead[0].Value) != "not arrow" {
		t.Errorf("dead letter lost the original value: %q", dead[0].Value)
	}
	t.Logf("reasons: %q | %q", header(dead[0], HeaderDLQReason), header(dead[1], HeaderDLQReason))
}

func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// countSink counts the sample rows it is given.
type countSink struct {
	rows, pending, flushed int
}

func (c *countSink) Add(_ context.Context, r *kgo.Record) error {
	rec, err := schemas.DecodeSamples(memory.NewGoAllocator(), kafka.Headers(r), r.Value)
	if err != nil {
		return err
	}
	c.rows += int(rec.NumRows())
	c.pending += int(rec.NumRows())
	rec.Release()
	return nil
}

func (c *countSink) Flush(context.Context) (int, error) {
	n := c.pending
	c.flushed += n
	c.pending = 0
	return n, nil
}

func (c *countSink) Pending() int { return c.pending }

// TestStopCommitsWhatTheSinkSaw: a stop that lands between a poll and the
// records reaching the sink (the loop checks its context after polling)
// must not commit that poll: its records are read again, not lost. The
// client counts a poll's records as consumed when it returns them, so the
// commit is of the offsets given to the sink. Then a run to the end
// commits all three records.
func TestStopCommitsWhatTheSinkSaw(t *testing.T) {
	ctx, newRunner, committed, _ := threeRecords(t)
	// The poll the stop cut short, then what the loop does on a stop.
	r := newRunner(&countSink{})
	if n := r.client.PollRecords(ctx, DefaultMaxPoll).NumRecords(); n == 0 {
		t.Fatal("the poll returned nothing")
	}
	r.client.AllowRebalance()
	if err := r.final(); err != nil {
		t.Fatal(err)
	}
	r.client.Close()
	if at := committed(); at > 0 {
		t.Fatalf("the stop committed offset %d, though the sink saw none of the records", at)
	}
	sink := &countSink{}
	r = newRunner(sink)
	r.DrainTo(map[string]map[int32]int64{"in": {0: 3}})
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if at := committed(); at != 3 || sink.flushed != 30 {
		t.Errorf("after a run to the end: offset %d with %d rows flushed, want 3 with 30", at, sink.flushed)
	}
}

// TestStopWithinBoundWhileKafkaIsAway stops a Runner while the broker
// holds every offset commit, heartbeat and leave-group request: the final
// flush gives up on its commit after FinalFlushTimeout, saying so, and
// leaving the group gives up after stopAbortWait, so Run returns within
// StopTimeout. Before, the client's Close waited for the leave, which the
// client retries for 30 s, and Run took 40 s.
func TestStopWithinBoundWhileKafkaIsAway(t *testing.T) {
	_, newRunner, committed, cluster := threeRecords(t)
	gate := testenv.HoldRequests(cluster, kmsg.OffsetCommit, kmsg.Heartbeat, kmsg.LeaveGroup)
	t.Cleanup(gate.Release) // before the cluster closes
	gate.Hold()
	sink := &lockedSink{}
	r := newRunner(sink)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); sink.seen() < 30; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sink saw %d rows in 10s, want 30", sink.seen())
		}
	}
	stop()
	stopped := time.Now()
	var err error
	select {
	case err = <-ran:
	case <-time.After(StopTimeout + 20*time.Second):
		t.Fatalf("Run did not return within %v of the stop", StopTimeout+20*time.Second)
	}
	took := time.Since(stopped)
	t.Logf("Run returned %v after the stop: %v", took.Round(time.Millisecond), err)
	if bound := FinalFlushTimeout + stopAbortWait + time.Second; took > bound {
		t.Errorf("Run returned %v after the stop, want at most %v", took.Round(time.Millisecond), bound)
	}
	if err == nil || !strings.Contains(err.Error(), "offsets not committed") {
		t.Errorf("Run: %v, want an error saying the offsets were not committed", err)
	}
	if at := committed(); at > 0 { // before the gate lets the held commits through
		t.Errorf("committed offset %d with every commit held", at)
	}
	gate.Release()
}

// lockedSink is a countSink a test may read while the Runner uses it.
type lockedSink struct {
	mu sync.Mutex
	countSink
}

func (l *lockedSink) Add(ctx context.Context, r *kgo.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countSink.Add(ctx, r)
}

func (l *lockedSink) Flush(ctx context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countSink.Flush(ctx)
}

func (l *lockedSink) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countSink.Pending()
}

// seen returns the rows the sink was given.
func (l *lockedSink) seen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows
}

// brokenSink is a countSink that fails (not bad input: the stage stops)
// on its second record.
type brokenSink struct {
	countSink
	adds int
}

func (b *brokenSink) Add(ctx context.Context, r *kgo.Record) error {
	if b.adds++; b.adds == 2 {
		return errors.New("the sink broke")
	}
	return b.countSink.Add(ctx, r)
}

// TestSinkErrorCommitsWhatTheSinkSaw: a sink error on the second of three
// records stops the stage; leaving the group flushes and commits the
// first record only, so the second and third are read again (before, the
// commit on leaving took the client's polled offsets, 3, and lost them).
func TestSinkErrorCommitsWhatTheSinkSaw(t *testing.T) {
	ctx, newRunner, committed, _ := threeRecords(t)
	sink := &brokenSink{}
	if err := newRunner(sink).Run(ctx); err == nil || !strings.Contains(err.Error(), "the sink broke") {
		t.Fatalf("Run: %v, want the sink's error", err)
	}
	if at := committed(); at != 1 || sink.flushed != 10 {
		t.Errorf("committed offset %d with %d rows flushed, want 1 with 10", at, sink.flushed)
	}
}

// slowBrokenSink is a brokenSink whose flushes take 7 s, longer than
// leaving the group may.
type slowBrokenSink struct {
	brokenSink
	flushing atomic.Int32 // flushes in progress
	flushes  atomic.Int32 // flushes begun
}

func (s *slowBrokenSink) Flush(ctx context.Context) (int, error) {
	s.flushes.Add(1)
	s.flushing.Add(1)
	defer s.flushing.Add(-1)
	time.Sleep(7 * time.Second)
	return s.brokenSink.Flush(ctx)
}

// TestSinkErrorFlushesBeforeReturning: when the sink fails, Run flushes and
// commits what the sink took before the failing record itself, then
// returns; leaving the group flushes nothing more. Before, the revocation
// that leaving brings did that flush, and with a flush slower than the 5 s
// Run waits to leave, Run returned while the sink was still flushing (its
// owner then closes it).
func TestSinkErrorFlushesBeforeReturning(t *testing.T) {
	ctx, newRunner, committed, _ := threeRecords(t)
	sink := &slowBrokenSink{}
	err := newRunner(sink).Run(ctx)
	if busy := sink.flushing.Load(); busy != 0 {
		t.Errorf("Run returned with %d flushes of the sink in progress", busy)
	}
	if err == nil || !strings.Contains(err.Error(), "the sink broke") {
		t.Fatalf("Run: %v, want the sink's error", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n, at := sink.flushes.Load(), committed(); n != 1 || at != 1 || sink.flushed != 10 {
		t.Errorf("%d flushes, committed offset %d with %d rows flushed; want 1 flush, 1 and 10", n, at, sink.flushed)
	}
}

// threeRecords puts three records of 10 samples on topic "in" of an
// in-process broker, and returns a context, a function making a Runner of
// group "g" on it, one reading the group's committed offset, and the
// broker.
func threeRecords(t *testing.T) (context.Context, func(Sink) *Runner, func() int64, *kfake.Cluster) {
	t.Helper()
	cluster := newCluster(t, 1, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	for i := range 3 {
		if err := prod.ProduceSync(ctx, samplesRecord(t, "in", 10, 1e18+int64(i)*1e12)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	newRunner := func(sink Sink) *Runner {
		r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq"},
			sink, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	committed := func() int64 {
		offs, err := kadm.NewClient(prod).FetchOffsets(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := offs.Lookup("in", 0)
		return o.At
	}
	return ctx, newRunner, committed, cluster
}
