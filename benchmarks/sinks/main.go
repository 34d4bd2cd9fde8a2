// Command sinks benchmarks the ClickHouse and Parquet sinks, each next to a
// baseline measured in the same run on the same rows:
//
//   - ClickHouse: rows/s of clickhouse.Sink.InsertSamples (columns straight
//     from Arrow records) against a raw clickhouse-go columnar batch fed
//     prebuilt typed Go slices of the same rows, into a table of the same
//     layout on the same server. Rounds alternate which goes first; the
//     median round of each side and the median of the per-round ratios
//     are reported (--min-ratio makes a low ratio an error).
//   - Parquet: rows per CPU-second of parquet.Writer (Add of Arrow messages,
//     then Flush: sort by series and time, encode, zstd, fsync, rename)
//     against a plain parquet-go GenericWriter writing the same rows, as
//     prebuilt structs already in the same order, with the same codec and
//     encodings, to a fsynced file; and the bytes each writes per sample.
//
// The data are interface counters of a simulated fleet (five counters per
// interface, one Kafka message per device and poll).
//
//	go run ./benchmarks/sinks                     # both, ClickHouse at $TK_CLICKHOUSE
//	go run ./benchmarks/sinks --clickhouse ""     # Parquet only
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/parquet-go/parquet-go"

	"github.com/telekernel/telekernel/benchmarks/internal/benchkit"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
)

func main() {
	var (
		chAddr   = flag.String("clickhouse", benchkit.EnvOr("TK_CLICKHOUSE", "127.0.0.1:9000"), "ClickHouse native address; empty skips the ClickHouse benchmark")
		chRows   = flag.Int("ch-rows", 100_000, "rows per ClickHouse INSERT")
		chRounds = flag.Int("ch-rounds", 7, "ClickHouse rounds per side")
		chPairs  = flag.Int("ch-pairs", 12, "ClickHouse INSERTs per side in one round, whose times are summed; even, so that each side goes first equally often")
		minRatio = flag.Float64("min-ratio", 0, "exit 1 when the ClickHouse sink's median per-round ratio to raw is below this (0: no check)")
		pqRows   = flag.Int("pq-rows", 1_000_000, "rows per Parquet flush")
		pqRounds = flag.Int("pq-rounds", 5, "Parquet rounds per side")
		dir      = flag.String("dir", "", "folder for the Parquet files (default: a temporary folder)")
	)
	flag.Parse()
	if *chAddr != "" {
		r, err := benchClickHouse(*chAddr, *chRows, *chRounds, *chPairs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "clickhouse benchmark:", err)
			os.Exit(1)
		}
		fmt.Print(r.report())
		if r.ratio < *minRatio {
			fmt.Fprintf(os.Stderr, "clickhouse benchmark: the sink's median ratio %.2f× is below --min-ratio %.2f×\n", r.ratio, *minRatio)
			os.Exit(1)
		}
	}
	if *pqRounds < 1 {
		return
	}
	if err := benchParquet(*dir, *pqRows, *pqRounds); err != nil {
		fmt.Fprintln(os.Stderr, "parquet benchmark:", err)
		os.Exit(1)
	}
}

// fleet returns about n interface-counter samples as Arrow records of one
// device's poll each (devices × ifaces × 5 counters rows), and as rows.
func fleet(mem memory.Allocator, n int) ([]arrow.RecordBatch, []schemas.Sample) {
	const devices, ifaces = 100, 20
	counters := []string{"in-octets", "out-octets", "in-pkts", "out-pkts", "in-errors"}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixNano()
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	var recs []arrow.RecordBatch
	var rows []schemas.Sample
	for poll := 0; len(rows) < n; poll++ {
		for d := 0; d < devices && len(rows) < n; d++ {
			dev := fmt.Sprintf("router-%03d.pop%d", d, d%7)
			ts := start + int64(poll)*int64(10*time.Second) + int64(d)*int64(time.Millisecond)
			for i := range ifaces {
				for c, name := range counters {
					s := schemas.Sample{TS: ts + int64(i*5+c)*1_003, Device: dev, Metric: "/interfaces/interface/state/counters/" + name,
						Keys: fmt.Sprintf("name=Ethernet%d", i), Kind: schemas.KindCounter, Source: schemas.SourceGNMI,
						U64: uint64(d+1)<<40 + uint64(poll)*uint64((i+1)*(c+1))*12_500 + uint64(poll*7%13)}
					b.Append(&s)
					rows = append(rows, s)
				}
			}
			recs = append(recs, b.NewRecord())
		}
	}
	return recs, rows
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// allocated returns the bytes allocated on the heap so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

type round struct {
	wall, cpu time.Duration
	alloc     uint64
}

func measure(f func() error) (round, error) {
	runtime.GC()
	a, c, t := allocated(), benchkit.CPU(), time.Now()
	err := f()
	return round{wall: time.Since(t), cpu: benchkit.CPU() - c, alloc: allocated() - a}, err
}

// median returns the round with the median value of key.
func median(rs []round, key func(round) time.Duration) round {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b round) int { return cmp.Compare(key(a), key(b)) })
	return s[len(s)/2]
}

func wall(r round) time.Duration  { return r.wall }
func cpuOf(r round) time.Duration { return r.cpu }

// measureRounds measures a and b once each per round for n rounds, calling
// before (when not nil) ahead of each measurement. With alternate, odd
// rounds measure b first, so that what one side leaves behind (background
// merges, dirty pages) weighs on both alike.
func measureRounds(n int, alternate bool, before func() error, a, b func(round int) error) (ra, rb []round, err error) {
	for i := range n {
		for k := range 2 {
			if before != nil {
				if err := before(); err != nil {
					return nil, nil, err
				}
			}
			first := (k == 0) != (alternate && i%2 == 1)
			f, into := a, &ra
			if !first {
				f, into = b, &rb
			}
			r, err := measure(func() error { return f(i) })
			if err != nil {
				return nil, nil, err
			}
			*into = append(*into, r)
		}
	}
	return ra, rb, nil
}

// chResult is what the ClickHouse benchmark measured: the rounds of each
// side and the median of the per-round ratios.
type chResult struct {
	version         schemas.ServerVersion
	layout          schemas.Layout
	rows            int // rows per INSERT
	pairs           int // INSERTs per side and round
	sinkRounds, raw []round
	ratios          []float64 // sink rows/s over raw rows/s, per round
	ratio           float64   // their median
	cpuRatio        float64   // client CPU of all the sink's INSERTs over all the raw ones
}

// chFixture is what both sides of the ClickHouse benchmark insert into and
// from: the sink with its database, the raw inserter with its own, and the
// same rows as Arrow records (the sink's input) and as prebuilt typed
// slices (the raw side's).
type chFixture struct {
	ctx     context.Context
	sink    *clickhouse.Sink
	raw     *rawInserter
	recs    []arrow.RecordBatch
	rows    int
	version schemas.ServerVersion
	layout  schemas.Layout
}

// newCHFixture creates two databases of the sink's tables on the server at
// addr and builds about n rows for each side. Close drops them.
func newCHFixture(addr string, n int) (_ *chFixture, err error) {
	ctx := context.Background()
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	db := "tk_bench_" + hex.EncodeToString(id)
	f := &chFixture{ctx: ctx}
	var rows []schemas.Sample
	f.recs, rows = fleet(memory.NewGoAllocator(), n)
	f.rows = len(rows)
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	if f.sink, err = clickhouse.New(ctx, clickhouse.Config{Addr: []string{addr}, Database: db}); err != nil {
		return nil, err
	}
	if err := f.sink.EnsureTables(ctx); err != nil {
		return nil, err
	}
	if f.version, err = f.sink.ServerVersion(); err != nil {
		return nil, err
	}
	f.layout = schemas.ChooseLayout(f.version)
	f.raw, err = newRawInserter(ctx, addr, db+"_raw", f.version, f.layout, rows)
	return f, err
}

// sinkInsert inserts the rows through the sink's InsertSamples.
func (f *chFixture) sinkInsert(int) error {
	_, err := f.sink.InsertSamples(f.ctx, f.recs)
	return err
}

// truncate empties both sides' tables, so that background merges of
// earlier inserts do not weigh on the one measured next.
func (f *chFixture) truncate() error {
	for _, d := range []string{f.sink.Database(), f.raw.db} {
		if err := f.raw.conn.Exec(f.ctx, "TRUNCATE TABLE "+d+".samples"); err != nil {
			return err
		}
	}
	return nil
}

// checkRows returns an error unless each side's table holds the rows of
// one insert: a side that dropped rows would be timed for less work.
func (f *chFixture) checkRows() error {
	for _, d := range []string{f.sink.Database(), f.raw.db} {
		var n uint64
		if err := f.raw.conn.QueryRow(f.ctx, "SELECT count() FROM "+d+".samples").Scan(&n); err != nil {
			return err
		}
		if n != uint64(f.rows) {
			return fmt.Errorf("%s.samples holds %d rows after one insert of %d", d, n, f.rows)
		}
	}
	return nil
}

// close drops both databases and releases the records.
func (f *chFixture) close() {
	if f.raw != nil {
		f.raw.close()
	}
	if f.sink != nil {
		_ = f.sink.DropDatabase(f.ctx)
		f.sink.Close()
	}
	release(f.recs)
}

// benchClickHouse inserts n rows at a time through the sink and through a
// raw clickhouse-go batch, pairs alternating which goes first; a round is
// pairs such inserts per side (an even number: each side first in half of
// them), its time their sum. Each round's ratio
// compares inserts measured next to each other, so load from outside that
// drifts over the run weighs on both sides of a ratio alike.
func benchClickHouse(addr string, n, rounds, pairs int) (chResult, error) {
	// The INSERT measured second after the truncation is faster on this
	// server (measured: per-round ratios by who went first differ by
	// 20-40 %), so a round must hold both orders equally often.
	if pairs < 2 || pairs%2 != 0 {
		return chResult{}, fmt.Errorf("ch-pairs: %d must be even and at least 2, so that each side goes first equally often", pairs)
	}
	f, err := newCHFixture(addr, n)
	if err != nil {
		return chResult{}, err
	}
	defer f.close()
	// Warm up both (connections, table parts).
	if err := f.sinkInsert(0); err != nil {
		return chResult{}, err
	}
	if err := f.raw.insert(0); err != nil {
		return chResult{}, err
	}
	if err := f.checkRows(); err != nil {
		return chResult{}, err
	}
	r := chResult{version: f.version, layout: f.layout, rows: f.rows, pairs: pairs}
	sinkOnes, rawOnes, err := measureRounds(rounds*pairs, true, f.truncate, f.sinkInsert, f.raw.insert)
	if err != nil {
		return chResult{}, err
	}
	r.sinkRounds, r.raw = sumRounds(sinkOnes, pairs), sumRounds(rawOnes, pairs)
	for i := range r.sinkRounds {
		r.ratios = append(r.ratios, r.raw[i].wall.Seconds()/r.sinkRounds[i].wall.Seconds())
	}
	sorted := slices.Sorted(slices.Values(r.ratios))
	r.ratio = sorted[len(sorted)/2]
	r.cpuRatio = totalCPU(r.sinkRounds).Seconds() / totalCPU(r.raw).Seconds()
	return r, nil
}

// totalCPU returns the CPU time of rs together.
func totalCPU(rs []round) time.Duration {
	var sum time.Duration
	for _, r := range rs {
		sum += r.cpu
	}
	return sum
}

// sumRounds sums each run of k consecutive rounds of rs into one.
func sumRounds(rs []round, k int) []round {
	var out []round
	for i := 0; i+k <= len(rs); i += k {
		var sum round
		for _, r := range rs[i : i+k] {
			sum.wall, sum.cpu, sum.alloc = sum.wall+r.wall, sum.cpu+r.cpu, sum.alloc+r.alloc
		}
		out = append(out, sum)
	}
	return out
}

// report formats r: the median round of each side and the median ratio.
func (r chResult) report() string {
	var b strings.Builder
	sm, rm := median(r.sinkRounds, wall), median(r.raw, wall)
	all := float64(r.rows * r.pairs)
	rate := func(x round) float64 { return all / x.wall.Seconds() }
	fmt.Fprintf(&b, "clickhouse %s (%s layout), %d rows per INSERT, %d rounds of %d alternating INSERTs per side:\n", r.version, r.layout, r.rows, len(r.ratios), r.pairs)
	fmt.Fprintf(&b, "  raw clickhouse-go columnar batch : %10.0f rows/s  %6.1f alloc B/row  (client CPU %v per INSERT)  median round\n", rate(rm), float64(rm.alloc)/all, (rm.cpu / time.Duration(r.pairs)).Round(time.Millisecond))
	fmt.Fprintf(&b, "  telekernel sink (from Arrow)     : %10.0f rows/s  %6.1f alloc B/row  (client CPU %v per INSERT)  median round\n", rate(sm), float64(sm.alloc)/all, (sm.cpu / time.Duration(r.pairs)).Round(time.Millisecond))
	ratios := make([]string, len(r.ratios))
	for i, x := range r.ratios {
		ratios[i] = fmt.Sprintf("%.2f", x)
	}
	fmt.Fprintf(&b, "  sink / raw per round             : %s\n", strings.Join(ratios, " "))
	fmt.Fprintf(&b, "  sink / raw                       : %.2f× rows/s (median of the per-round ratios; client CPU per row %.2f×, all INSERTs)\n", r.ratio, r.cpuRatio)
	return b.String()
}

// rawInserter is the ClickHouse baseline: a plain clickhouse-go connection
// and a samples table of the sink's layout in a database of its own.
type rawInserter struct {
	ctx  context.Context
	conn ch.Conn
	db   string
	cols []string
	raw  map[string]any
	stmt string
}

// newRawInserter creates the database db with the sink's tables for server
// version v and prepares rows as typed columns.
func newRawInserter(ctx context.Context, addr, db string, v schemas.ServerVersion, layout schemas.Layout, rows []schemas.Sample) (*rawInserter, error) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Compression: &ch.Compression{Method: ch.CompressionLZ4}})
	if err != nil {
		return nil, err
	}
	r := &rawInserter{ctx: ctx, conn: conn, db: db}
	for _, stmt := range schemas.ClickHouseDDL(db, v, schemas.DDLOptions{}) {
		if err := conn.Exec(ctx, stmt); err != nil {
			r.close()
			return nil, err
		}
	}
	r.cols = schemas.ClickHouseColumns(schemas.TableSamples, layout)
	r.raw = rawColumns(rows, layout)
	quoted := make([]string, len(r.cols))
	for i, c := range r.cols {
		quoted[i] = schemas.QuoteIdent(c)
	}
	r.stmt = fmt.Sprintf("INSERT INTO %s.samples (%s)", db, strings.Join(quoted, ", "))
	return r, nil
}

// insert sends every row in one columnar batch.
func (r *rawInserter) insert(int) error {
	b, err := r.conn.PrepareBatch(r.ctx, r.stmt)
	if err != nil {
		return err
	}
	defer b.Close()
	for i, c := range r.cols {
		if err := b.Column(i).Append(r.raw[c]); err != nil {
			return fmt.Errorf("column %s: %w", c, err)
		}
	}
	return b.Send()
}

// close drops the database and closes the connection.
func (r *rawInserter) close() {
	_ = r.conn.Exec(r.ctx, "DROP DATABASE IF EXISTS "+r.db)
	r.conn.Close()
}

// rawColumns are the rows as the typed slices a program that does not start
// from Arrow hands to clickhouse-go, built before the clock starts, in the
// cheapest forms the driver takes: Unix seconds as []int64 for DateTime,
// []uint64 for a Nullable column without nulls.
func rawColumns(rows []schemas.Sample, l schemas.Layout) map[string]any {
	n := len(rows)
	times, secs, fracs := make([]time.Time, n), make([]int64, n), make([]uint32, n)
	device, metric, keys, source := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	kind := make([]uint8, n)
	u64, f64, str := make([]*uint64, n), make([]*float64, n), make([]*string, n)
	plainU64, allCounters := make([]uint64, n), true
	for i := range rows {
		s := &rows[i]
		times[i] = time.Unix(0, s.TS).UTC()
		secs[i] = s.TS / 1e9
		fracs[i] = uint32(s.TS % 1e9)
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
	c := map[string]any{"ts": times, "device": device, "metric": metric, "keys": keys, "kind": kind,
		"value_u64": u64, "value_f64": f64, "value_str": str, "source": source}
	if allCounters {
		c["value_u64"] = plainU64
	}
	if l == schemas.LayoutLegacy {
		c["ts"], c["ts_frac"] = secs, fracs
	}
	return c
}

// plainRow is the baseline's row: the same columns, types and encodings as
// the sink's files.
type plainRow = parquet.FileRow

func benchParquet(dir string, n, rounds int) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "tk-bench-parquet-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	mem := memory.NewGoAllocator()
	recs, rows := fleet(mem, n)
	defer release(recs)
	plain := plainRows(rows)
	var plainBytes int64
	plainWrite := func(i int) (err error) {
		plainBytes, err = writePlain(filepath.Join(dir, fmt.Sprintf("plain-%d.parquet", i)), plain)
		return err
	}

	w, err := parquet.New(parquet.Config{Root: filepath.Join(dir, "lake")})
	if err != nil {
		return err
	}
	var sinkBytes int64
	offset := int64(0)
	sinkWrite := func(int) error {
		for _, rec := range recs {
			if err := w.Add("tk.samples", 0, offset, rec); err != nil {
				return err
			}
			offset++
		}
		files, err := w.Flush(context.Background())
		if err != nil {
			return err
		}
		sinkBytes = 0
		for _, f := range files {
			sinkBytes += f.Bytes
		}
		return nil
	}

	if err := sinkWrite(0); err != nil { // warm-up
		return err
	}
	if err := plainWrite(-1); err != nil {
		return err
	}
	sinkRounds, plainRounds, err := measureRounds(rounds, false, nil, sinkWrite, plainWrite)
	if err != nil {
		return err
	}
	sm, pm := median(sinkRounds, cpuOf), median(plainRounds, cpuOf)
	perCore := func(r round) float64 { return float64(len(rows)) / r.cpu.Seconds() }
	perWall := func(r round) float64 { return float64(len(rows)) / r.wall.Seconds() }
	fmt.Printf("parquet, %d counter rows per flush (zstd, µs timestamps), median of %d rounds each by CPU time:\n", len(rows), rounds)
	fmt.Printf("  plain parquet-go GenericWriter   : %10.0f rows/CPU-s  %10.0f rows/s wall  %5.2f B/sample  %6.1f alloc B/row\n",
		perCore(pm), perWall(pm), float64(plainBytes)/float64(len(rows)), float64(pm.alloc)/float64(len(rows)))
	fmt.Printf("  telekernel sink (Add + Flush)    : %10.0f rows/CPU-s  %10.0f rows/s wall  %5.2f B/sample  %6.1f alloc B/row\n",
		perCore(sm), perWall(sm), float64(sinkBytes)/float64(len(rows)), float64(sm.alloc)/float64(len(rows)))
	fmt.Printf("  sink / plain                     : %.2f× per core\n", perCore(sm)/perCore(pm))
	return nil
}

// plainRows returns the baseline's input: structs in the order the sink
// writes (series, then time), prepared before the clock starts.
func plainRows(rows []schemas.Sample) []plainRow {
	plain := make([]plainRow, len(rows))
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := &rows[a], &rows[b]
		return cmp.Or(strings.Compare(x.Device, y.Device), strings.Compare(x.Metric, y.Metric),
			strings.Compare(x.Keys, y.Keys), cmp.Compare(x.TS, y.TS))
	})
	for k, i := range order {
		s := &rows[i]
		plain[k] = plainRow{TS: s.TS / 1000, Device: s.Device, Metric: s.Metric, Keys: s.Keys, Kind: uint8(s.Kind), ValueU64: &s.U64, Source: s.Source}
	}
	return plain
}

// writePlain writes rows to a new file at path with a plain parquet-go
// GenericWriter (the sink's codec, page version and row group size),
// fsyncs it and returns its size.
func writePlain(path string, rows []plainRow) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	size, err := writePlainTo(f, rows)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return size, err
}

func writePlainTo(f *os.File, rows []plainRow) (int64, error) {
	w := pq.NewGenericWriter[plainRow](f, pq.Compression(&pq.Zstd), pq.DataPageVersion(1),
		pq.MaxRowsPerRowGroup(parquet.DefaultRowGroupRows))
	for start := 0; start < len(rows); start += 4096 {
		if _, err := w.Write(rows[start:min(start+4096, len(rows))]); err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
