package publish

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/arrowpool"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkBatchRecord measures one target's batch cycle as the gNMI
// collector runs it: 4096 rows appended, the record built, encoded into a
// buffer of the publisher's pool and released, per allocator. With the
// pooled one a cycle reuses the previous cycle's buffers.
func BenchmarkBatchRecord(b *testing.B) {
	const rows = 4096
	for _, c := range []struct {
		name string
		mem  memory.Allocator
	}{{"go", memory.NewGoAllocator()}, {"pooled", arrowpool.New()}} {
		b.Run(c.name, func(b *testing.B) {
			bt := NewBatch(c.mem, "bench-device", schemas.SourceGNMI)
			defer bt.Release()
			var vals arrowpool.Pool
			b.ReportAllocs()
			b.SetBytes(rows * 8)
			for b.Loop() {
				for i := range rows {
					bt.AppendCounter(int64(i), bt.MetricIndex("/interfaces/interface/state/counters/in-octets"),
						bt.KeysIndex("name=Ethernet1"), uint64(i))
				}
				rec := bt.NewRecord()
				val, err := schemas.EncodeSamples(vals.Get(int(encodedBound(rec)))[:0], rec)
				if err != nil {
					b.Fatal(err)
				}
				vals.Put(val)
				rec.Release()
			}
		})
	}
}
