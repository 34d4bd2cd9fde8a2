package publish

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// fillBatch appends n rows of every kind, with distinct keys every row and
// state strings of strLen bytes.
func fillBatch(b *Batch, n, strLen int) {
	for i := range n {
		keys := fmt.Sprintf("name=Ethernet%d/%d", i/48, i%48)
		switch i % 3 {
		case 0:
			b.AppendCounter(int64(i+1), b.MetricIndex("/interfaces/interface/state/counters/in-octets"), b.KeysIndex(keys), uint64(i)<<40)
		case 1:
			b.AppendGauge(int64(i+1), b.MetricIndex("/components/component/state/temperature/instant"), b.KeysIndex(keys), float64(i)/3)
		default:
			b.AppendState(int64(i+1), b.MetricIndex("/interfaces/interface/state/oper-status"), b.KeysIndex(keys), strings.Repeat("U", strLen))
		}
	}
}

// TestBatchSizeIsAnUpperBound: Size never underestimates the encoded
// record, and stays within 25 % (plus its fixed part) of it.
func TestBatchSizeIsAnUpperBound(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBatch(mem, "dev-with-a-long-name", schemas.SourceGNMI)
	defer b.Release()
	for _, n := range []int{1, 7, 100, 4096, 30000} {
		for _, strLen := range []int{0, 2, 40} {
			fillBatch(b, n, strLen)
			est := b.Size()
			rec := b.NewRecord()
			val, err := schemas.EncodeSamples(nil, rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			if est < len(val) || est > len(val)*5/4+sizeFixed {
				t.Errorf("%d rows, strings of %d: estimate %d for %d encoded bytes", n, strLen, est, len(val))
			}
		}
	}
	if b.Size() != 0 {
		t.Fatalf("empty batch: size %d", b.Size())
	}
}

// TestPublishSplitsLargeRecords: a record far above the limit reaches the
// topic as several records, each within the limit, with every row exactly
// once; a single row that cannot fit is counted as lost and logged once.
func TestPublishSplitsLargeRecords(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var logs bytes.Buffer
	const limit = MinMaxBatchBytes
	pub, err := New(cl, Config{Topic: "samples", MaxBatchBytes: limit}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	const rows = 5000
	fillBatch(b, rows, 4)
	rec := b.NewRecord()
	ctx := context.Background()
	if err := pub.Publish(ctx, "dev1", rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	for range 2 { // one row too large, twice: logged once
		b.AppendState(1, b.MetricIndex("/m"), b.KeysIndex(""), strings.Repeat("x", limit))
		rec = b.NewRecord()
		if err := pub.Publish(ctx, "dev1", rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	// The rows were refused before the Wait, reported then (the ERROR
	// line, Lost): Wait has only the acknowledged parts to wait for.
	if err := pub.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v, want nil: the too-large rows were lost before it", err)
	}
	st := pub.Stats()
	if st.Samples != rows || st.Batches < rows*sizePerRow/limit || st.Lost["too_large"] != 2 {
		t.Fatalf("stats %+v: want %d samples in at least %d records, 2 lost as too_large", st, rows, rows*sizePerRow/limit)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "reason=too_large") {
		t.Fatalf("want one ERROR line naming too_large, got:\n%s", logs.String())
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("samples"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	seen := map[int64]bool{}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(seen) < rows && rctx.Err() == nil {
		rd.PollFetches(rctx).EachRecord(func(r *kgo.Record) {
			if len(r.Value) > limit {
				t.Errorf("record of %d bytes, limit %d", len(r.Value), limit)
			}
			rec, err := schemas.DecodeSamplesValue(memory.NewGoAllocator(), r.Value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemas.Samples(rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				if seen[s.TS] {
					t.Fatalf("row %d twice", s.TS)
				}
				seen[s.TS] = true
				if want := fmt.Sprintf("name=Ethernet%d/%d", (s.TS-1)/48, (s.TS-1)%48); s.Keys != want {
					t.Fatalf("row %d has keys %q, want %q", s.TS, s.Keys, want)
				}
			}
		})
	}
	if len(seen) != rows {
		t.Fatalf("%d distinct rows on the topic, want %d", len(seen), rows)
	}
}
