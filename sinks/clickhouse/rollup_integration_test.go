package clickhouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// rollupRow is one series' bucket of a rollup, read with the -Merge
// combinators as docs/analysts.md does.
type rollupRow struct {
	device        string
	samples       uint64
	min, avg, max float64
	q             []float64 // p50, p90, p95, p99
}

// readRollup reads the gauge columns of metricTemp's buckets at bucket
// from table (samples_1m or samples_1h), one row per device. It reads the
// legacy layout's plain Float64 results (the layout of the 18.16 test
// server); the modern layout's are checked by TestModernLayoutChDB.
func readRollup(t *testing.T, s *Sink, table string, bucket time.Time) map[string]rollupRow {
	t.Helper()
	q := fmt.Sprintf(`SELECT device, uniqExactMerge(samples), minMerge(min_f64), avgMerge(avg_f64), maxMerge(max_f64),
    quantilesTDigestMerge(%s)(q_f64)
FROM %s.%s
WHERE metric = ? AND bucket = toDateTime(?, 'UTC')
GROUP BY device
ORDER BY device`, schemas.RollupQuantiles, s.db, table)
	rows, err := s.conn.Query(context.Background(), q, metricTemp, bucket.Format(time.DateTime))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]rollupRow{}
	for rows.Next() {
		var r rollupRow
		if err := rows.Scan(&r.device, &r.samples, &r.min, &r.avg, &r.max, &r.q); err != nil {
			t.Fatal(err)
		}
		out[r.device] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// nonFiniteMinute returns a minute of a temperature gauge: on edge1 six
// finite readings and one NaN and one +Inf; on edge2 only a NaN and a
// -Inf. It also returns edge1's finite readings.
func nonFiniteMinute(minute time.Time) (rows []schemas.Sample, finite []float64) {
	finite = []float64{40.5, 41, 42.25, 39.75, 43, 41.5}
	g := func(dev string, sec int, v float64) schemas.Sample {
		return schemas.Sample{TS: minute.Add(time.Duration(sec) * time.Second).UnixNano(), Device: dev, Metric: metricTemp,
			Keys: "name=CPU0", Kind: schemas.KindGauge, F64: v, Source: schemas.SourceGNMI}
	}
	for i, v := range finite {
		rows = append(rows, g("edge1", i*8, v))
	}
	rows = append(rows, g("edge1", 50, math.NaN()), g("edge1", 55, math.Inf(1)),
		g("edge2", 10, math.NaN()), g("edge2", 20, math.Inf(-1)))
	return rows, finite
}

// checkNonFiniteRollup checks the rollups of nonFiniteMinute's rows: both
// rollups count every reading, aggregate edge1's finite ones only, and show
// edge2's minute, which has no finite reading, as a bucket without gauge
// values (on the legacy layout min and max 0, avg and the quantiles NaN).
func checkNonFiniteRollup(t *testing.T, s *Sink, minute time.Time, finite []float64) {
	t.Helper()
	mean := 0.0
	for _, v := range finite {
		mean += v
	}
	mean /= float64(len(finite))
	lo, hi := slices.Min(finite), slices.Max(finite)
	for _, rc := range []struct {
		table  string
		bucket time.Time
	}{{schemas.TableSamples1m, minute}, {schemas.TableSamples1h, minute.Truncate(time.Hour)}} {
		got := readRollup(t, s, rc.table, rc.bucket)
		e1, e2 := got["edge1"], got["edge2"]
		t.Logf("%s edge1: samples %d, min %v, avg %v, max %v, quantiles %v", rc.table, e1.samples, e1.min, e1.avg, e1.max, e1.q)
		t.Logf("%s edge2: samples %d, min %v, avg %v, max %v, quantiles %v", rc.table, e2.samples, e2.min, e2.avg, e2.max, e2.q)
		if e1.samples != uint64(len(finite)+2) || e2.samples != 2 {
			t.Errorf("%s: samples edge1 %d, edge2 %d; want %d and 2 (every reading counts)", rc.table, e1.samples, e2.samples, len(finite)+2)
		}
		if e1.min != lo || e1.max != hi || math.Abs(e1.avg-mean) > 1e-9 {
			t.Errorf("%s edge1: min %v, avg %v, max %v; want %v, %v, %v (the finite readings only)", rc.table, e1.min, e1.avg, e1.max, lo, mean, hi)
		}
		if len(e1.q) != 4 {
			t.Fatalf("%s edge1: %d quantiles, want 4", rc.table, len(e1.q))
		}
		for i, q := range e1.q {
			if math.IsNaN(q) || q < lo || q > hi {
				t.Errorf("%s edge1: quantile %d is %v, want a value within the finite readings [%v, %v]", rc.table, i, q, lo, hi)
			}
		}
		if e2.min != 0 || e2.max != 0 || !math.IsNaN(e2.avg) {
			t.Errorf("%s edge2 (no finite reading): min %v, avg %v, max %v; want 0, NaN, 0 as in a bucket without gauge values", rc.table, e2.min, e2.avg, e2.max)
		}
	}
}

// TestIntegrationRollupNonFinite inserts through the sink a minute of a
// gauge with finite readings, a NaN and a +Inf (and, on another device, a
// minute of only NaN and -Inf), and reads the rollups as docs/analysts.md
// does: min, avg, max and the quantiles come from the finite readings, the
// sample count from all of them, and the samples table keeps every reading
// as it came.
func TestIntegrationRollupNonFinite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	minute := testDay.Add(10 * time.Hour)
	rows, finite := nonFiniteMinute(minute)
	recs := records(mem, rows, 3)
	defer release(recs)
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Fatal(err)
	}
	checkNonFiniteRollup(t, s, minute, finite)

	var nan, inf uint64
	if err := s.conn.QueryRow(ctx, "SELECT countIf(isNaN(value_f64)), countIf(isInfinite(value_f64)) FROM "+s.db+".samples").Scan(&nan, &inf); err != nil {
		t.Fatal(err)
	}
	if nan != 2 || inf != 2 {
		t.Errorf("samples holds %d NaN and %d infinite readings, want 2 and 2 (kept as they came)", nan, inf)
	}
}
