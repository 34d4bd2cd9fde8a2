package parquet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

const (
	benchRows       = 100_000 // rows per flush
	benchMsgRows    = 1_000   // rows per Kafka message (one device's poll)
	benchDevices    = 50
	benchInterfaces = 20
)

// benchMessages returns benchRows samples as records of benchMsgRows rows,
// one device per record, and the bytes of their Arrow IPC encoding. shape
// is "counters" (interface counters only) or "mixed" (counters, gauges and
// states).
func benchMessages(b *testing.B, shape string) ([]arrow.RecordBatch, int64) {
	b.Helper()
	mem := memory.NewGoAllocator()
	sb := schemas.NewSampleBuilder(mem)
	defer sb.Release()
	counters := []string{"in-octets", "out-octets", "in-pkts", "out-pkts", "in-errors"}
	var recs []arrow.RecordBatch
	var ipcBytes int64
	var buf []byte
	ts := t0
	for m := 0; m < benchRows/benchMsgRows; m++ {
		dev := fmt.Sprintf("router-%03d.pop%d", m%benchDevices, m%7)
		for i := 0; sb.Len() < benchMsgRows; i++ {
			s := schemas.Sample{TS: ts + int64(i)*1_000_003, Device: dev, Source: schemas.SourceGNMI,
				Keys: fmt.Sprintf("name=Ethernet%d", i%benchInterfaces)}
			switch {
			case shape == "mixed" && i%5 == 3:
				s.Metric, s.Kind, s.F64 = "/components/component/transceiver/state/input-power", schemas.KindGauge, -2.5+float64(i%100)/100
			case shape == "mixed" && i%5 == 4:
				s.Metric, s.Kind, s.Str = "/interfaces/interface/state/oper-status", schemas.KindState, "UP"
			default:
				s.Metric = "/interfaces/interface/state/counters/" + counters[i%len(counters)]
				s.Kind, s.U64 = schemas.KindCounter, uint64(m)<<40+uint64(i)*1500
			}
			sb.Append(&s)
		}
		rec := sb.NewRecord()
		var err error
		if buf, err = schemas.EncodeSamples(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
		ipcBytes += int64(len(buf))
		recs = append(recs, rec)
		ts += int64(10 * time.Second / benchDevices)
	}
	return recs, ipcBytes
}

// BenchmarkWriter measures Add of 100 messages of 1000 rows and one Flush
// (sort, encode, zstd, fsync, rename) of the 100 k rows. SetBytes is the size
// of the Arrow IPC input.
func BenchmarkWriter(b *testing.B) {
	for _, shape := range []string{"counters", "mixed"} {
		for _, unit := range []string{TimestampMicros, TimestampNanos} {
			b.Run(fmt.Sprintf("shape=%s/unit=%s", shape, unit), func(b *testing.B) {
				recs, ipcBytes := benchMessages(b, shape)
				defer func() {
					for _, r := range recs {
						r.Release()
					}
				}()
				w := newWriter(b, Config{TimestampUnit: unit})
				ctx := context.Background()
				b.ReportAllocs()
				b.SetBytes(ipcBytes)
				var fileBytes int64
				b.ResetTimer()
				for b.Loop() {
					for i, rec := range recs {
						if err := w.Add(topic, int32(i%4), int64(i), rec); err != nil {
							b.Fatal(err)
						}
					}
					files, err := w.Flush(ctx)
					if err != nil {
						b.Fatal(err)
					}
					fileBytes = 0
					for _, f := range files {
						fileBytes += f.Bytes
					}
				}
				b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(fileBytes)/benchRows, "file-B/row")
			})
		}
	}
}

// BenchmarkAdd measures Add alone: the cost a consumer pays per message
// between flushes.
func BenchmarkAdd(b *testing.B) {
	recs, ipcBytes := benchMessages(b, "mixed")
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	w := newWriter(b, Config{})
	b.ReportAllocs()
	b.SetBytes(ipcBytes)
	b.ResetTimer()
	for b.Loop() {
		for i, rec := range recs {
			if err := w.Add(topic, int32(i%4), int64(i), rec); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for i := range 4 {
			w.Discard(topic, int32(i))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
