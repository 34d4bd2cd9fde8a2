package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/arrowpool"
	"github.com/telekernel/telekernel/schemas"
)

// TestEncodedBound: the estimate a record's budget is taken by is never
// below its encoded size, and not far above it.
func TestEncodedBound(t *testing.T) {
	mem := memory.NewCheckedAllocator(arrowpool.New())
	defer mem.AssertSize(t, 0)
	for _, rows := range []int{1, 7, 100, 4096, 20000} {
		for _, state := range []bool{false, true} {
			b := NewBatch(mem, "device-with-a-name", schemas.SourceGNMI)
			for i := range rows {
				m := b.MetricIndex(fmt.Sprintf("/interfaces/interface/state/counters/c%d", i%10))
				k := b.KeysIndex(fmt.Sprintf("name=Ethernet%d", i%64))
				switch {
				case state && i%2 == 0:
					b.AppendState(int64(i), m, k, "UP-and-running")
				case i%3 == 0:
					b.AppendGauge(int64(i), m, k, float64(i))
				default:
					b.AppendCounter(int64(i), m, k, uint64(i))
				}
			}
			rec := b.NewRecord()
			val, err := schemas.EncodeSamples(nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			bound := encodedBound(rec)
			if bound < int64(len(val)) || bound > int64(len(val))*3/2+8<<10 {
				t.Errorf("%d rows (state %v): bound %d for %d encoded bytes", rows, state, bound, len(val))
			}
			rec.Release()
			b.Release()
		}
	}
}

// TestDownBrokerHoldsBytesWithinLimit: with the broker down and many
// goroutines publishing (one per target in a collector), the encoded
// records held stay within the client's MaxBufferedBytes. Before the
// budget, every goroutine blocked in Produce held one encoded record
// beyond the limit, so memory grew with the number of targets.
func TestDownBrokerHoldsBytesWithinLimit(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var down atomic.Bool
	down.Store(true)
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down"), true
		}
		return nil, nil, false
	})
	const limit = 64 << 10
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedBytes(limit),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := New(cl, Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	const goroutines, records, rows = 16, 8, 300 // ≈ 11 KB per record
	var published atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	for g := range goroutines {
		wg.Go(func() {
			b := NewBatch(memory.NewGoAllocator(), fmt.Sprintf("dev-%d", g), schemas.SourceGNMI)
			defer b.Release()
			for r := range records {
				for i := range rows {
					b.AppendCounter(int64((g*records+r)*rows+i), b.MetricIndex("/m"), b.KeysIndex(fmt.Sprint("k", i)), uint64(i))
				}
				rec := b.NewRecord()
				err := pub.Publish(ctx, b.device, rec)
				rec.Release()
				if err != nil {
					t.Error(err)
					return
				}
				published.Add(1)
			}
		})
	}
	var last int64 = -1
	for stable := 0; stable < 10; time.Sleep(20 * time.Millisecond) {
		if n := published.Load(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	// The client counts the records it holds and those whose Produce
	// waits for room.
	if held := cl.BufferedProduceBytes(); held > limit {
		t.Errorf("%d bytes of records held while the broker is down, limit %d", held, limit)
	}
	if last >= goroutines*records {
		t.Fatalf("all %d records published to a down broker", last)
	}
	down.Store(false)
	wg.Wait()
	if err := pub.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if st := pub.Stats(); st.Samples != goroutines*records*rows || st.Errors != 0 {
		t.Fatalf("after recovery: %+v, want %d samples and no errors", st, goroutines*records*rows)
	}
}

// TestRecordAboveBudgetDoesNotWait: a record larger than the whole
// MaxBufferedBytes takes the whole budget instead of waiting for more than
// there is; the client then refuses it (MessageTooLarge), counted as lost,
// and the budget is whole again for the next record.
func TestRecordAboveBudgetDoesNotWait(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	const limit = 32 << 10
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedBytes(limit))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := New(cl, Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publish := func(rows int) {
		t.Helper()
		b := NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceGNMI)
		defer b.Release()
		for i := range rows {
			b.AppendCounter(int64(i), b.MetricIndex("/m"), b.KeysIndex(fmt.Sprint("k", i)), uint64(i))
		}
		rec := b.NewRecord()
		defer rec.Release()
		if err := pub.Publish(ctx, "dev", rec); err != nil {
			t.Fatal(err)
		}
	}
	publish(4000) // ≈ 190 KB, six times the budget
	// The client refuses it without buffering it, and calls its promise
	// on a goroutine of its own.
	for pub.Stats().Lost["MESSAGE_TOO_LARGE"] != 4000 {
		if ctx.Err() != nil {
			t.Fatalf("a record above MaxBufferedBytes was not refused: %+v", pub.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	publish(100)
	if err := pub.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if st := pub.Stats(); st.Samples != 100 {
		t.Fatalf("stats %+v, want 100 samples produced after the refused record", st)
	}
}
