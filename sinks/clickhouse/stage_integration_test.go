package clickhouse

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// rawCount counts the rows of table as stored, duplicates included.
func rawCount(t *testing.T, s *Sink, table string) uint64 {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM "+s.db+"."+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newRunner(t *testing.T, kc kafka.Config, group, topic string, sink pipeline.Sink, rows int, every time.Duration, log *slog.Logger) *pipeline.Runner {
	t.Helper()
	r, err := pipeline.NewRunner(context.Background(), kc, pipeline.RunnerConfig{
		Name: "clickhouse-samples", Group: group, Topics: []string{topic}, FlushRows: rows, FlushInterval: every,
	}, sink, pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond every 50 ms until it holds or fails the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// TestIntegrationStageKillBetweenInsertAndCommit runs the samples stage on
// real Kafka and the real ClickHouse: the first runner commits one flush,
// then is killed after its second insert and before the commit; a second
// runner, flushing at other boundaries, re-reads from the last commit. The
// table then holds exactly the N samples produced (FINAL, and after the
// merge without FINAL), although the killed batch was inserted twice.
func TestIntegrationStageKillBetweenInsertAndCommit(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	topic := sinktest.Topic(t, cl, "tk-test-chkill-", 3)
	group := sinktest.Name("tk-test-chkill-")

	want := fleet(16, 8, 60)
	half := len(want) / 2
	recs := records(mem, want, 97)
	defer release(recs)
	mid := len(recs) / 2
	sinktest.ProduceSamples(t, cl, topic, recs[:mid])

	log, _ := sinktest.NewLog(t)
	stage1 := NewSamplesStage(s, mem)
	kill := &sinktest.KillAfterWrite{Sink: stage1, KillAt: 2}
	r1 := newRunner(t, kc, group, topic, kill, 1_000_000, 200*time.Millisecond, log)
	done := make(chan error, 1)
	go func() { done <- r1.Run(ctx) }()
	waitFor(t, 30*time.Second, "the first flush to be committed", func() bool { return r1.Stats().Flushed > 0 })
	sinktest.ProduceSamples(t, cl, topic, recs[mid:])
	select {
	case err := <-done:
		if !errors.Is(err, sinktest.ErrKilled) {
			t.Fatalf("first runner: %v, want the test kill", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first runner was not killed")
	}
	stage1.Close()
	_, killedRows := kill.Killed()
	committed := r1.Stats().Flushed
	t.Logf("first runner: %d rows committed, then killed after inserting %d more", committed, killedRows)
	if killedRows == 0 || committed == 0 || committed >= int64(len(want)) {
		t.Fatalf("the kill did not happen between two flushes: committed %d, killed flush %d rows, N %d", committed, killedRows, len(want))
	}

	stage2 := NewSamplesStage(s, mem)
	defer stage2.Close()
	r2 := newRunner(t, kc, group, topic, stage2, half/3, time.Second, log)
	sinktest.Drain(t, r2, 45*time.Second)
	t.Logf("second runner: %d rows re-read and written", r2.Stats().Flushed)
	if got := r2.Stats().Flushed; got != int64(len(want))-committed {
		t.Errorf("second runner wrote %d rows, want the %d not committed", got, int64(len(want))-committed)
	}

	n, err := s.Count(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawCount(t, s, schemas.TableSamples)
	t.Logf("N = %d; count FINAL = %d; raw rows before merge = %d", len(want), n, raw)
	if n != uint64(len(want)) {
		t.Fatalf("count FINAL = %d, want exactly N = %d", n, len(want))
	}
	if raw <= uint64(len(want)) {
		t.Logf("raw %d: the duplicate insert was already merged", raw)
	}
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+".samples FINAL"); err != nil {
		t.Fatal(err)
	}
	if raw := rawCount(t, s, schemas.TableSamples); raw != uint64(len(want)) {
		t.Errorf("after OPTIMIZE FINAL: %d rows, want %d", raw, len(want))
	}
	sortSamples(want)
	if got := readSamples(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows read back differ from the samples produced (%d vs %d rows)", len(got), len(want))
	}
}

// TestIntegrationStageOutage cuts the connection to ClickHouse for 60 s
// (TK_TEST_OUTAGE, e.g. 20s, sets another length) while samples keep
// arriving in Kafka: the runner pauses consumption
// (nothing more is read, Pending stops growing), logs the outage once,
// resumes by itself when the server is reachable again, and every sample
// ends up in the table exactly once.
func TestIntegrationStageOutage(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.DialTimeout = time.Second
		c.ReadTimeout = 5 * time.Second
	})
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	topic := sinktest.Topic(t, cl, "tk-test-choutage-", 3)
	group := sinktest.Name("tk-test-choutage-")

	want := fleet(16, 8, 60)
	recs := records(mem, want, 50)
	defer release(recs)
	quarter := len(recs) / 4
	sinktest.ProduceSamples(t, cl, topic, recs[:quarter])

	log, lines := sinktest.NewLog(t)
	stage := NewSamplesStage(s, mem)
	defer stage.Close()
	// Small flushes and chunks, so that a stage that went on reading
	// during the outage would hold far more than the bound below.
	const flushRows, chunk = 500, 10 // rows; records of 50 rows
	r := newRunner(t, kc, group, topic, stage, flushRows, 100*time.Millisecond, log)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	waitFor(t, 30*time.Second, "the first quarter to be written", func() bool { return r.Stats().Flushed >= 50*int64(quarter) })

	outage := 60 * time.Second // the figure; TK_TEST_OUTAGE=20s for a quicker run
	if v := os.Getenv("TK_TEST_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TK_TEST_OUTAGE: %v", err)
		}
		outage = d
	}
	// Outage: the port closes and open connections drop, while producers
	// go on writing to Kafka until its end.
	proxy.Cut()
	cutAt := time.Now()
	rest := recs[quarter:]
	every := outage / time.Duration((len(rest)+chunk-1)/chunk+1)
	// pausedAt is when the first failed flush was logged: from then on the
	// runner must read nothing, while producers go on.
	var pausedAt, producedAfterPause atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < len(rest); i += chunk {
			time.Sleep(every)
			sinktest.ProduceSamples(t, cl, topic, rest[i:min(i+chunk, len(rest))])
			if p := pausedAt.Load(); p != 0 && time.Now().UnixNano() > p {
				producedAfterPause.Add(int64(min(i+chunk, len(rest)) - i))
			}
		}
	}()
	flushFailed := func() bool {
		for _, l := range lines.Lines(slog.LevelInfo) {
			if strings.HasPrefix(l.Msg, "flush failed") {
				return true
			}
		}
		return false
	}
	flushedAtCut := r.Stats().Flushed
	var maxPending int
	var recordsAtPause int64 = -1
	for time.Since(cutAt) < outage {
		maxPending = max(maxPending, stage.Pending())
		if recordsAtPause < 0 && flushFailed() {
			recordsAtPause = r.Stats().Records
			pausedAt.Store(time.Now().UnixNano())
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	recordsAtEnd, flushedAtEnd := r.Stats().Records, r.Stats().Flushed
	t.Logf("outage of %v: rows written %d → %d, records read %d at the first failed flush (+%v) and %d at the end (%d produced after it), max pending %d rows (flush_rows %d)",
		outage, flushedAtCut, flushedAtEnd, recordsAtPause, time.Duration(pausedAt.Load()-cutAt.UnixNano()).Round(time.Millisecond),
		recordsAtEnd, producedAfterPause.Load(), maxPending, flushRows)
	if flushedAtEnd != flushedAtCut {
		t.Errorf("rows written during the outage: %d → %d", flushedAtCut, flushedAtEnd)
	}
	if recordsAtPause < 0 || producedAfterPause.Load() == 0 {
		t.Fatalf("no flush failed, or nothing was produced after it: the pause is not tested")
	}
	if recordsAtEnd != recordsAtPause {
		t.Errorf("consumption did not pause: %d records read at the first failed flush, %d at the end", recordsAtPause, recordsAtEnd)
	}
	// At most flush_rows plus one poll, which finds at most the chunks
	// produced since the last one (two, allowing for timing).
	if bound := flushRows + 2*chunk*50; maxPending > bound || maxPending == 0 {
		t.Errorf("max pending %d rows, want 1..%d (of %d rows produced during the outage)", maxPending, bound, 50*len(rest))
	}
	end, err := r.EndOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Restore(t)
	restoredAt := time.Now()
	go r.DrainTo(end)
	// The retry backoff is capped at 5 s: the first write lands within
	// that plus the insert itself.
	waitFor(t, 6*time.Second, "the first write after the server came back", func() bool { return r.Stats().Flushed > flushedAtEnd })
	resumed := time.Since(restoredAt)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the runner did not drain within 40 s of the server coming back")
	}
	t.Logf("first write %v and drained %v after the server came back", resumed.Round(time.Millisecond), time.Since(restoredAt).Round(time.Millisecond))

	n, err := s.Count(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(want)) {
		t.Fatalf("count FINAL = %d, want N = %d", n, len(want))
	}
	var failed, recovered int
	for _, l := range lines.Lines(slog.LevelInfo) {
		switch {
		case strings.HasPrefix(l.Msg, "flush failed"):
			failed++
			t.Logf("outage log line: %s", l.Text)
		case l.Msg == "flush recovered":
			recovered++
		}
	}
	if failed != 1 || recovered != 1 {
		t.Errorf("%d 'flush failed' and %d 'flush recovered' log lines for one outage, want 1 and 1", failed, recovered)
	}
	if warns := lines.Lines(slog.LevelWarn); len(warns) != 1 {
		for _, w := range warns {
			t.Logf("warning or error: %s", w.Text)
		}
		t.Errorf("%d warnings and errors logged for one outage, want 1", len(warns))
	}
}

// TestIntegrationResultStages runs the power, maintenance and detections
// stage sinks on the real Kafka and ClickHouse: every message lands once,
// a malformed one is dead-lettered and the stage goes on.
func TestIntegrationResultStages(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	hdrs := func(hs []schemas.Header) []kgo.RecordHeader {
		out := make([]kgo.RecordHeader, len(hs))
		for i, h := range hs {
			out[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
		return out
	}
	power := testPower(3, 4)
	maint := testMaintenance()
	dets := testDetections(40)
	pt := sinktest.Topic(t, cl, "tk-test-power-", 2)
	mt := sinktest.Topic(t, cl, "tk-test-maint-", 2)
	dt := sinktest.Topic(t, cl, "tk-test-dets-", 2)
	dlq := sinktest.Topic(t, cl, "tk-test-dlq-", 1)
	var recs []*kgo.Record
	for i := 0; i < len(power); i += 4 { // a few rows per message
		v, err := schemas.EncodePower(nil, power[i:min(i+4, len(power))])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: pt, Key: []byte(power[i].Device), Value: v, Headers: hdrs(schemas.PowerHeaders())})
	}
	for i := range maint {
		v, err := schemas.MarshalMaintenance(&maint[i])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: mt, Key: []byte(maint[i].Key), Value: v, Headers: hdrs(schemas.MaintenanceHeaders(&maint[i], "test"))})
	}
	for i := range dets {
		v, err := schemas.MarshalDetection(&dets[i])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: dt, Key: []byte(dets[i].Fingerprint), Value: v, Headers: hdrs(schemas.DetectionHeaders(&dets[i], "test"))})
	}
	recs = append(recs, &kgo.Record{Topic: pt, Value: []byte("not arrow"), Headers: hdrs(schemas.PowerHeaders())})
	// A detection the legacy layout cannot hold (DateTime ends in 2106)
	// is dead-lettered instead of failing its whole batch.
	far := testDetections(1)[0]
	far.ID, far.EventTime = "far-future", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := schemas.MarshalDetection(&far)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.layout(ctx, schemas.TableDetections)
	if err != nil {
		t.Fatal(err)
	}
	if l == schemas.LayoutLegacy {
		recs = append(recs, &kgo.Record{Topic: dt, Key: []byte(far.Fingerprint), Value: v, Headers: hdrs(schemas.DetectionHeaders(&far, "test"))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	log, _ := sinktest.NewLog(t)
	for _, st := range []struct {
		name, topic string
		sink        pipeline.Sink
		want        int
	}{
		{"clickhouse-power", pt, NewPowerStage(s), len(power)},
		{"clickhouse-maintenance", mt, NewMaintenanceStage(s), len(maint)},
		{"clickhouse-detections", dt, NewDetectionsStage(s), len(dets)},
	} {
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: st.name, Group: sinktest.Name("tk-test-"), Topics: []string{st.topic},
			DeadLetterTopic: dlq, FlushRows: 10, FlushInterval: 100 * time.Millisecond}, st.sink, pipeline.NewMetrics(prometheus.NewRegistry()), log)
		if err != nil {
			t.Fatal(err)
		}
		sinktest.Drain(t, r, 30*time.Second)
		if got := r.Stats().Flushed; got != int64(st.want) {
			t.Errorf("%s wrote %d rows, want %d", st.name, got, st.want)
		}
		if (st.topic == pt || (st.topic == dt && l == schemas.LayoutLegacy)) && r.Stats().DeadLetters != 1 {
			t.Errorf("%s: %d dead letters, want 1", st.name, r.Stats().DeadLetters)
		}
	}
	for table, want := range map[string]int{schemas.TablePower: len(power), schemas.TableMaintenance: len(maint), schemas.TableDetections: len(dets)} {
		if n, err := s.Count(ctx, table); err != nil || n != uint64(want) {
			t.Errorf("%s: count FINAL %d, %v; want %d", table, n, err, want)
		}
	}
}
