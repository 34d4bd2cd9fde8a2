package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// benchRows is the number of rows per benchmark operation: one insert of
// the size ClickHouse likes (10k-100k rows).
const benchRows = 50_000

// benchData returns about n samples, as Arrow records of 10k rows and as
// rows, and the logical bytes per row set (values plus string bytes).
func benchData(b *testing.B, mem memory.Allocator, n int) ([]arrow.RecordBatch, []schemas.Sample, int64) {
	b.Helper()
	rows := fleet(16, 8, n/(16*8+16+8))
	if len(rows) > n {
		rows = rows[:n]
	}
	var size int64
	for _, s := range rows {
		size += 8 + 1 + 8 + int64(len(s.Device)+len(s.Metric)+len(s.Keys)+len(s.Source)+len(s.Str))
	}
	return records(mem, rows, 10_000), rows, size
}

// counterPolls returns about n interface-counter samples as Arrow records
// of one device's poll each (100 rows: 20 interfaces × 5 counters), the
// shape of the collectors' messages and of go run ./benchmarks/sinks, and
// as rows.
func counterPolls(mem memory.Allocator, n int) ([]arrow.RecordBatch, []schemas.Sample) {
	counters := []string{"in-octets", "out-octets", "in-pkts", "out-pkts", "in-errors"}
	rows := make([]schemas.Sample, 0, n)
	for poll := 0; len(rows) < n; poll++ {
		for d := 0; d < 100 && len(rows) < n; d++ {
			dev := fmt.Sprintf("router-%03d.pop%d", d, d%7)
			for i := range 100 {
				rows = append(rows, schemas.Sample{TS: testDay.UnixNano() + int64(poll)*1e10 + int64(d*1e6+i*1_003),
					Device: dev, Metric: "/interfaces/interface/state/counters/" + counters[i%5], Keys: fmt.Sprintf("name=Ethernet%d", i/5),
					Kind: schemas.KindCounter, Source: schemas.SourceGNMI, U64: uint64(d+1)<<40 + uint64(poll*(i+1))*12_500})
			}
		}
	}
	return records(mem, rows, 100), rows
}

// rawColumns are the samples as prebuilt typed slices, as a program that
// does not start from Arrow would hand them to clickhouse-go: the raw side
// of go run ./benchmarks/sinks (plain []uint64 values when every row is a
// counter).
type rawColumns map[string]any

func newRawColumns(rows []schemas.Sample, l schemas.Layout) rawColumns {
	n := len(rows)
	times, secs, fracs := make([]time.Time, n), make([]int64, n), make([]uint32, n)
	device, metric, keys, source := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	kind := make([]uint8, n)
	u64, f64, str := make([]*uint64, n), make([]*float64, n), make([]*string, n)
	plainU64, allCounters := make([]uint64, n), true
	for i := range rows {
		s := &rows[i]
		times[i] = time.Unix(0, s.TS).UTC()
		secs[i], fracs[i] = splitNanos(s.TS)
		device[i], metric[i], keys[i], source[i], kind[i] = s.Device, s.Metric, s.Keys, s.Source, uint8(s.Kind)
		switch s.Kind {
		case schemas.KindCounter:
			u64[i], plainU64[i] = &s.U64, s.U64
		case schemas.KindGauge:
			f64[i], allCounters = &s.F64, false
		default:
			str[i], allCounters = &s.Str, false
		}
	}
	c := rawColumns{"ts": times, "device": device, "metric": metric, "keys": keys, "kind": kind,
		"value_u64": u64, "value_f64": f64, "value_str": str, "source": source}
	if allCounters {
		c["value_u64"] = plainU64
	}
	if l == schemas.LayoutLegacy {
		c["ts"], c["ts_frac"] = secs, fracs
	}
	return c
}

func (c rawColumns) appendTo(b *testing.B, dst columns, cols []string) {
	for i, name := range cols {
		if err := dst.Column(i).Append(c[name]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsertSamples inserts benchRows samples per operation into the
// test server: "arrow" through InsertSamples from Arrow records, "raw"
// through a plain clickhouse-go batch fed prebuilt typed slices of the same
// rows — the baseline, measured in the same run.
func BenchmarkInsertSamples(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs, rows, size := benchData(b, mem, benchRows)
	defer release(recs)
	s := newTestSink(b, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		b.Fatal(err)
	}
	l, err := s.layout(ctx, schemas.TableSamples)
	if err != nil {
		b.Fatal(err)
	}
	cols := schemas.ClickHouseColumns(schemas.TableSamples, l)
	raw := newRawColumns(rows, l)
	truncate := func() {
		if err := s.conn.Exec(ctx, "TRUNCATE TABLE "+s.db+".samples"); err != nil {
			b.Fatal(err)
		}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Logf("server layout %s, %d rows per op", l, len(rows))

	b.Run("arrow", func(b *testing.B) {
		truncate()
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			if _, err := s.InsertSamples(ctx, recs); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("raw", func(b *testing.B) {
		truncate()
		b.ReportAllocs()
		b.SetBytes(size)
		stmt := insertStatement(s.db, schemas.TableSamples, cols)
		for b.Loop() {
			batch, err := s.conn.PrepareBatch(ctx, stmt)
			if err != nil {
				b.Fatal(err)
			}
			raw.appendTo(b, batch, cols)
			if err := batch.Send(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}

// BenchmarkAppendSamples measures only the client side: filling the
// driver's columns from Arrow records versus from prebuilt typed slices, per
// layout and data shape: "mixed" (all kinds, records of 10 000 rows) and
// "polls" (go run ./benchmarks/sinks's rows: 100 000 counters in records of
// one device's poll, 100 rows). It needs no server.
func BenchmarkAppendSamples(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs, rows, size := benchData(b, mem, benchRows)
	defer release(recs)
	polls, pollRows := counterPolls(mem, 100_000)
	defer release(polls)
	for _, l := range []schemas.Layout{schemas.LayoutLegacy, schemas.LayoutModern} {
		benchAppend(b, l.String()+"/mixed", l, recs, rows, size)
		benchAppend(b, l.String()+"/polls", l, polls, pollRows, 0)
	}
}

// benchAppend runs the arrow and raw sides of BenchmarkAppendSamples on
// one data shape.
func benchAppend(b *testing.B, name string, l schemas.Layout, recs []arrow.RecordBatch, rows []schemas.Sample, size int64) {
	raw := newRawColumns(rows, l)
	b.Run(name+"/arrow", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		sc := new(sampleScratch)
		for b.Loop() {
			// What InsertSamples does before sending.
			if _, err := checkSamples(recs); err != nil {
				b.Fatal(err)
			}
			if l == schemas.LayoutLegacy {
				if err := checkLegacyRange(recs); err != nil {
					b.Fatal(err)
				}
			}
			blk, cols := newTestBlock(b, schemas.TableSamples, l)
			if err := appendSamples(blk, cols, sc, recs, l); err != nil {
				b.Fatal(err)
			}
			sc.reset()
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run(name+"/raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			blk, cols := newTestBlock(b, schemas.TableSamples, l)
			raw.appendTo(b, blk, cols)
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
