package clickhouse

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationStageDropsLostPartition plays what the runner does to
// the samples and detections stages when a rebalance takes a partition
// away while ClickHouse is down: the flush on revocation fails, the
// runner gives the partition up and calls DropPartition on a sink that
// implements pipeline.PartitionDropper; the partition comes back to this
// member, which reads it again from the committed offset; the server is
// back and the stage flushes. Before, the stages did not implement
// PartitionDropper, so they kept the lost partition's records and wrote
// them in the same INSERT as their re-read copies: every row of it twice
// in samples (raw count 2× until a merge; no block deduplication can
// catch it) and twice in the minute rollup's avg; now each row is written
// once and the rollup's avg equals the table's.
func TestIntegrationStageDropsLostPartition(t *testing.T) {
	s := newTestSink(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const topic = "tk.samples"
	recs := records(mem, fleet(4, 2, 20), 16)
	defer release(recs)
	msgs := make([]*kgo.Record, len(recs))
	for i, rec := range recs {
		v, err := schemas.EncodeSamples(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		var hs []kgo.RecordHeader
		for _, h := range schemas.SamplesHeaders() {
			hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		// The first quarter of the messages from partition 0, the rest
		// from 1: the lost partition's rows are not a fair sample of all.
		msgs[i] = &kgo.Record{Topic: topic, Partition: int32(min(1, 4*i/len(recs))), Value: v, Headers: hs}
	}
	total := 0
	for _, rec := range recs {
		total += int(rec.NumRows())
	}

	st := NewSamplesStage(s, mem)
	defer st.Close()
	add := func(part int32) {
		for _, m := range msgs {
			if m.Partition == part {
				if err := st.Add(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	add(0)
	add(1)
	dropper, ok := any(st).(pipeline.PartitionDropper)
	if !ok {
		t.Errorf("SamplesStage is not a pipeline.PartitionDropper: the runner cannot make it forget a lost partition")
	} else {
		before := st.Pending()
		dropper.DropPartition(topic, 0)
		dropper.DropPartition(topic, 7) // not held: nothing changes
		if st.Pending() >= before {
			t.Errorf("Pending %d after dropping partition 0, was %d", st.Pending(), before)
		}
	}
	add(0) // read again from the committed offset
	if st.Pending() != total {
		t.Errorf("Pending %d before the flush, want the %d rows once", st.Pending(), total)
	}
	if _, err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if raw := rawCount(t, s, schemas.TableSamples); raw != uint64(total) {
		t.Errorf("samples holds %d rows as stored, want %d (each once)", raw, total)
	}
	var tableAvg, rollupAvg float64
	if err := s.conn.QueryRow(ctx, "SELECT avg(value_f64) FROM "+s.db+".samples FINAL WHERE kind = 2").Scan(&tableAvg); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.QueryRow(ctx, "SELECT avgMerge(avg_f64) FROM "+s.db+".samples_1m WHERE kind = 2").Scan(&rollupAvg); err != nil {
		t.Fatal(err)
	}
	if math.Abs(tableAvg-rollupAvg) > 1e-9*math.Abs(tableAvg) {
		t.Errorf("minute rollup's avg of gauges %v, the table's %v: rows counted twice", rollupAvg, tableAvg)
	}

	// The detections stage (every rowStage) the same way.
	dets := testDetections(12)
	ds := NewDetectionsStage(s)
	addDets := func(part int32) {
		for i := range dets {
			if int32(i%2) != part {
				continue
			}
			v, err := schemas.MarshalDetection(&dets[i])
			if err != nil {
				t.Fatal(err)
			}
			var hs []kgo.RecordHeader
			for _, h := range schemas.DetectionHeaders(&dets[i], "test") {
				hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			if err := ds.Add(ctx, &kgo.Record{Topic: "tk.detections", Partition: part, Value: v, Headers: hs}); err != nil {
				t.Fatal(err)
			}
		}
	}
	addDets(0)
	addDets(1)
	if d, ok := any(ds).(pipeline.PartitionDropper); !ok {
		t.Errorf("DetectionsStage is not a pipeline.PartitionDropper")
	} else {
		d.DropPartition("tk.detections", 0)
	}
	addDets(0)
	if _, err := ds.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if raw := rawCount(t, s, schemas.TableDetections); raw != uint64(len(dets)) {
		t.Errorf("detections holds %d rows as stored, want %d (each once)", raw, len(dets))
	}
}
