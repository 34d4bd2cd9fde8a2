package main

import (
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// BenchmarkClickHouseInsert runs each side of the ClickHouse benchmark,
// the exact code go run ./benchmarks/sinks measures, on its own (an INSERT
// of 100 000 rows per operation into emptied tables), so that each can be
// profiled apart: -bench ClickHouseInsert/sink -cpuprofile FILE.
func BenchmarkClickHouseInsert(b *testing.B) {
	addr := testenv.Service(b, "TK_CLICKHOUSE")
	f, err := newCHFixture(addr, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	defer f.close()
	for _, side := range []struct {
		name   string
		insert func(int) error
	}{{"sink", f.sinkInsert}, {"raw", f.raw.insert}} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := f.truncate(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := side.insert(0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
