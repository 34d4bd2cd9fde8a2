package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// TestIntegrationInsertServerStopsAnswering flushes a samples stage whose
// INSERT has many blocks through a proxy that stops forwarding (keeping the
// connection open) after the first megabytes, as a server that hangs or a
// path that drops every packet would. The flush must fail within the
// sink's read_timeout of the stall with one line and a retryable error,
// although its context (5 s, as a final flush's) does not end first; the
// next flush, once the server answers again, writes every row once.
func TestIntegrationInsertServerStopsAnswering(t *testing.T) {
	const (
		readTimeout = 2 * time.Second
		flushCtx    = 5 * time.Second
		rows        = 200_000
		batchRows   = 20_000 // 10 blocks of about 2 MB, uncompressed
	)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.ReadTimeout = readTimeout
		c.BatchRows = batchRows
		c.Compression = "none"
		c.MaxOpenConns = 1
	})
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}

	st := NewSamplesStage(s, mem)
	defer st.Close()
	addSamples(t, st, records(mem, stallSamples(rows), 5_000))

	proxy.StallAfter(3 << 20)
	fctx, cancel := context.WithTimeout(ctx, flushCtx)
	defer cancel()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		n, err := st.Flush(fctx)
		done <- result{n, err}
	}()
	bound := flushCtx + readTimeout + 3*time.Second
	var res result
	select {
	case res = <-done:
	case <-time.After(bound):
		t.Errorf("Flush still blocked %v after it began (proxy stalled: %v; flush context %v, read_timeout %v): nothing bounds the writes between blocks",
			bound, proxy.Stalled(), flushCtx, readTimeout)
		proxy.Cut() // closes the connections, so the blocked write returns
		res = <-done
		t.Fatalf("after the proxy was cut, Flush returned %d, %v, %v after it began", res.n, res.err, time.Since(start).Round(time.Millisecond))
	}
	took := time.Since(start)
	t.Logf("Flush returned after %v: %d, %v", took.Round(time.Millisecond), res.n, res.err)
	if !proxy.Stalled() {
		t.Fatalf("the proxy never stalled: the INSERT was shorter than the stall point")
	}
	if res.err == nil {
		t.Fatal("Flush succeeded through a stalled server")
	}
	if !IsRetryable(res.err) {
		t.Errorf("the stalled flush's error is not retryable: %v", res.err)
	}
	if msg := res.err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "read_timeout") {
		t.Errorf("want one line naming read_timeout, got %q", msg)
	}
	if took > readTimeout*2+time.Second {
		t.Errorf("Flush took %v, want within about read_timeout %v of the stall", took.Round(time.Millisecond), readTimeout)
	}

	proxy.Resume()
	n, err := st.Flush(ctx)
	if err != nil || n != rows {
		t.Fatalf("the flush after the stall: %d, %v; want %d rows", n, err, rows)
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != rows {
		t.Fatalf("Count = %d, %v; want %d", c, err, rows)
	}
}

// TestIntegrationStageStopWhileServerStalled runs the samples stage on the
// real Kafka until its flush (200,000 rows, 10 blocks) is stuck on a proxy
// that stopped forwarding, then stops the runner: Run must return within
// pipeline.FinalFlushTimeout plus about twice read_timeout (the stuck
// flush, then the final flush's), saying how many rows it did not flush,
// and the server's side of the stuck INSERT must end.
func TestIntegrationStageStopWhileServerStalled(t *testing.T) {
	const readTimeout = 2 * time.Second
	kc, cl := sinktest.Kafka(t)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.DialTimeout = time.Second
		c.ReadTimeout = readTimeout
		c.BatchRows = 20_000
		c.Compression = "none"
	})
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	topic := sinktest.Topic(t, cl, "tk-test-chstall-", 1)
	rows := stallSamples(200_000)
	recs := records(mem, rows, 5_000)
	sinktest.ProduceSamples(t, cl, topic, recs)
	release(recs)

	log, _ := sinktest.NewLog(t)
	stage := NewSamplesStage(s, mem)
	defer stage.Close()
	r := newRunner(t, kc, sinktest.Name("tk-test-chstall-"), topic, stage, len(rows), time.Minute, log)
	proxy.StallAfter(3 << 20)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	waitFor(t, 60*time.Second, "the proxy to stall mid-flush", proxy.Stalled)
	time.Sleep(500 * time.Millisecond)
	cancel()
	stopAt := time.Now()
	bound := pipeline.FinalFlushTimeout + 2*readTimeout + 3*time.Second
	var err error
	select {
	case err = <-done:
		t.Logf("Run returned %v after the stop: %v", time.Since(stopAt).Round(time.Millisecond), err)
	case <-time.After(bound):
		t.Errorf("Run did not return within %v of the stop (FinalFlushTimeout %v, read_timeout %v)", bound, pipeline.FinalFlushTimeout, readTimeout)
		proxy.Cut()
		err = <-done
		t.Fatalf("after the proxy was cut, Run returned %v after the stop: %v", time.Since(stopAt).Round(time.Millisecond), err)
	}
	if err == nil || !strings.Contains(err.Error(), "stopped without flushing 200000 rows") {
		t.Errorf("Run returned %v, want one saying the 200000 rows were not flushed", err)
	}
	proxy.Resume()
	waitInsertEnded(t, s)
}

// TestIntegrationStageStopWhileServerStalledDefaults is
// TestIntegrationStageStopWhileServerStalled with the default timeouts
// (dial_timeout 5 s, read_timeout 60 s): a stop while the server stalls
// mid-INSERT must end Run within pipeline.FinalFlushTimeout, the bound a
// stage process keeps on SIGTERM (cmd/telekernel shutdown tests), with one
// line saying the rows were not flushed, and without committing them.
func TestIntegrationStageStopWhileServerStalledDefaults(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.BatchRows = 20_000 // several blocks in one INSERT
		c.Compression = "none"
	})
	if s.cfg.ReadTimeout != DefaultReadTimeout || s.cfg.DialTimeout != DefaultDialTimeout {
		t.Fatalf("timeouts %v, %v; want the defaults", s.cfg.ReadTimeout, s.cfg.DialTimeout)
	}
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	topic := sinktest.Topic(t, cl, "tk-test-chstalldef-", 1)
	rows := stallSamples(200_000)
	recs := records(mem, rows, 5_000)
	sinktest.ProduceSamples(t, cl, topic, recs)
	release(recs)

	log, _ := sinktest.NewLog(t)
	stage := NewSamplesStage(s, mem)
	defer stage.Close()
	group := sinktest.Name("tk-test-chstalldef-")
	r := newRunner(t, kc, group, topic, stage, len(rows), time.Minute, log)
	proxy.StallAfter(3 << 20)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	waitFor(t, 60*time.Second, "the proxy to stall mid-flush", proxy.Stalled)
	time.Sleep(500 * time.Millisecond)
	cancel()
	stopAt := time.Now()
	// The final flush may take an idle connection to the stalled server
	// and wait on it for all its time (the sink closes it at the
	// deadline), which leaves the runner its closing margin of
	// FinalFlushTimeout.
	bound := pipeline.FinalFlushTimeout
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * DefaultReadTimeout):
		proxy.Cut()
		err = <-done
	}
	took := time.Since(stopAt)
	t.Logf("Run returned %v after the stop: %v", took.Round(time.Millisecond), err)
	if took > bound {
		t.Errorf("Run returned %v after the stop, beyond FinalFlushTimeout %v", took.Round(time.Millisecond), bound)
	}
	if err == nil || !strings.Contains(err.Error(), "stopped without flushing 200000 rows") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Run returned %v, want one line saying the 200000 rows were not flushed", err)
	}
	// Nothing was committed: a restart reads every row again.
	proxy.Resume()
	waitInsertEnded(t, s)
	offs, oerr := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if oerr != nil {
		t.Fatal(oerr)
	}
	if o, ok := offs.Lookup(topic, 0); ok && o.At > 0 {
		t.Errorf("the group committed offset %d of a flush that did not finish", o.At)
	}
}

// TestIntegrationInsertInterruptedByStop cancels the context of a flush
// whose multi-block INSERT is stuck on a server that stopped reading
// (default read_timeout, 60 s): the flush must return at once with one
// line saying the stop interrupted it, keep its rows, the server's INSERT
// must end, and the next flush writes every row once.
func TestIntegrationInsertInterruptedByStop(t *testing.T) {
	const rows = 200_000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.BatchRows = 20_000
		c.Compression = "none"
		c.MaxOpenConns = 1
	})
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	st := NewSamplesStage(s, mem)
	defer st.Close()
	addSamples(t, st, records(mem, stallSamples(rows), 5_000))

	proxy.StallAfter(3 << 20)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := st.Flush(fctx)
		done <- result{n, err}
	}()
	waitFor(t, 30*time.Second, "the proxy to stall mid-flush", proxy.Stalled)
	time.Sleep(time.Second) // the writes are blocked by now
	cancel()
	stopAt := time.Now()
	var res result
	select {
	case res = <-done:
	case <-time.After(2 * DefaultReadTimeout):
		proxy.Cut()
		res = <-done
	}
	took := time.Since(stopAt)
	t.Logf("Flush returned %v after the cancel: %d, %v", took.Round(time.Millisecond), res.n, res.err)
	if took > time.Second {
		t.Errorf("Flush returned %v after its context was cancelled, want at once", took.Round(time.Millisecond))
	}
	if res.err == nil || res.n != 0 {
		t.Fatalf("Flush = %d, %v; want an error", res.n, res.err)
	}
	msg := res.err.Error()
	if !errors.Is(res.err, errInterrupted) || !errors.Is(res.err, context.Canceled) || strings.Contains(msg, "\n") ||
		!strings.Contains(msg, "interrupted by the stop") {
		t.Errorf("want one line saying the stop interrupted the flush, wrapping context.Canceled; got %q", msg)
	}
	if st.Pending() != rows {
		t.Errorf("Pending = %d after the interrupted flush, want %d kept", st.Pending(), rows)
	}
	proxy.Resume()
	waitInsertEnded(t, s)
	n, err := st.Flush(ctx)
	if err != nil || n != rows {
		t.Fatalf("the flush after the stall: %d, %v; want %d rows", n, err, rows)
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != rows {
		t.Fatalf("Count = %d, %v; want %d", c, err, rows)
	}
}

// TestIntegrationInsertQueryUnanswered sends an INSERT without a deadline
// of its own to a server that stops answering before the query's reply:
// the INSERT fails after about read_timeout, as the driver's read timeout
// says (the deadline that tags an INSERT for the stop must not replace
// it).
func TestIntegrationInsertQueryUnanswered(t *testing.T) {
	const readTimeout = 2 * time.Second
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.ReadTimeout = readTimeout
		c.MaxOpenConns = 1
	})
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	recs := records(mem, []schemas.Sample{{TS: testDay.UnixNano(), Device: "edge1", Metric: metricTemp, Keys: "name=CPU0",
		Kind: schemas.KindGauge, F64: 41, Source: schemas.SourceGNMI}}, 1)
	defer release(recs)
	proxy.StallAfter(0)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := s.InsertSamples(ctx, recs)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * readTimeout):
		proxy.Cut()
		err = <-done
	}
	took := time.Since(start)
	t.Logf("InsertSamples returned after %v: %v", took.Round(time.Millisecond), err)
	if err == nil || !IsRetryable(err) {
		t.Errorf("InsertSamples = %v, want a retryable error", err)
	}
	if took > 2*readTimeout+time.Second {
		t.Errorf("InsertSamples returned after %v, want about read_timeout %v", took.Round(time.Millisecond), readTimeout)
	}
	proxy.Resume() // for the cleanup's DROP
}

// stallSamples returns n gauge samples of 50 devices, 50 a second: a
// samples INSERT of many blocks at BatchRows 20 000, uncompressed.
func stallSamples(n int) []schemas.Sample {
	ss := make([]schemas.Sample, 0, n)
	for i := range n {
		ss = append(ss, schemas.Sample{TS: testDay.Add(time.Duration(i/50) * time.Second).UnixNano(), Device: fmt.Sprintf("edge%d", i%50),
			Metric: metricTemp, Keys: "name=CPU0", Kind: schemas.KindGauge, F64: float64(i) / 7, Source: schemas.SourceGNMI})
	}
	return ss
}

// addSamples encodes recs as the collectors publish them and adds them to
// st, releasing each.
func addSamples(t *testing.T, st *SamplesStage, recs []arrow.RecordBatch) {
	t.Helper()
	var hs []kgo.RecordHeader
	for _, h := range schemas.SamplesHeaders() {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	for _, rec := range recs {
		v, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Add(context.Background(), &kgo.Record{Value: v, Headers: hs}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitInsertEnded waits until the server runs no INSERT into s's samples
// table: the sink closed the connection of the one it gave up, so the
// server ended it (else it would hold the table, and a DROP would wait,
// until the server's receive_timeout).
func waitInsertEnded(t *testing.T, s *Sink) {
	t.Helper()
	waitFor(t, 10*time.Second, "the stalled INSERT to end on the server", func() bool {
		var n uint64
		q := "SELECT count() FROM system.processes WHERE query LIKE ?"
		return s.conn.QueryRow(context.Background(), q, "INSERT INTO "+s.db+".samples%").Scan(&n) == nil && n == 0
	})
}
