package parquet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"

	"github.com/telekernel/telekernel/internal/intmath"
	"github.com/telekernel/telekernel/schemas"
)

// Keys of the file's key-value metadata.
const (
	// MetaSchema names the contract: "samples".
	MetaSchema = "telekernel.schema"
	// MetaVersion is the contract version, schemas.SamplesVersion.
	MetaVersion = "telekernel.version"
	// MetaTopic, MetaPartition, MetaFirstOffset and MetaLastOffset name the
	// Kafka messages the file's rows came from.
	MetaTopic       = "telekernel.topic"
	MetaPartition   = "telekernel.partition"
	MetaFirstOffset = "telekernel.first_offset"
	MetaLastOffset  = "telekernel.last_offset"
	// MetaFirstTime is the Kafka timestamp of the message at the first
	// offset, in Unix milliseconds; absent when the Writer was not given it
	// (Add rather than AddTimed). It tells a re-delivery of the same
	// messages from a recreated topic's messages at the same offsets.
	MetaFirstTime = "telekernel.first_offset_time_ms"
)

// fileRow declares the file schema; it is never instantiated with data.
// Field order is column order. The ts tag is replaced for "ns".
type fileRow struct {
	TS       int64    `parquet:"ts,timestamp(microsecond:utc),delta"`
	Device   string   `parquet:"device,dict"`
	Metric   string   `parquet:"metric,dict"`
	Keys     string   `parquet:"keys,dict"`
	Kind     uint8    `parquet:"kind"`
	ValueU64 *uint64  `parquet:"value_u64,optional"`
	ValueF64 *float64 `parquet:"value_f64,optional"`
	ValueStr *string  `parquet:"value_str,optional,dict"`
	Source   string   `parquet:"source,dict"`
}

// FileRow is the Go shape of the rows of the sink's files with µs
// timestamps (the default): their columns, types and encodings, for a
// program that writes or reads the same layout with parquet-go, such as the
// plain-writer baseline of benchmarks/sinks.
type FileRow = fileRow

// Leaf column positions in fileRow order.
const (
	colTS = iota
	colDevice
	colMetric
	colKeys
	colKind
	colU64
	colF64
	colStr
	colSource
	numCols
)

// validBit is the bit of row.valid that says a row has a value in the
// column, for the three optional value columns.
var validBit = [numCols]uint8{colU64: validU64, colF64: validF64, colStr: validStr}

var colNames = [numCols]string{"ts", "device", "metric", "keys", "kind", "value_u64", "value_f64", "value_str", "source"}

// dictionaryMaxBytes bounds a column chunk's dictionary; past it the column
// falls back to plain encoding (think of a value_str with free text).
const dictionaryMaxBytes = 2 << 20

// writeBatch is how many rows are handed to the column writers at a time.
const writeBatch = 4096

// fileSchema returns the Parquet schema of samples files for a timestamp
// unit.
func fileSchema(unit string) *pq.Schema {
	var opts []pq.SchemaOption
	if unit == TimestampNanos {
		opts = append(opts, pq.StructTag(`parquet:"ts,timestamp(nanosecond:utc),delta"`, "TS"))
	}
	return pq.SchemaOf(fileRow{}, opts...)
}

// encoder writes files; it is used under Writer.mu and reuses its buffers
// from file to file.
type encoder struct {
	cfg    Config
	nanos  bool
	schema *pq.Schema
	opts   []pq.WriterOption
	bw     *bufio.Writer
	vals   []pq.Value

	removed []removedFile // files removed or overwritten since the caller last looked
	kept    []string      // overlapping files kept since the caller last looked (see removeOverlaps)
	aside   []movedFile   // files of other messages renamed out of the way since the caller last looked
	stale   int           // stale temporary files removed since the caller last looked
	// unremoved is the stale temporary files that could not be removed
	// since the caller last looked; warned, the paths warned of (those and
	// the kept files), see firstWarning.
	unremoved []staleTemp
	warned    map[string]bool

	// own is, per partition, the files of the Writer's latest successful
	// flush that wrote any, with their rows as Stats counted them. A
	// re-delivery starts at the committed offset, which is at or after the
	// first offset of that flush when each flush is committed before the
	// next (as pipeline.Runner does unless a commit fails), so earlier
	// files are out of reach of removeOverlaps and renames: forgetting them
	// bounds own to one flush's files per partition. It outlives Discard:
	// a partition assigned back is re-read into this Writer.
	own map[partKey]map[string]int64
	// unflushed is the files (and their partitions) put in place by
	// flushes that have not succeeded (yet), which Stats did not count:
	// their retry writes them again, which is no re-delivery. Those of a
	// partition Discard drops are forgotten: it is re-read after that.
	unflushed map[string]partKey
}

// removedFile is a file removed or replaced by a rename. own says whether
// a successful flush of this Writer returned it (rows is then what
// Stats.Rows counted of it); unflushed, whether a failed flush of this
// Writer wrote it (Stats never counted it). Otherwise rows is read from
// the file, for the log: 0 when it cannot be read.
type removedFile struct {
	path      string
	rows      int64
	own       bool
	unflushed bool
}

// firstWarning reports whether path was not warned of yet, and notes
// it: a file left as it is is logged once, not at every flush.
func (e *encoder) firstWarning(path string) bool {
	if e.warned[path] {
		return false
	}
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	e.warned[path] = true
	return true
}

func newEncoder(cfg Config) (*encoder, error) {
	c, err := codec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	schema := fileSchema(cfg.TimestampUnit)
	for i, name := range colNames {
		leaf, ok := schema.Lookup(name)
		if !ok || leaf.ColumnIndex != i {
			return nil, fmt.Errorf("internal error: column %s is not leaf %d of %s", name, i, schema)
		}
	}
	return &encoder{
		cfg:       cfg,
		nanos:     cfg.TimestampUnit == TimestampNanos,
		schema:    schema,
		own:       map[partKey]map[string]int64{},
		unflushed: map[string]partKey{},
		opts: []pq.WriterOption{
			schema,
			pq.Compression(c),
			pq.DataPageVersion(1),
			pq.DictionaryMaxBytes(dictionaryMaxBytes),
			pq.MaxRowsPerRowGroup(int64(cfg.RowGroupRows)),
			pq.SortingWriterConfig(pq.SortingColumns(
				pq.Ascending("device"), pq.Ascending("metric"), pq.Ascending("keys"), pq.Ascending("ts"))),
			pq.KeyValueMetadata(MetaSchema, schemas.SchemaSamples),
			pq.KeyValueMetadata(MetaVersion, strconv.Itoa(schemas.SamplesVersion)),
		},
		bw:   bufio.NewWriterSize(nil, 256<<10),
		vals: make([]pq.Value, writeBatch),
	}, nil
}

// movedFile is a file renamed from one path to another.
type movedFile struct{ from, to string }

// stampFunc returns the Kafka timestamp (Unix ms, 0 when unknown) of the
// message at offset that the Writer holds for the file being written, and
// whether it holds one.
type stampFunc func(offset int64) (ms int64, held bool)

// writeFile writes rows[order...] to f.Path durably and returns its size;
// from is the offset the partition's re-read began at and stampAt the
// Kafka timestamp of the message the Writer holds at an offset (see
// removeOverlaps). On error it leaves no temporary file behind.
func (e *encoder) writeFile(f File, from int64, stampAt stampFunc, rows []row, order []uint32, strs []string) (size int64, err error) {
	dir := filepath.Dir(f.Path)
	if err := mkdirDurable(dir); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, tempName(filepath.Base(f.Path))+"-*")
	if err != nil {
		return 0, fmt.Errorf("cannot create file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	cw := &countingWriter{w: tmp}
	if err := e.encode(cw, f, rows, order, strs); err != nil {
		return 0, fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return 0, fmt.Errorf("cannot chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("cannot fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("cannot close %s: %w", tmp.Name(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("cannot list %s: %w", dir, err)
	}
	// A crash between the create and the rename of an earlier flush of
	// this partition left its temporary file here.
	stale, failed := removeStaleTemps(dir, entries, f, filepath.Base(tmp.Name()))
	e.stale += stale
	e.unremoved = append(e.unremoved, failed...)
	// A re-delivery that flushes at other boundaries than the run that
	// crashed before its commit makes files whose offset ranges overlap the
	// crashed run's files: remove those first, so no row is in two files.
	k := partKey{f.Topic, f.Partition}
	describe := func(path string) removedFile { return e.describe(k, path) }
	removed, kept, aside, err := removeOverlaps(dir, entries, f, from, stampAt, describe)
	e.kept = append(e.kept, kept...)
	e.aside = append(e.aside, aside...)
	e.forget(k, removed)
	if err != nil {
		return 0, err
	}
	var replaced []removedFile
	if _, err := os.Stat(f.Path); err == nil {
		// The same offset range again: the rename replaces it, unless it
		// holds other messages.
		moved, err := keepOtherMessages(f.Path, f.FirstOffset, stampAt)
		if err != nil {
			return 0, err
		}
		if moved != "" {
			e.aside = append(e.aside, movedFile{from: f.Path, to: moved})
		} else {
			replaced = append(replaced, describe(f.Path))
		}
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return 0, fmt.Errorf("cannot rename %s: %w", tmp.Name(), err)
	}
	e.forget(k, replaced)
	e.unflushed[f.Path] = k
	if err := SyncDir(dir); err != nil {
		return 0, err
	}
	return cw.n, nil
}

// encode writes the Parquet file to out.
func (e *encoder) encode(out io.Writer, f File, rows []row, order []uint32, strs []string) error {
	e.bw.Reset(out)
	// A new pq.Writer per file: (*pq.Writer).Reset in parquet-go v0.32
	// drops path_in_schema from the next file's column metadata.
	pw := pq.NewWriter(e.bw, e.opts...)
	pw.SetKeyValueMetadata(MetaTopic, f.Topic)
	pw.SetKeyValueMetadata(MetaPartition, strconv.FormatInt(int64(f.Partition), 10))
	pw.SetKeyValueMetadata(MetaFirstOffset, strconv.FormatInt(f.FirstOffset, 10))
	pw.SetKeyValueMetadata(MetaLastOffset, strconv.FormatInt(f.LastOffset, 10))
	if !f.FirstTime.IsZero() {
		pw.SetKeyValueMetadata(MetaFirstTime, strconv.FormatInt(f.FirstTime.UnixMilli(), 10))
	}

	groupRows := e.cfg.RowGroupRows
	inGroup := 0
	for start := 0; start < len(order); {
		end := min(start+writeBatch, len(order), start+groupRows-inGroup)
		if err := e.writeBatch(pw.ColumnWriters(), rows, order[start:end], strs); err != nil {
			return err
		}
		inGroup += end - start
		start = end
		if inGroup == groupRows && start < len(order) {
			if err := pw.Flush(); err != nil {
				return err
			}
			inGroup = 0
		}
	}
	if err := pw.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}

// writeBatch writes the rows order[...] column by column.
func (e *encoder) writeBatch(cols []*pq.ColumnWriter, rows []row, order []uint32, strs []string) error {
	vals := e.vals[:len(order)]
	for c := range numCols {
		switch c {
		case colTS:
			for k, i := range order {
				ts := rows[i].ts
				if !e.nanos {
					ts = intmath.FloorDiv(ts, 1000)
				}
				vals[k] = pq.Int64Value(ts)
			}
		case colDevice, colMetric, colKeys, colSource:
			for k, i := range order {
				r := &rows[i]
				id := r.device
				switch c {
				case colMetric:
					id = r.metric
				case colKeys:
					id = r.keys
				case colSource:
					id = r.source
				}
				vals[k] = pq.ByteArrayValue(bytesOf(strs[id]))
			}
		case colKind:
			for k, i := range order {
				vals[k] = pq.Int32Value(int32(rows[i].kind))
			}
		case colU64, colF64, colStr:
			// Optional: a row holds one of the three, the others are null.
			bit := validBit[c]
			for k, i := range order {
				r := &rows[i]
				switch {
				case r.valid&bit == 0:
					vals[k] = pq.Value{}
					continue
				case c == colU64:
					vals[k] = pq.Int64Value(int64(r.u64))
				case c == colF64:
					vals[k] = pq.DoubleValue(r.f64)
				default:
					vals[k] = pq.ByteArrayValue(bytesOf(strs[r.str]))
				}
				vals[k].SetDefinitionLevel(1)
			}
		}
		for k := range vals {
			vals[k].SetColumnIndex(c)
		}
		if _, err := cols[c].WriteRowValues(vals); err != nil {
			return fmt.Errorf("column %s: %w", colNames[c], err)
		}
	}
	clear(vals) // drop references to the strings
	return nil
}

var emptyBytes = []byte{}

// bytesOf returns s's bytes without copying; the column writers copy them.
func bytesOf(s string) []byte {
	if len(s) == 0 {
		return emptyBytes
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// mkdirDurable creates dir and its missing parents, fsyncing the parent of
// each folder it creates so the new entries survive a crash.
func mkdirDurable(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("cannot use %s: not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot stat %s: %w", dir, err)
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot create directory: %w", err)
	}
	return SyncDir(parent)
}

// SyncDir makes the entries of dir (files created, renamed or removed in
// it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open directory to fsync it: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot fsync directory %s: %w", dir, err)
	}
	return nil
}

// removeOverlaps removes the data files in dir of f's topic and partition
// whose offset range overlaps f's, except f's own name (which the rename
// replaces), and returns them; from is the offset the partition's re-read
// began at. An overlapping file that starts before from is kept and
// returned in kept: its rows before from are not being read again (the
// group's offsets went back past committed files: a reset to the earliest,
// or offsets that expired, after retention deleted the topic's head), so
// removing it would lose them; the rows of the overlap are then in two
// files.
//
// An overlapping file whose first message is not the one now read at its
// first offset (keepOtherMessages) holds other messages: the topic was
// deleted and recreated, and its offsets started again at 0. Its rows are
// read by no one again, so it is kept, renamed out of the partition's
// names, and returned in aside.
//
// Why this is safe: offsets are committed only after a flush has made all
// its files durable, and a consumer re-reads from the committed offset. So
// a file is either committed (its last offset is below the committed
// offset) or written by a flush that did not commit (its first offset is at
// or above it). A new file starts at or after the committed offset, so the
// only files it can overlap are uncommitted ones, whose offsets are being
// re-read right now: each of their rows is written again, in this file or a
// later one of the same folder whose range covers the row's offset — and
// that one removes the old file if this one did not. Removing before the
// rename means a reader never sees a row twice; it may briefly miss rows of
// offsets that are not committed yet.
func removeOverlaps(dir string, entries []os.DirEntry, f File, from int64, stampAt stampFunc,
	describe func(path string) removedFile) (removed []removedFile, kept []string, aside []movedFile, err error) {
	prefix := f.Topic + "-" + strconv.FormatInt(int64(f.Partition), 10) + "-"
	own := filepath.Base(f.Path)
	for _, e := range entries {
		name := e.Name()
		if name == own || e.IsDir() {
			continue
		}
		first, last, ok := parseRange(name, prefix)
		if !ok || last < f.FirstOffset || first > f.LastOffset {
			continue
		}
		p := filepath.Join(dir, name)
		if first < from {
			kept = append(kept, p)
			continue
		}
		moved, err := keepOtherMessages(p, first, stampAt)
		if err != nil {
			return removed, kept, aside, err
		}
		if moved != "" {
			aside = append(aside, movedFile{from: p, to: moved})
			continue
		}
		rf := describe(p)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, kept, aside, fmt.Errorf("cannot remove %s, which overlaps %s: %w", p, own, err)
		}
		removed = append(removed, rf)
	}
	return removed, kept, aside, nil
}

// keepOtherMessages renames the data file at path, whose first offset is
// first, out of the way when it holds other messages than those now read
// at its offsets, and returns its new name ("" when it was left alone).
// The file records its first message's Kafka timestamp (MetaFirstTime),
// and the Writer either holds a message at first with another known
// timestamp, or holds none there: a re-delivery re-reads the message at
// first with the rows it had, so the flush that holds it writes them to
// this folder and removes this file; no later flush finds it. The new
// name, NAME.tsMS.parquet with MS the file's timestamp, is still read as
// data by every reader, and is no name Flush gives, so no later flush
// removes it. A file without the timestamp (written by Add) or that
// cannot be read is left to the caller, as before this check.
func keepOtherMessages(path string, first int64, stampAt stampFunc) (string, error) {
	ms, held := stampAt(first)
	if held && ms <= 0 {
		return "", nil
	}
	f, pf, err := open(path, true)
	if err != nil {
		return "", nil
	}
	s, _ := pf.Lookup(MetaFirstTime)
	f.Close()
	fileMS, err := strconv.ParseInt(s, 10, 64)
	if err != nil || fileMS <= 0 || fileMS == ms {
		return "", nil
	}
	to := strings.TrimSuffix(path, ".parquet") + ".ts" + strconv.FormatInt(fileMS, 10) + ".parquet"
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("cannot keep %s, which holds other messages at the offsets being written: %w", path, err)
	}
	return to, nil
}

// removeStaleTemps removes the temporary files in dir (entries) of f's
// topic and partition but keep, the one being written, and returns how
// many it removed and the ones it could not remove, with why.
//
// Why this is safe, and enough: a partition has one writer at a time (the
// consumer group's), and this Writer writes a partition's files one after
// another under Writer.mu, so a temporary file of f's partition other than
// keep was left by a flush that did not commit: one cut by a crash (or a
// failed flush that could not remove it), or one of an old owner that lost
// the partition mid-flush and may still be writing it. That one's rename
// then fails (its temporary name is gone), so its flush fails and commits
// nothing; it could not commit anyway, having lost the partition. Either
// way the flush's offsets were not committed (offsets are committed after
// every file of a flush is in place), so whoever owns the partition next
// re-reads them and writes their rows into the same hour folders (a row's
// folder is its sample's hour), and removes the leftovers then. Temporary
// files of other partitions, whose owners may be writing them now, are not
// touched: the name must be exactly
// ".tmp-TOPIC-PARTITION-FIRST-LAST.parquet-RANDOM", as writeFile makes it.
//
// A leftover that cannot be removed (permissions, a sticky directory, a
// read-only entry; a directory of that name that is not empty) does not
// fail the flush: it holds no row that is not written again, and readers
// skip it, so the caller warns and goes on.
func removeStaleTemps(dir string, entries []os.DirEntry, f File, keep string) (int, []staleTemp) {
	prefix := f.Topic + "-" + strconv.FormatInt(int64(f.Partition), 10) + "-"
	n := 0
	var failed []staleTemp
	for _, e := range entries {
		name := e.Name()
		if name == keep || !isTempOf(name, prefix) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			failed = append(failed, staleTemp{path: p, err: err})
			continue
		}
		n++
	}
	return n, failed
}

// staleTemp is a leftover temporary file that could not be removed.
type staleTemp struct {
	path string
	err  error
}

// isTempOf reports whether name is a temporary file of writeFile for a
// data file whose name starts with prefix ("TOPIC-PARTITION-"):
// ".tmp-" + the data file's name + "-" + os.CreateTemp's random digits.
func isTempOf(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, ".tmp-")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || i == len(rest)-1 || strings.Trim(rest[i+1:], "0123456789") != "" {
		return false
	}
	_, _, ok = parseRange(rest[:i], prefix)
	return ok
}

// describe says who wrote the file at path, of partition k, which is
// about to be removed or replaced: by path, not by modification time,
// which cannot tell this Writer's files from those another member wrote
// since it started.
func (e *encoder) describe(k partKey, path string) removedFile {
	rf := removedFile{path: path}
	if rows, ok := e.own[k][path]; ok {
		rf.rows, rf.own = rows, true
		return rf
	}
	if _, ok := e.unflushed[path]; ok {
		rf.unflushed = true
		return rf
	}
	if info, err := ReadFileInfo(path); err == nil {
		rf.rows = info.Rows
	}
	return rf
}

// forget notes files of partition k removed or replaced: they are no
// longer this Writer's, whoever writes the same name next.
func (e *encoder) forget(k partKey, removed []removedFile) {
	for _, rf := range removed {
		delete(e.own[k], rf.path)
		delete(e.unflushed, rf.path)
	}
	e.removed = append(e.removed, removed...)
}

// flushed notes the files a successful flush returned as the Writer's own,
// in place of its partitions' earlier ones; every file failed flushes left
// is now among them or removed, or of a partition Discard dropped.
func (e *encoder) flushed(files []File) {
	for i, f := range files {
		k := partKey{f.Topic, f.Partition}
		if i == 0 || k != (partKey{files[i-1].Topic, files[i-1].Partition}) {
			e.own[k] = map[string]int64{}
		}
		e.own[k][f.Path] = f.Rows
	}
	clear(e.unflushed)
}

// parseRange parses PREFIX + "FIRST-LAST.parquet", the name Flush gives a
// file, where prefix is "TOPIC-PARTITION-".
func parseRange(name, prefix string) (first, last int64, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found {
		return 0, 0, false
	}
	rest, found = strings.CutSuffix(rest, ".parquet")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-")
	if !found || len(a) < 12 || len(b) < 12 {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, false
	}
	return first, last, true
}
