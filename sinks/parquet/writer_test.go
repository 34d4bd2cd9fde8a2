package parquet

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/parquet-go/parquet-go"

	"github.com/telekernel/telekernel/internal/intmath"
	"github.com/telekernel/telekernel/schemas"
)

const topic = "tk.samples"

// t0 is 2026-11-23 10:00:00 UTC plus a sub-microsecond part that the
// default unit drops.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixNano()

// record builds a samples record from ss with mem. The caller releases it.
func record(t testing.TB, mem memory.Allocator, ss []schemas.Sample) arrow.RecordBatch {
	t.Helper()
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	for i := range ss {
		b.Append(&ss[i])
	}
	return b.NewRecord()
}

// add builds a record from ss with a checked allocator, adds it, releases
// it, and checks that nothing the writer does leaks or frees Arrow memory.
func add(t testing.TB, w *Writer, partition int32, offset int64, ss []schemas.Sample) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rec := record(t, mem, ss)
	if err := w.Add(topic, partition, offset, rec); err != nil {
		t.Fatalf("Add(%d, %d): %v", partition, offset, err)
	}
	rec.Release()
	mem.AssertSize(t, 0)
}

func newWriter(t testing.TB, cfg Config) *Writer {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func flush(t testing.TB, w *Writer) []File {
	t.Helper()
	files, err := w.Flush(context.Background())
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n := w.BufferedRows(); n != 0 {
		t.Fatalf("BufferedRows after Flush = %d, want 0", n)
	}
	assertNoTempFiles(t, w.Config().Root)
	for _, f := range files {
		checkColumnPaths(t, f.Path)
	}
	return files
}

// checkColumnPaths checks every column chunk's path_in_schema, which
// parquet-go's Writer.Reset once dropped.
func checkColumnPaths(t testing.TB, path string) {
	t.Helper()
	f, pf, err := open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, rg := range pf.Metadata().RowGroups {
		for j, c := range rg.Columns {
			if got := strings.Join(c.MetaData.PathInSchema, "."); got != colNames[j] {
				t.Errorf("%s row group %d column %d: path_in_schema %q, want %q", path, i, j, got, colNames[j])
			}
		}
	}
}

func assertNoTempFiles(t testing.TB, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
}

// mixed returns samples of every kind for two devices, with values that a
// float64 or a lossy cast would break.
func mixed(ts int64) []schemas.Sample {
	const in = "/interfaces/interface/state/counters/in-octets"
	return []schemas.Sample{
		{TS: ts + 999, Device: "r2", Metric: in, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 1<<63 + 12345, Source: schemas.SourceGNMI},
		{TS: ts + 1_000_001, Device: "r1", Metric: in, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: math.MaxUint64, Source: schemas.SourceSNMP},
		{TS: ts, Device: "r1", Metric: in, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 1<<53 + 1, Source: schemas.SourceSNMP},
		{TS: ts + 7, Device: "r1", Metric: "/components/component/state/temperature/instant", Keys: "name=CPU0", Kind: schemas.KindGauge, F64: 41.25, Source: schemas.SourceGNMI},
		{TS: ts + 8, Device: "r1", Metric: "/components/component/power-supply/state/output-power", Keys: "name=PSU1", Kind: schemas.KindGauge, F64: math.Inf(-1), Source: schemas.SourceGNMI},
		{TS: ts + 9, Device: "r1", Metric: "/system/state/hostname", Keys: "", Kind: schemas.KindState, Str: "rtr-1.example ünïcode", Source: schemas.SourceGNMI},
		{TS: ts + 10, Device: "r1", Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet2", Kind: schemas.KindState, Str: "", Source: schemas.SourceSim},
		{TS: ts + 11, Device: "r2", Metric: in, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 0, Source: schemas.SourceGNMI},
	}
}

// want returns ss as ReadSamples returns them: sorted by (device, metric,
// keys, ts), ties in input order, then ts truncated to unit.
func want(ss []schemas.Sample, unit string) []schemas.Sample {
	out := slices.Clone(ss)
	slices.SortStableFunc(out, func(a, b schemas.Sample) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), strings.Compare(a.Metric, b.Metric),
			strings.Compare(a.Keys, b.Keys), cmp.Compare(a.TS, b.TS))
	})
	for i := range out {
		if unit != TimestampNanos {
			out[i].TS = intmath.FloorDiv(out[i].TS, 1000) * 1000
		}
	}
	return out
}

func read(t testing.TB, path string) []schemas.Sample {
	t.Helper()
	got, err := ReadSamples(path)
	if err != nil {
		t.Fatalf("ReadSamples: %v", err)
	}
	return got
}

func equalSamples(t testing.TB, got, want []schemas.Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		// Compare floats by bits: exact, and NaN-safe.
		if math.Float64bits(g.F64) != math.Float64bits(w.F64) {
			t.Errorf("row %d: F64 = %v, want %v", i, g.F64, w.F64)
		}
		g.F64, w.F64 = 0, 0
		if g != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, unit := range []string{"", TimestampMicros, TimestampNanos} {
		t.Run("unit="+unit, func(t *testing.T) {
			w := newWriter(t, Config{TimestampUnit: unit})
			in := mixed(t0 + 5*time.Minute.Nanoseconds() + 123_456_789)
			add(t, w, 3, 120, in[:3])
			add(t, w, 3, 121, nil) // an empty message extends the range
			add(t, w, 3, 187, in[3:])
			if n := w.BufferedRows(); n != len(in) {
				t.Fatalf("BufferedRows = %d, want %d", n, len(in))
			}
			files := flush(t, w)
			wantPath := filepath.Join(w.Config().Root, "samples", "dt=2026-11-23", "hour=10", "tk.samples-3-000000000120-000000000187.parquet")
			wantFile := File{Path: wantPath, Topic: topic, Partition: 3, FirstOffset: 120, LastOffset: 187, Rows: int64(len(in)),
				Hour: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
			if len(files) != 1 {
				t.Fatalf("Flush returned %d files, want 1: %+v", len(files), files)
			}
			fi, err := os.Stat(wantPath)
			if err != nil {
				t.Fatal(err)
			}
			wantFile.Bytes = fi.Size()
			if files[0] != wantFile {
				t.Errorf("Flush returned\n %+v\nwant\n %+v", files[0], wantFile)
			}
			equalSamples(t, read(t, wantPath), want(in, unit))

			info, err := ReadFileInfo(wantPath)
			if err != nil {
				t.Fatal(err)
			}
			if info != wantFile {
				t.Errorf("ReadFileInfo =\n %+v\nwant\n %+v", info, wantFile)
			}
			if s := w.Stats(); s != (Stats{Flushes: 1, Files: 1, Rows: int64(len(in)), Bytes: fi.Size()}) {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}

func TestFileSchema(t *testing.T) {
	for _, tc := range []struct{ unit, ts string }{
		{"", "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"},
		{TimestampNanos, "TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)"},
	} {
		w := newWriter(t, Config{TimestampUnit: tc.unit})
		add(t, w, 0, 1, mixed(t0))
		files := flush(t, w)
		f, pf, err := open(files[0].Path, false)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		md := pf.Metadata()
		got := map[string]string{}
		for _, e := range md.Schema[1:] {
			got[e.Name] = fmt.Sprintf("%s %s %s", e.RepetitionType.V, e.Type.V, e.LogicalType.String())
		}
		wantSchema := map[string]string{
			"ts":        "REQUIRED INT64 " + tc.ts,
			"device":    "REQUIRED BYTE_ARRAY STRING",
			"metric":    "REQUIRED BYTE_ARRAY STRING",
			"keys":      "REQUIRED BYTE_ARRAY STRING",
			"kind":      "REQUIRED INT32 INT(8,false)",
			"value_u64": "OPTIONAL INT64 INT(64,false)",
			"value_f64": "OPTIONAL DOUBLE ",
			"value_str": "OPTIONAL BYTE_ARRAY STRING",
			"source":    "REQUIRED BYTE_ARRAY STRING",
		}
		for k, v := range wantSchema {
			if got[k] != v {
				t.Errorf("unit %q: column %s is %q, want %q", tc.unit, k, got[k], v)
			}
		}
		var names []string
		for _, e := range md.Schema[1:] {
			names = append(names, e.Name)
		}
		if want := strings.Join(colNames[:], ","); strings.Join(names, ",") != want {
			t.Errorf("column order %v, want %s", names, want)
		}
		// Encodings and compression of the first row group.
		for _, c := range md.RowGroups[0].Columns {
			m := c.MetaData
			name := m.PathInSchema[0]
			if m.Codec.String() != "ZSTD" {
				t.Errorf("column %s codec %s, want ZSTD", name, m.Codec)
			}
			var encs []string
			for _, e := range m.Encoding {
				encs = append(encs, e.String())
			}
			enc := strings.Join(encs, ",")
			switch name {
			case "ts":
				if !strings.Contains(enc, "DELTA_BINARY_PACKED") {
					t.Errorf("ts encodings %s, want DELTA_BINARY_PACKED", enc)
				}
			case "device", "metric", "keys", "source", "value_str":
				if !strings.Contains(enc, "RLE_DICTIONARY") {
					t.Errorf("%s encodings %s, want RLE_DICTIONARY", name, enc)
				}
			}
		}
		var sorting []string
		for _, sc := range md.RowGroups[0].SortingColumns {
			sorting = append(sorting, fmt.Sprint(md.Schema[1+sc.ColumnIdx].Name, sc.Descending))
		}
		if got, want := strings.Join(sorting, " "), "devicefalse metricfalse keysfalse tsfalse"; got != want {
			t.Errorf("row group sorting columns %q, want %q", got, want)
		}
		kv := map[string]string{}
		for _, e := range md.KeyValueMetadata {
			kv[e.Key] = e.Value
		}
		for k, v := range map[string]string{MetaSchema: "samples", MetaVersion: "1", MetaTopic: topic,
			MetaPartition: "0", MetaFirstOffset: "1", MetaLastOffset: "1"} {
			if kv[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, kv[k], v)
			}
		}
	}
}

func TestHourAndDayBoundaries(t *testing.T) {
	w := newWriter(t, Config{Table: "lake_samples"})
	s := func(ts time.Time, dev string) schemas.Sample {
		return schemas.Sample{TS: ts.UnixNano(), Device: dev, Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}
	}
	h10 := time.Date(2026, 11, 23, 10, 59, 59, 999_999_999, time.UTC)
	h11 := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	h23 := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)
	next := time.Date(2026, 11, 24, 0, 0, 0, 1000, time.UTC)
	add(t, w, 7, 120, []schemas.Sample{s(h10, "a"), s(h10, "b")})
	add(t, w, 7, 150, []schemas.Sample{s(h10, "c"), s(h11, "c")})
	add(t, w, 7, 187, []schemas.Sample{s(h11, "d")})
	add(t, w, 7, 200, []schemas.Sample{s(h23, "e"), s(next, "e")})
	add(t, w, 2, 5, []schemas.Sample{s(h11, "x")})
	files := flush(t, w)
	root := filepath.Join(w.Config().Root, "lake_samples")
	type fileSummary struct {
		rel  string
		rows int64
	}
	var got []fileSummary
	for _, f := range files {
		rel, _ := filepath.Rel(root, f.Path)
		got = append(got, fileSummary{filepath.ToSlash(rel), f.Rows})
		if r := read(t, f.Path); int64(len(r)) != f.Rows {
			t.Errorf("%s holds %d rows, Flush said %d", f.Path, len(r), f.Rows)
		} else {
			for _, x := range r {
				if h := time.Unix(0, x.TS).UTC().Truncate(time.Hour); !h.Equal(f.Hour) {
					t.Errorf("%s holds a sample of %s", f.Path, h)
				}
			}
		}
	}
	wantFiles := []fileSummary{
		{"dt=2026-11-23/hour=11/tk.samples-2-000000000005-000000000005.parquet", 1},
		{"dt=2026-11-23/hour=10/tk.samples-7-000000000120-000000000150.parquet", 3},
		{"dt=2026-11-23/hour=11/tk.samples-7-000000000150-000000000187.parquet", 2},
		{"dt=2026-11-23/hour=23/tk.samples-7-000000000200-000000000200.parquet", 1},
		{"dt=2026-11-24/hour=00/tk.samples-7-000000000200-000000000200.parquet", 1},
	}
	if !slices.Equal(got, wantFiles) {
		t.Errorf("files:\n got %v\nwant %v", got, wantFiles)
	}
	if n, err := CountRows(w.Config().Root); err != nil || n != 8 {
		t.Errorf("CountRows = %d, %v; want 8", n, err)
	}
}

func TestIdempotentRewrite(t *testing.T) {
	w := newWriter(t, Config{})
	msgs := map[int64][]schemas.Sample{
		120: mixed(t0 + 30*time.Minute.Nanoseconds()),
		121: mixed(t0 + 59*time.Minute.Nanoseconds()),
		187: mixed(t0 + 61*time.Minute.Nanoseconds()),
	}
	addAll := func() {
		for _, off := range []int64{120, 121, 187} {
			add(t, w, 3, off, msgs[off])
		}
	}
	addAll()
	first := flush(t, w)
	contents := map[string][]byte{}
	for _, f := range first {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		contents[f.Path] = b
	}
	// The consumer crashed before committing: the same offsets come again.
	addAll()
	second := flush(t, w)
	if !slices.Equal(first, second) {
		t.Fatalf("second flush wrote\n %+v\nfirst wrote\n %+v", second, first)
	}
	for _, f := range second {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, contents[f.Path]) {
			t.Errorf("%s: rewritten with different bytes", f.Path)
		}
	}
	if n, err := CountRows(w.Config().Root); err != nil || n != 3*8 {
		t.Errorf("CountRows = %d, %v; want %d (no duplicates)", n, err, 3*8)
	}
}

func TestSortOrderAndRowGroups(t *testing.T) {
	w := newWriter(t, Config{RowGroupRows: 100})
	rng := rand.New(rand.NewPCG(1, 2))
	var all []schemas.Sample
	for off := range int64(20) {
		var ss []schemas.Sample
		for range 50 {
			ss = append(ss, schemas.Sample{
				TS:     t0 + rng.Int64N(int64(time.Hour)),
				Device: fmt.Sprintf("dev%02d", rng.IntN(7)),
				Metric: fmt.Sprintf("/m/%d", rng.IntN(3)),
				Keys:   fmt.Sprintf("name=Ethernet%d", rng.IntN(4)),
				Kind:   schemas.KindCounter, U64: rng.Uint64(), Source: "gnmi",
			})
		}
		// Same series and ts twice: arrival order decides.
		ss = append(ss, schemas.Sample{TS: t0, Device: "dev00", Metric: "/m/0", Keys: "k", Kind: schemas.KindCounter, U64: uint64(off), Source: "gnmi"})
		add(t, w, 0, off, ss)
		all = append(all, ss...)
	}
	files := flush(t, w)
	if len(files) != 1 {
		t.Fatalf("got %d files", len(files))
	}
	equalSamples(t, read(t, files[0].Path), want(all, ""))

	f, pf, err := open(files[0].Path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rgs := pf.RowGroups()
	if len(rgs) != (len(all)+99)/100 {
		t.Errorf("%d row groups, want %d", len(rgs), (len(all)+99)/100)
	}
	for i, rg := range rgs {
		if n := rg.NumRows(); n > 100 {
			t.Errorf("row group %d has %d rows", i, n)
		}
		if !pq.EqualSortingColumns(rg.SortingColumns(), []pq.SortingColumn{pq.Ascending("device"), pq.Ascending("metric"), pq.Ascending("keys"), pq.Ascending("ts")}) {
			t.Errorf("row group %d sorting columns %v", i, rg.SortingColumns())
		}
	}
}

func TestCountRowsIgnoresTempAndHiddenFiles(t *testing.T) {
	w := newWriter(t, Config{})
	add(t, w, 0, 1, mixed(t0))
	add(t, w, 1, 1, mixed(t0+2*time.Hour.Nanoseconds()))
	files := flush(t, w)
	dir := filepath.Dir(files[0].Path)
	for _, name := range []string{".tmp-x.parquet-123", ".tmp-y.parquet", "_SUCCESS", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(w.Config().Root, ".trash"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.Config().Root, ".trash", "old.parquet"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := CountRows(w.Config().Root)
	if err != nil || n != 16 {
		t.Errorf("CountRows = %d, %v; want 16", n, err)
	}
	// A corrupt data file is an error, not a silent undercount.
	if err := os.WriteFile(filepath.Join(dir, "bad.parquet"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CountRows(w.Config().Root); err == nil || !strings.Contains(err.Error(), "bad.parquet") {
		t.Errorf("CountRows with a corrupt file: err = %v", err)
	}
	if _, err := CountRows(filepath.Join(w.Config().Root, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CountRows of a missing root: err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	f := func(cfg Config, wantErr string) {
		t.Helper()
		err := cfg.Validate()
		if wantErr == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", cfg, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want an ErrInvalidConfig containing %q", cfg, err, wantErr)
		}
		if _, nerr := New(cfg); nerr == nil {
			t.Errorf("New(%+v) accepted an invalid config", cfg)
		}
	}
	f(Config{Root: "/lake"}, "")
	f(Config{Root: "/lake", Table: "samples_v1", TimestampUnit: "ns", RowGroupRows: 1000, Compression: "snappy"}, "")
	f(Config{}, "root: required")
	f(Config{Root: "  "}, "root: required")
	f(Config{Root: "/lake", Table: "a/b"}, "table:")
	f(Config{Root: "/lake", Table: ".."}, "table:")
	f(Config{Root: "/lake", Table: ".hidden"}, "table:")
	f(Config{Root: "/lake", Table: "_tmp"}, "table:")
	f(Config{Root: "/lake", TimestampUnit: "ms"}, "timestamp_unit:")
	f(Config{Root: "/lake", TimestampUnit: "micros"}, "timestamp_unit:")
	f(Config{Root: "/lake", RowGroupRows: -1}, "row_group_rows:")
	f(Config{Root: "/lake", RowGroupRows: maxRowGroupRows + 1}, "row_group_rows:")
	f(Config{Root: "/lake", Compression: "brotli"}, "compression:")
	f(Config{Root: "/lake", Compression: "ZSTD"}, "compression:")

	w, err := New(Config{Root: "/lake"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Config(), (Config{Root: "/lake", Table: DefaultTable, TimestampUnit: DefaultTimestampUnit,
		RowGroupRows: DefaultRowGroupRows, Compression: DefaultCompression}); got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
}

func TestCompressionCodecs(t *testing.T) {
	for _, c := range []string{"zstd", "snappy", "gzip", "lz4", "none"} {
		w := newWriter(t, Config{Compression: c})
		in := mixed(t0)
		add(t, w, 0, 0, in)
		files := flush(t, w)
		equalSamples(t, read(t, files[0].Path), want(in, ""))
	}
}

func TestFlushErrorKeepsRows(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "lake")
	// A regular file where the root should be: Flush cannot create its
	// folders (this fails for root too, unlike a read-only directory).
	if err := os.WriteFile(root, []byte("not a dir"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, Config{Root: root})
	in := mixed(t0)
	add(t, w, 3, 120, in)
	files, err := w.Flush(context.Background())
	if err == nil || files != nil {
		t.Fatalf("Flush into a file = %v, %v; want an error and no files", files, err)
	}
	if n := w.BufferedRows(); n != len(in) {
		t.Fatalf("BufferedRows after a failed flush = %d, want %d", n, len(in))
	}
	if s := w.Stats(); s != (Stats{}) {
		t.Errorf("Stats after a failed flush = %+v", s)
	}
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	files = flush(t, w)
	if len(files) != 1 || files[0].Rows != int64(len(in)) {
		t.Fatalf("retry wrote %+v", files)
	}
	equalSamples(t, read(t, files[0].Path), want(in, ""))
}

func TestFlushErrorMidway(t *testing.T) {
	w := newWriter(t, Config{})
	add(t, w, 3, 120, mixed(t0))
	add(t, w, 3, 121, mixed(t0+time.Hour.Nanoseconds()))
	// The second hour's folder is blocked by a file: the first file is
	// written, the second is not.
	blocked := blockHour(t, w, "hour=11")
	if files, err := w.Flush(context.Background()); err == nil || files != nil {
		t.Fatalf("Flush = %v, %v; want an error and no files", files, err)
	}
	assertNoTempFiles(t, w.Config().Root)
	if n := w.BufferedRows(); n != 16 {
		t.Fatalf("BufferedRows = %d, want 16", n)
	}
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	files := flush(t, w)
	if len(files) != 2 {
		t.Fatalf("retry wrote %d files, want 2", len(files))
	}
	if n, err := CountRows(w.Config().Root); err != nil || n != 16 {
		t.Errorf("CountRows = %d, %v; want 16", n, err)
	}
}

func TestFlushCanceled(t *testing.T) {
	w := newWriter(t, Config{})
	add(t, w, 0, 1, mixed(t0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush(canceled) = %v", err)
	}
	if n := w.BufferedRows(); n != 8 {
		t.Fatalf("BufferedRows = %d, want 8", n)
	}
}

func TestOffsetOrderAndDiscard(t *testing.T) {
	w := newWriter(t, Config{})
	add(t, w, 1, 10, mixed(t0))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := record(t, mem, mixed(t0))
	defer rec.Release()
	for _, off := range []int64{10, 9} {
		if err := w.Add(topic, 1, off, rec); !errors.Is(err, ErrOffsetOrder) {
			t.Errorf("Add offset %d after 10: err = %v, want ErrOffsetOrder", off, err)
		}
	}
	// Other partitions are independent.
	if err := w.Add(topic, 2, 3, rec); err != nil {
		t.Fatal(err)
	}
	if n := w.Discard(topic, 1); n != 8 {
		t.Errorf("Discard = %d, want 8", n)
	}
	if n := w.BufferedRows(); n != 8 {
		t.Errorf("BufferedRows = %d, want 8", n)
	}
	if err := w.Add(topic, 1, 5, rec); err != nil {
		t.Fatalf("Add after Discard: %v", err)
	}
	files := flush(t, w)
	if len(files) != 2 || files[0].FirstOffset != 5 || files[1].Partition != 2 {
		t.Errorf("files %+v", files)
	}
	// After a flush, a partition may start again from any offset.
	if err := w.Add(topic, 1, 5, rec); err != nil {
		t.Fatalf("Add after Flush: %v", err)
	}
}

func TestAddRejects(t *testing.T) {
	w := newWriter(t, Config{})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := record(t, mem, mixed(t0))
	defer rec.Release()
	f := func(topic string, partition int32, offset int64, rec arrow.RecordBatch, wantErr string) {
		t.Helper()
		err := w.Add(topic, partition, offset, rec)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Add(%q, %d, %d) = %v, want an error containing %q", topic, partition, offset, err, wantErr)
		}
	}
	f("", 0, 0, rec, "topic")
	f("a/b", 0, 0, rec, "topic")
	f("..", 0, 0, rec, "topic")
	f(topic, -1, 0, rec, "partition")
	f(topic, 0, -1, rec, "offset")

	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, other)
	b.Field(0).(*array.Int64Builder).Append(1)
	bad := b.NewRecordBatch()
	b.Release()
	defer bad.Release()
	f(topic, 0, 0, bad, "samples")
	if n := w.BufferedRows(); n != 0 {
		t.Errorf("BufferedRows after rejected adds = %d", n)
	}
}

func TestEmptyFlush(t *testing.T) {
	w := newWriter(t, Config{})
	if files := flush(t, w); files != nil {
		t.Errorf("empty flush wrote %v", files)
	}
	add(t, w, 0, 1, nil) // empty message: offsets move, no file
	if files := flush(t, w); files != nil {
		t.Errorf("flush of empty messages wrote %v", files)
	}
}

func TestPreEpochTimestamps(t *testing.T) {
	w := newWriter(t, Config{})
	in := []schemas.Sample{{TS: -1, Device: "d", Metric: "/m", Kind: schemas.KindGauge, F64: 2, Source: "sim"}}
	add(t, w, 0, 0, in)
	files := flush(t, w)
	if !strings.Contains(files[0].Path, filepath.Join("dt=1969-12-31", "hour=23")) {
		t.Errorf("path %s", files[0].Path)
	}
	equalSamples(t, read(t, files[0].Path), []schemas.Sample{{TS: -1000, Device: "d", Metric: "/m", Kind: schemas.KindGauge, F64: 2, Source: "sim"}})
}

func TestRowSize(t *testing.T) {
	// doc.go promises 48 bytes per buffered row and 28 per row in Flush.
	if n := unsafe.Sizeof(row{}); n != 48 {
		t.Errorf("row is %d bytes, doc.go says 48", n)
	}
	if n := unsafe.Sizeof(sortKey{}) + unsafe.Sizeof(uint32(0)); n != 28 {
		t.Errorf("sort scratch is %d bytes per row, doc.go says 28", n)
	}
}

func TestConcurrentAddAndFlush(t *testing.T) {
	w := newWriter(t, Config{})
	var wg sync.WaitGroup
	const perPartition = 50
	for p := range int32(4) {
		wg.Go(func() {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			for off := range int64(perPartition) {
				rec := record(t, mem, mixed(t0+off*int64(time.Minute)))
				if err := w.Add(topic, p, off, rec); err != nil {
					t.Error(err)
				}
				rec.Release()
			}
		})
	}
	done := make(chan struct{})
	var flushed int64
	go func() {
		defer close(done)
		for range 5 {
			files, err := w.Flush(context.Background())
			if err != nil {
				t.Error(err)
			}
			for _, f := range files {
				flushed += f.Rows
			}
			_ = w.BufferedRows()
		}
	}()
	wg.Wait()
	<-done
	for _, f := range flush(t, w) {
		flushed += f.Rows
	}
	if want := int64(4 * perPartition * 8); flushed != want {
		t.Errorf("flushed %d rows, want %d", flushed, want)
	}
	if n, err := CountRows(w.Config().Root); err != nil || n != flushed {
		t.Errorf("CountRows = %d, %v; want %d", n, err, flushed)
	}
}

// blockHour puts a file where the folder of the samples' hour (of
// 2026-11-23) goes, so a flush into it fails after the files of earlier
// hours are in place, and returns its path.
func blockHour(t *testing.T, w *Writer, hour string) string {
	t.Helper()
	blocked := filepath.Join(w.Config().Root, "samples", "dt=2026-11-23", hour)
	if err := os.MkdirAll(filepath.Dir(blocked), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return blocked
}
