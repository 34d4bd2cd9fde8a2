package clickhouse

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// countingStage counts the rows its samples stage writes. DropPartition,
// where the stage has it, is promoted, so the runner sees the stage as it
// is.
type countingStage struct {
	*SamplesStage
	written atomic.Int64
}

func (c *countingStage) Flush(ctx context.Context) (int, error) {
	n, err := c.SamplesStage.Flush(ctx)
	c.written.Add(int64(n))
	return n, err
}

// TestIntegrationStageRebalanceWhileDown runs the samples stage on the
// real Kafka and ClickHouse: member A reads a partition while its
// ClickHouse is cut off (a proxy), so its flushes fail and it keeps the
// rows; member B joins with a working ClickHouse and, once the group has
// waited out A's rebalance timeout (60 s), owns the partition, reads it
// from the committed offset and writes every row. Then A's server comes
// back and A stops. Before, A's stage kept the rows of the partition it
// had lost and wrote them all again, after B had (its final flush); now
// the runner's DropPartition makes it forget them: A holds nothing once it
// learns it lost the partition, writes nothing, and every row is in the
// table once.
func TestIntegrationStageRebalanceWhileDown(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a rebalance timeout")
	}
	kc, cl := sinktest.Kafka(t)
	kc.SessionTimeout = 6 * time.Second
	proxy := sinktest.NewProxy(t, testServerAddr(t))
	sa := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.DialTimeout = time.Second
		c.ReadTimeout = 5 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := sa.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	sb := newTestSink(t, func(c *Config) { c.Database = sa.cfg.Database })
	if err := sb.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	topic := sinktest.Topic(t, cl, "tk-test-chrebal-", 1)
	group := sinktest.Name("tk-test-chrebal-")
	want := fleet(4, 4, 30)
	recs := records(mem, want, 40)
	defer release(recs)
	sinktest.ProduceSamples(t, cl, topic, recs)
	log, _ := sinktest.NewLog(t)

	proxy.Cut()
	restored := false
	defer func() {
		if !restored { // so that the cleanup can drop the database
			proxy.Restore(t)
		}
	}()
	a := &countingStage{SamplesStage: NewSamplesStage(sa, mem)}
	defer a.Close()
	b := &countingStage{SamplesStage: NewSamplesStage(sb, mem)}
	defer b.Close()
	var wg sync.WaitGroup
	defer wg.Wait() // after the runners are stopped, before the stages close
	ra := newRunner(t, kc, group, topic, a, 1_000_000, 100*time.Millisecond, log)
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	aDone := make(chan error, 1)
	wg.Add(1)
	go func() { defer wg.Done(); aDone <- ra.Run(actx) }()
	waitFor(t, 30*time.Second, "A to hold every row, unwritten", func() bool { return a.Pending() == len(want) })

	rb := newRunner(t, kc, group, topic, b, 1_000_000, 100*time.Millisecond, log)
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	wg.Add(1)
	go func() { defer wg.Done(); _ = rb.Run(bctx) }()
	waitFor(t, 2*time.Minute, "B to own the partition and write every row", func() bool { return b.written.Load() == int64(len(want)) })
	// A finds out with a heartbeat between the retries of its flush.
	waitFor(t, 30*time.Second, "A to forget the rows of the partition it lost", func() bool { return a.Pending() == 0 })

	proxy.Restore(t)
	restored = true
	stopA()
	select {
	case err := <-aDone:
		t.Logf("A stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("A did not stop")
	}
	if n := a.written.Load(); n != 0 {
		t.Errorf("A wrote %d rows of a partition B owned, want none", n)
	}
	n, err := sb.Count(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	if raw := rawCount(t, sb, schemas.TableSamples); n != uint64(len(want)) || raw != uint64(len(want)) {
		t.Errorf("count FINAL %d, rows stored %d; want %d each", n, raw, len(want))
	}
}
