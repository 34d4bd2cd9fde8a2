package parquet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/telekernel/telekernel/schemas"
)

// ReadFileInfo reads the footer of a samples file and returns what Flush
// returned for it: source topic, partition and offset range, rows, size, and
// the hour of its folder (zero when the path has no dt=/hour= folders).
func ReadFileInfo(path string) (File, error) {
	f, pf, err := open(path, true)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	info := File{Path: path, Rows: pf.NumRows(), Bytes: pf.Size()}
	if err := checkContract(pf); err != nil {
		return File{}, fmt.Errorf("cannot read %s: %w", path, err)
	}
	info.Topic, _ = pf.Lookup(MetaTopic)
	var perr error
	num := func(key string, bits int) int64 {
		s, ok := pf.Lookup(key)
		n, err := strconv.ParseInt(s, 10, bits)
		if (!ok || err != nil) && perr == nil {
			perr = fmt.Errorf("cannot read %s: metadata %s is %q, want an integer", path, key, s)
		}
		return n
	}
	info.Partition = int32(num(MetaPartition, 32))
	info.FirstOffset = num(MetaFirstOffset, 64)
	info.LastOffset = num(MetaLastOffset, 64)
	if perr != nil {
		return File{}, perr
	}
	if s, ok := pf.Lookup(MetaFirstTime); ok {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
			info.FirstTime = time.UnixMilli(ms).UTC()
		}
	}
	hourDir, dtDir := filepath.Base(filepath.Dir(path)), filepath.Base(filepath.Dir(filepath.Dir(path)))
	if dt, ok := strings.CutPrefix(dtDir, "dt="); ok {
		if h, ok := strings.CutPrefix(hourDir, "hour="); ok {
			if t, err := time.Parse("2006-01-02 15", dt+" "+h); err == nil {
				info.Hour = t
			}
		}
	}
	return info, nil
}

// ReadSamples reads a samples file written by this package back into Sample
// values, in file order, with ts in Unix nanoseconds (multiplied back from
// microseconds when the file has TIMESTAMP(MICROS)). It reads the whole file
// into memory; it is meant for tests, verification and small tools.
func ReadSamples(path string) ([]schemas.Sample, error) {
	f, pf, err := open(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkContract(pf); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var cols [numCols]int
	for i, name := range colNames {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			return nil, fmt.Errorf("cannot read %s: no column %s", path, name)
		}
		cols[i] = leaf.ColumnIndex
	}
	tsLeaf, _ := pf.Schema().Lookup("ts")
	var tsMul int64
	if lt := tsLeaf.Node.Type().LogicalType(); lt != nil {
		if t, ok := lt.Value.(*format.TimestampType); ok && t.Unit.Value != nil {
			tsMul = int64(t.Unit.Value.Duration())
		}
	}
	if tsMul == 0 {
		return nil, fmt.Errorf("cannot read %s: column ts is %s, want a TIMESTAMP", path, tsLeaf.Node.Type())
	}
	// Map file column index → our column position.
	byIndex := make([]int, len(pf.Schema().Columns()))
	for i := range byIndex {
		byIndex[i] = -1
	}
	for c, idx := range cols {
		byIndex[idx] = c
	}

	out := make([]schemas.Sample, 0, pf.NumRows())
	rows := make([]pq.Row, 256)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(rows)
			for _, r := range rows[:n] {
				var s schemas.Sample
				for _, v := range r {
					c := byIndex[v.Column()]
					if c < 0 || v.IsNull() {
						continue
					}
					switch c {
					case colTS:
						s.TS = v.Int64() * tsMul
					case colDevice:
						s.Device = string(v.ByteArray())
					case colMetric:
						s.Metric = string(v.ByteArray())
					case colKeys:
						s.Keys = string(v.ByteArray())
					case colKind:
						s.Kind = schemas.Kind(v.Int32())
					case colU64:
						s.U64 = v.Uint64()
					case colF64:
						s.F64 = v.Double()
					case colStr:
						s.Str = string(v.ByteArray())
					case colSource:
						s.Source = string(v.ByteArray())
					}
				}
				out = append(out, s)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = rr.Close()
				return nil, fmt.Errorf("cannot read %s: %w", path, err)
			}
		}
		if err := rr.Close(); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
	}
	return out, nil
}

// CountRows returns the number of rows in all *.parquet files under root,
// read from their footers. It skips files and folders whose names start with
// "." or "_" (temporary files, _SUCCESS markers), and fails on a file it
// cannot read, so a verification does not silently undercount.
func CountRows(root string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(name, ".parquet") {
			return nil
		}
		f, pf, err := open(path, true)
		if err != nil {
			return err
		}
		total += pf.NumRows()
		return f.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("cannot count rows under %s: %w", root, err)
	}
	return total, nil
}

// open opens a Parquet file; footerOnly skips the page index and bloom
// filters.
func open(path string, footerOnly bool) (*os.File, *pq.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var opts []pq.FileOption
	if footerOnly {
		opts = append(opts, pq.SkipPageIndex(true), pq.SkipBloomFilters(true))
	}
	pf, err := pq.OpenFile(f, fi.Size(), opts...)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot open parquet file %s: %w", path, err)
	}
	return f, pf, nil
}

// checkContract checks that the file holds samples of a version this build
// reads.
func checkContract(pf *pq.File) error {
	if s, _ := pf.Lookup(MetaSchema); s != schemas.SchemaSamples {
		return fmt.Errorf("%w: metadata %s is %q, want %q", schemas.ErrContentType, MetaSchema, s, schemas.SchemaSamples)
	}
	if v, _ := pf.Lookup(MetaVersion); v != strconv.Itoa(schemas.SamplesVersion) {
		return fmt.Errorf("%w: samples file version %q, this build reads %d", schemas.ErrUnknownVersion, v, schemas.SamplesVersion)
	}
	return nil
}
