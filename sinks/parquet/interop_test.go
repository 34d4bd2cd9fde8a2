package parquet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// requirePyarrow fails the test when python3 cannot import pyarrow under
// `make test` (TK_INTEGRATION=1), and skips it otherwise.

func requirePyarrow(t *testing.T) {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import pyarrow").CombinedOutput()
	if err == nil {
		return
	}
	if os.Getenv("TK_INTEGRATION") != "1" {
		t.Skipf("python3 cannot import pyarrow (`make test` installs it): %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	reason := lines[len(lines)-1]
	if reason == "" {
		reason = err.Error()
	}
	t.Fatalf("python3 cannot import pyarrow (%s): run `make py-deps` or `pip install pyarrow`", reason)
}

// pyOutput is what testdata/read_pyarrow.py prints.
type pyOutput struct {
	Pyarrow string `json:"pyarrow"`
	Files   []struct {
		Path      string            `json:"path"`
		Schema    map[string]string `json:"schema"`
		Metadata  map[string]string `json:"metadata"`
		RowGroups []struct {
			Rows           int      `json:"rows"`
			SortingColumns [][2]any `json:"sorting_columns"`
			DeviceMin      string   `json:"device_min"`
			DeviceMax      string   `json:"device_max"`
			Compression    []string `json:"compression"`
			Paths          []string `json:"paths"`
		} `json:"row_groups"`
		Rows []struct {
			TS       int64   `json:"ts"`
			Device   string  `json:"device"`
			Metric   string  `json:"metric"`
			Keys     string  `json:"keys"`
			Kind     uint8   `json:"kind"`
			ValueU64 *uint64 `json:"value_u64"`
			ValueF64 *string `json:"value_f64"`
			ValueStr *string `json:"value_str"`
			Source   string  `json:"source"`
		} `json:"rows"`
	} `json:"files"`
	Dataset struct {
		Rows       int64             `json:"rows"`
		Schema     map[string]string `json:"schema"`
		Partitions [][3]any          `json:"partitions"`
		U64Sum     string            `json:"u64_sum"`
	} `json:"dataset"`
}

func TestPyarrowReadsFiles(t *testing.T) {
	requirePyarrow(t)
	for _, unit := range []string{TimestampMicros, TimestampNanos} {
		t.Run(unit, func(t *testing.T) {
			w := newWriter(t, Config{TimestampUnit: unit, RowGroupRows: 5})
			byFile := map[string][]schemas.Sample{}
			h10 := t0 + 59*time.Minute.Nanoseconds() + 123_456_789
			h11 := h10 + 2*time.Minute.Nanoseconds()
			add(t, w, 3, 120, mixed(h10))
			add(t, w, 3, 121, append(mixed(h10+1), mixed(h11)...))
			add(t, w, 0, 7, mixed(h11+5))
			byFile["dt=2026-11-23/hour=10/tk.samples-3-000000000120-000000000121.parquet"] = append(mixed(h10), mixed(h10+1)...)
			byFile["dt=2026-11-23/hour=11/tk.samples-3-000000000121-000000000121.parquet"] = mixed(h11)
			byFile["dt=2026-11-23/hour=11/tk.samples-0-000000000007-000000000007.parquet"] = mixed(h11 + 5)
			files := flush(t, w)
			if len(files) != len(byFile) {
				t.Fatalf("wrote %d files, want %d", len(files), len(byFile))
			}

			table := filepath.Join(w.Config().Root, "samples")
			cmd := exec.Command("python3", filepath.Join("testdata", "read_pyarrow.py"), table)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("read_pyarrow.py: %v\n%s", err, stderr.String())
			}
			var py pyOutput
			if err := json.Unmarshal(out, &py); err != nil {
				t.Fatalf("cannot parse read_pyarrow.py output: %v\n%s", err, out)
			}
			t.Logf("pyarrow %s", py.Pyarrow)

			wantSchema := map[string]string{
				"ts":        "timestamp[" + unit + ", tz=UTC]",
				"device":    "string",
				"metric":    "string",
				"keys":      "string",
				"kind":      "uint8",
				"value_u64": "uint64",
				"value_f64": "double",
				"value_str": "string",
				"source":    "string",
			}
			mul := int64(1000)
			if unit == TimestampNanos {
				mul = 1
			}
			if len(py.Files) != len(byFile) {
				t.Fatalf("pyarrow found %d files, want %d", len(py.Files), len(byFile))
			}
			for _, f := range py.Files {
				in, ok := byFile[filepath.ToSlash(f.Path)]
				if !ok {
					t.Errorf("pyarrow found unexpected file %s", f.Path)
					continue
				}
				if fmt.Sprint(f.Schema) != fmt.Sprint(wantSchema) {
					t.Errorf("%s: pyarrow schema\n %v\nwant\n %v", f.Path, f.Schema, wantSchema)
				}
				var got []schemas.Sample
				for i, r := range f.Rows {
					s := schemas.Sample{TS: r.TS * mul, Device: r.Device, Metric: r.Metric, Keys: r.Keys,
						Kind: schemas.Kind(r.Kind), Source: r.Source}
					// Exactly the value column of the kind is set.
					if (r.ValueU64 != nil) != (s.Kind == schemas.KindCounter) ||
						(r.ValueF64 != nil) != (s.Kind == schemas.KindGauge) ||
						(r.ValueStr != nil) != (s.Kind == schemas.KindState) {
						t.Errorf("%s row %d: kind %s with value_u64 %v, value_f64 %v, value_str %v", f.Path, i, s.Kind, r.ValueU64, r.ValueF64, r.ValueStr)
					}
					if r.ValueU64 != nil {
						s.U64 = *r.ValueU64
					}
					if r.ValueF64 != nil {
						v, err := strconv.ParseFloat(*r.ValueF64, 64)
						if err != nil {
							t.Fatalf("%s row %d: value_f64 %q: %v", f.Path, i, *r.ValueF64, err)
						}
						s.F64 = v
					}
					if r.ValueStr != nil {
						s.Str = *r.ValueStr
					}
					got = append(got, s)
				}
				equalSamples(t, got, want(in, unit))

				wantMeta := map[string]string{MetaSchema: "samples", MetaVersion: strconv.Itoa(schemas.SamplesVersion), MetaTopic: topic}
				for _, gf := range files {
					if strings.HasSuffix(filepath.ToSlash(gf.Path), filepath.ToSlash(f.Path)) {
						wantMeta[MetaPartition] = strconv.Itoa(int(gf.Partition))
						wantMeta[MetaFirstOffset] = strconv.FormatInt(gf.FirstOffset, 10)
						wantMeta[MetaLastOffset] = strconv.FormatInt(gf.LastOffset, 10)
					}
				}
				if fmt.Sprint(f.Metadata) != fmt.Sprint(wantMeta) {
					t.Errorf("%s: metadata %v, want %v", f.Path, f.Metadata, wantMeta)
				}
				if want := (len(in) + 4) / 5; len(f.RowGroups) != want {
					t.Errorf("%s: %d row groups, want %d", f.Path, len(f.RowGroups), want)
				}
				prevMax := ""
				for i, rg := range f.RowGroups {
					if fmt.Sprint(rg.SortingColumns) != "[[device false] [metric false] [keys false] [ts false]]" {
						t.Errorf("%s row group %d: sorting columns %v", f.Path, i, rg.SortingColumns)
					}
					if strings.Join(rg.Paths, ",") != strings.Join(colNames[:], ",") {
						t.Errorf("%s row group %d: column paths %v", f.Path, i, rg.Paths)
					}
					if fmt.Sprint(rg.Compression) != "[ZSTD]" {
						t.Errorf("%s row group %d: compression %v", f.Path, i, rg.Compression)
					}
					// Sorted files have non-decreasing device ranges: stats prune.
					if rg.DeviceMin == "" || rg.DeviceMin > rg.DeviceMax || rg.DeviceMin < prevMax {
						t.Errorf("%s row group %d: device stats [%q, %q] after max %q", f.Path, i, rg.DeviceMin, rg.DeviceMax, prevMax)
					}
					prevMax = rg.DeviceMax
				}
			}

			n, err := CountRows(table)
			if err != nil {
				t.Fatal(err)
			}
			if py.Dataset.Rows != n || n != 32 {
				t.Errorf("pyarrow dataset has %d rows, CountRows %d, want 32", py.Dataset.Rows, n)
			}
			if got, want := fmt.Sprint(py.Dataset.Partitions), "[[2026-11-23 10 16] [2026-11-23 11 16]]"; got != want {
				t.Errorf("pyarrow dataset partitions %s, want %s", got, want)
			}
			if py.Dataset.Schema["dt"] == "" || py.Dataset.Schema["hour"] == "" || py.Dataset.Schema["ts"] != wantSchema["ts"] {
				t.Errorf("pyarrow dataset schema %v", py.Dataset.Schema)
			}
			sum := new(big.Int)
			for _, ss := range byFile {
				for _, s := range ss {
					if s.Kind == schemas.KindCounter {
						sum.Add(sum, new(big.Int).SetUint64(s.U64))
					}
				}
			}
			if py.Dataset.U64Sum != sum.String() {
				t.Errorf("pyarrow sum(value_u64) = %s, want %s", py.Dataset.U64Sum, sum)
			}
		})
	}
}
