package clickhouse

import (
	"context"
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

// rawColumns are the samples as prebuilt typed slices, as a program that
// does not start from Arrow would hand them to clickhouse-go.
type rawColumns map[string]any

func newRawColumns(rows []schemas.Sample, l schemas.Layout) rawColumns {
	n := len(rows)
	times, secs, fracs := make([]time.Time, n), make([]int64, n), make([]uint32, n)
	device, metric, keys, source := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	kind := make([]uint8, n)
	u64, f64, str := make([]*uint64, n), make([]*float64, n), make([]*string, n)
	for i := range rows {
		s := &rows[i]
		times[i] = time.Unix(0, s.TS).UTC()
		secs[i], fracs[i] = splitNanos(s.TS)
		device[i], metric[i], keys[i], source[i], kind[i] = s.Device, s.Metric, s.Keys, s.Source, uint8(s.Kind)
		switch s.Kind {
		case schemas.KindCounter:
			u64[i] = &s.U64
		case schemas.KindGauge:
			f64[i] = &s.F64
		default:
			str[i] = &s.Str
		}
	}
	c := rawColumns{"ts": times, "device": device, "metric": metric, "keys": keys, "kind": kind,
		"value_u64": u64, "value_f64": f64, "value_str": str, "source": source}
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
// layout. It needs no server.
func BenchmarkAppendSamples(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs, rows, size := benchData(b, mem, benchRows)
	defer release(recs)
	for _, l := range []schemas.Layout{schemas.LayoutLegacy, schemas.LayoutModern} {
		raw := newRawColumns(rows, l)
		b.Run(l.String()+"/arrow", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			sc := new(sampleScratch)
			for b.Loop() {
				blk, cols := newTestBlock(b, schemas.TableSamples, l)
				if err := appendSamples(blk, cols, sc, recs, l); err != nil {
					b.Fatal(err)
				}
				sc.reset()
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(l.String()+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				blk, cols := newTestBlock(b, schemas.TableSamples, l)
				raw.appendTo(b, blk, cols)
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
