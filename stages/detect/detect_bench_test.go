package detect

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkDetectAdd measures the detect stage on simulated samples: decode
// one Arrow IPC message per device and tick batch, rates, the default
// ensemble and alert state, without Kafka, on one worker (the serial
// path) and on GOMAXPROCS workers (detect.workers). Compare with
// BenchmarkDecodeOnly, the floor set by decoding alone.
func BenchmarkDetectAdd(b *testing.B) {
	recs, rows, bytes := simMessages(b, 10, 360, []sim.Fault{})
	benchDetect(b, recs, rows, bytes, 1, runtime.GOMAXPROCS(0))
}

// BenchmarkDetectFleet is BenchmarkDetectAdd on the fleet size of
// benchmarks/detect, 100 devices (ten times the series: their state no
// longer fits in a core's cache), 540 ticks, on 1 and 2 workers, and on 2
// holding the outputs as under the TransactRunner (negative: HoldOutputs).
func BenchmarkDetectFleet(b *testing.B) {
	recs, rows, bytes := simMessages(b, 100, 540, []sim.Fault{})
	benchDetect(b, recs, rows, bytes, 1, 2, -2)
}

// benchDetect runs recs (rows samples, bytes bytes) through a new stage
// per op, once per worker count (negative: that many, holding the
// outputs, flushed at the end), reporting samples/s and the process's CPU
// time per op.
func benchDetect(b *testing.B, recs []*kgo.Record, rows, bytes int, workers ...int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, w := range workers {
		name := fmt.Sprintf("workers=%d", w)
		if w < 0 {
			name = fmt.Sprintf("workers=%d,hold", -w)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(bytes))
			cpu0 := cpuTime()
			emit := func(*kgo.Record) {}
			for b.Loop() {
				d, _ := New(Config{Alert: alertOff(), Workers: max(w, -w)}, "out", pipeline.NewMetrics(prometheus.NewRegistry()), log)
				if w < 0 {
					d.HoldOutputs()
				}
				for _, r := range recs {
					if err := d.Process(context.Background(), r, emit); err != nil {
						b.Fatal(err)
					}
				}
				if err := d.Flush(emit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the CPU time this process has used (user and system),
// in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDecodeOnly decodes the same messages and reads every row.
func BenchmarkDecodeOnly(b *testing.B) {
	recs, rows, bytes := simMessages(b, 10, 360, []sim.Fault{})
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range recs {
			rec, err := schemas.DecodeSamples(mem, kafka.Headers(r), r.Value)
			if err != nil {
				b.Fatal(err)
			}
			sr, _ := schemas.NewSampleReader(rec)
			var sink int64
			for j := 0; j < sr.Len(); j++ {
				sink += sr.TS(j) + int64(len(sr.Metric(j)))
			}
			_ = sink
			rec.Release()
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// alertOff sets a firing threshold no sample reaches.
func alertOff() (c alert.Config) {
	c.FireZ, c.ResolveZ = 1e12, 1e11
	return c
}

// simMessages encodes devices × ticks simulated samples with faults (nil:
// the simulator's default) as one message per device per 60 ticks, as the
// publisher would.
func simMessages(b testing.TB, devices, ticks int, faults []sim.Fault) ([]*kgo.Record, int, int) {
	b.Helper()
	return simConfigMessages(b, sim.Config{Devices: devices, Faults: faults}, ticks)
}

// simConfigMessages is simMessages of a fleet of cfg, starting on
// 2026-11-01.
func simConfigMessages(b testing.TB, cfg sim.Config, ticks int) ([]*kgo.Record, int, int) {
	b.Helper()
	cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fleet, err := sim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	builders := map[string]*schemas.SampleBuilder{}
	var recs []*kgo.Record
	rows, size := 0, 0
	flush := func() {
		// Devices in name order: the records, and so the detections, come
		// out in the same order every run.
		for _, dev := range slices.Sorted(maps.Keys(builders)) {
			sb := builders[dev]
			rec := sb.NewRecord()
			val, err := schemas.EncodeSamples(nil, rec)
			rows += int(rec.NumRows())
			rec.Release()
			if err != nil {
				b.Fatal(err)
			}
			r := &kgo.Record{Topic: "in", Key: []byte(dev), Value: val}
			for _, h := range schemas.SamplesHeaders() {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			size += len(val)
			recs = append(recs, r)
		}
	}
	for tick := 1; tick <= ticks; tick++ {
		fleet.Next(func(s *schemas.Sample) {
			sb := builders[s.Device]
			if sb == nil {
				sb = schemas.NewSampleBuilder(memory.NewGoAllocator())
				builders[s.Device] = sb
			}
			sb.Append(s)
		})
		if tick%60 == 0 || tick == ticks {
			flush()
		}
	}
	return recs, rows, size
}
