package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telekernel/telekernel/schemas"
)

// Time ranges the table time types can hold.
const (
	// DateTime is seconds in a UInt32.
	legacyMaxSec = math.MaxUint32
	// DateTime64 starts at 1900-01-01.
	modernMinNanos = -2208988800 * int64(time.Second)
	// legacyEndNanos is the first Unix nanosecond past the DateTime range.
	legacyEndNanos = (legacyMaxSec + 1) * int64(time.Second)
)

// The times a DateTime64(9) column holds: from 1900 to the last
// nanosecond of an int64 (2262-04-11); the driver sends a time.Time as its
// UnixNano, which is wrong outside.
var modernMinTime, modernMaxTime = time.Unix(0, modernMinNanos).UTC(), time.Unix(0, math.MaxInt64).UTC()

// InsertSamples writes the rows of recs, which must have the samples Arrow
// schema (schemas.SamplesSchema), as one INSERT into the samples table and
// returns the number of rows written. Columns go to the driver as typed
// slices built from the Arrow arrays: the records of each block of about
// Config.BatchRows rows are gathered, a run of about 8192 rows at a time,
// into one slice per column, appended to the driver once per column and
// run; each block is sent whole.
//
// All records are checked before anything is sent, so input that breaks
// the contract (ErrBadInput) writes nothing. When the INSERT fails midway
// some blocks may already be stored; re-sending the same rows is harmless,
// because the table deduplicates on its sort key (see the package doc).
// Classify errors with IsRetryable.
//
// InsertSamples blocks until the server acknowledges the insert. It only
// reads recs and keeps no reference to them after it returns; the caller
// still owns and releases them.
func (s *Sink) InsertSamples(ctx context.Context, recs []arrow.RecordBatch) (_ int, err error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	total, err := checkSamples(recs)
	if err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, nil
	}
	l, err := s.layout(ctx, schemas.TableSamples)
	if err != nil {
		return 0, err
	}
	if l == schemas.LayoutLegacy {
		if err := checkLegacyRange(recs); err != nil {
			return 0, err
		}
	}
	cols := schemas.ClickHouseColumns(schemas.TableSamples, l)
	ictx, w := s.ins.watch(ctx)
	defer func() {
		if err != nil {
			err = s.insertError(schemas.TableSamples, total, w.end(err))
		} else {
			w.end(nil)
		}
	}()
	b, err := s.conn.PrepareBatch(s.insertContext(ictx), insertStatement(s.db, schemas.TableSamples, cols))
	if err != nil {
		return 0, err
	}
	defer b.Close()

	var sc *sampleScratch
	select {
	case sc = <-s.scratch:
	default:
		sc = new(sampleScratch)
	}
	defer func() {
		sc.reset()
		select {
		case s.scratch <- sc:
		default:
		}
	}()

	for start := 0; start < len(recs); {
		end := chunkEnd(recs, start, s.cfg.BatchRows)
		if err := appendSamples(b, cols, sc, recs[start:end], l); err != nil {
			return 0, err
		}
		if start = end; start < len(recs) {
			if err := b.Flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := b.Send(); err != nil {
		return 0, err
	}
	s.noteExpired(recs, l, time.Now())
	return total, nil
}

// chunkEnd returns the end of the records, from start, that make one block:
// up to and including the record with which the rows reach batchRows.
func chunkEnd(recs []arrow.RecordBatch, start, batchRows int) int {
	rows := 0
	for i := start; i < len(recs); i++ {
		if rows += int(recs[i].NumRows()); rows >= batchRows {
			return i + 1
		}
	}
	return len(recs)
}

func (s *Sink) insertError(table string, rows int, err error) error {
	var ex *ch.Exception
	if errors.As(err, &ex) && !IsRetryable(err) {
		// The table may have been changed under us: look again next time.
		s.forgetLayout(table)
	}
	return fmt.Errorf("cannot insert %d rows into %s.%s: %w%s", rows, s.cfg.Database, table, err, schemaHint(err))
}

// checkSamples checks the schema and required columns of every record and
// returns the total number of rows.
func checkSamples(recs []arrow.RecordBatch) (int, error) {
	total := 0
	for i, rec := range recs {
		if !rec.Schema().Equal(schemas.SamplesSchema()) {
			return 0, fmt.Errorf("%w: record %d does not have the samples v%d schema: %s", ErrBadInput, i, schemas.SamplesVersion, oneLine(rec.Schema().String()))
		}
		for _, c := range []int{schemas.ColTS, schemas.ColDevice, schemas.ColMetric, schemas.ColKeys, schemas.ColKind, schemas.ColSource} {
			if rec.Column(c).NullN() != 0 {
				return 0, fmt.Errorf("%w: record %d column %s has nulls", ErrBadInput, i, rec.Schema().Field(c).Name)
			}
		}
		ts := rec.Column(schemas.ColTS).(*array.Timestamp).TimestampValues()
		for j, v := range ts {
			if int64(v) < modernMinNanos {
				return 0, fmt.Errorf("%w: record %d row %d: ts %d is before 1900", ErrBadInput, i, j, int64(v))
			}
		}
		total += int(rec.NumRows())
	}
	return total, nil
}

// checkLegacyRange checks that every ts fits a DateTime (1970 to 2106).
func checkLegacyRange(recs []arrow.RecordBatch) error {
	for i, rec := range recs {
		for j, v := range rec.Column(schemas.ColTS).(*array.Timestamp).TimestampValues() {
			// The same as splitNanos's seconds in [0, legacyMaxSec], without
			// the division.
			if v < 0 || int64(v) >= legacyEndNanos {
				return fmt.Errorf("%w: record %d row %d: ts %s is outside the DateTime range of the legacy layout (1970 to 2106)",
					ErrBadInput, i, j, time.Unix(0, int64(v)).UTC().Format(time.RFC3339Nano))
			}
		}
	}
	return nil
}

// splitNanos splits Unix nanoseconds into seconds and the nanoseconds within
// that second, rounding the seconds down so frac is never negative.
func splitNanos(ns int64) (sec int64, frac uint32) {
	sec, rem := ns/int64(time.Second), ns%int64(time.Second)
	if rem < 0 {
		sec--
		rem += int64(time.Second)
	}
	return sec, uint32(rem)
}

// columns is what appendSamples writes to: a driver batch, or columns under
// test.
type columns interface {
	Column(int) driver.BatchColumn
}

// sampleScratch holds the typed slices handed to the driver for one run of
// about appendRows rows (the rows of several records, gathered). It is
// reused between runs, blocks and calls (the driver copies what it is
// given), and reset after each call so it pins no Arrow memory.
type sampleScratch struct {
	times                        []time.Time
	secs                         []int64
	fracs                        []uint32
	device, metric, keys, source []string
	kind                         []uint8
	u64                          []uint64
	f64                          []float64
	strs                         []string
	u64p                         []*uint64
	f64p                         []*float64
	strp                         []*string
	dict                         []string // one record's dictionary values
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// dictColumn returns the samples column of the dictionary-encoded string
// column name (device, metric, keys or source) and its scratch slice.
func (sc *sampleScratch) dictColumn(name string) (int, *[]string) {
	switch name {
	case "device":
		return schemas.ColDevice, &sc.device
	case "metric":
		return schemas.ColMetric, &sc.metric
	case "keys":
		return schemas.ColKeys, &sc.keys
	}
	return schemas.ColSource, &sc.source
}

// reset drops references into Arrow buffers.
func (sc *sampleScratch) reset() {
	for _, s := range []*[]string{&sc.device, &sc.metric, &sc.keys, &sc.source, &sc.strs, &sc.dict} {
		clear((*s)[:cap(*s)])
	}
	clear(sc.u64p[:cap(sc.u64p)])
	clear(sc.f64p[:cap(sc.f64p)])
	clear(sc.strp[:cap(sc.strp)])
}

// dictStrings writes the values of a dictionary-encoded string column to
// dst, which must hold col.Len() strings. A dictionary no longer than the
// column has each entry looked up once, into vals (grown and reused), and
// the rows copied from there: a row then costs an index and a copy, not a
// look-up of offsets. It returns vals for the next call. The strings alias
// the record's memory.
func dictStrings(dst []string, col arrow.Array, vals []string) []string {
	d := col.(*array.Dictionary)
	dict := d.Dictionary().(*array.String)
	idx, ok := d.Indices().(*array.Int32)
	if !ok || dict.Len() > d.Len() {
		for i := range dst[:d.Len()] {
			dst[i] = dict.Value(d.GetValueIndex(i))
		}
		return vals
	}
	vals = grow(vals, dict.Len())
	for k := range vals {
		vals[k] = dict.Value(k)
	}
	for i, j := range idx.Int32Values() {
		dst[i] = vals[j]
	}
	return vals
}

// gather returns the values of column col of every record, concatenated
// into buf (grown and reused), or the record's own values when there is
// one record. It also returns buf for the next call.
func gather[T any](recs []arrow.RecordBatch, col int, buf []T, values func(arrow.Array) []T) ([]T, []T) {
	if len(recs) == 1 {
		return values(recs[0].Column(col)), buf
	}
	buf = buf[:0]
	for _, rec := range recs {
		buf = append(buf, values(rec.Column(col))...)
	}
	return buf, buf
}

// nullsIn returns the number of nulls in column col of recs.
func nullsIn(recs []arrow.RecordBatch, col int) int {
	n := 0
	for _, rec := range recs {
		n += rec.Column(col).NullN()
	}
	return n
}

// appendRows is about the number of rows appendSamples hands the driver
// per column and append: few appends per block (the driver's cost per
// append is small), and scratch slices of about 1 MB whatever batch_rows
// is, small enough to stay in the CPU's caches between filling and
// appending, and for the garbage collector's scans of the strings they
// hold (pointers into Arrow memory) to cost next to nothing. A block is
// still sent whole: appends are not flushes.
const appendRows = 8192

// appendSamples appends the rows of recs to the batch columns named cols
// (the samples table columns of layout l, in insert order), one append per
// column for each run of records of about appendRows rows. recs must have
// passed checkSamples (and checkLegacyRange for the legacy layout).
func appendSamples(dst columns, cols []string, sc *sampleScratch, recs []arrow.RecordBatch, l schemas.Layout) error {
	for start := 0; start < len(recs); {
		end := chunkEnd(recs, start, appendRows)
		if err := appendRun(dst, cols, sc, recs[start:end], l); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// appendRun is appendSamples for one run of records: one append per column.
func appendRun(dst columns, cols []string, sc *sampleScratch, recs []arrow.RecordBatch, l schemas.Layout) error {
	n := 0
	for _, rec := range recs {
		n += int(rec.NumRows())
	}
	sc.fillTimes(recs, n, l)
	for i, name := range cols {
		var v any
		switch name {
		case "ts":
			if v = sc.times; l == schemas.LayoutLegacy {
				v = sc.secs
			}
		case "ts_frac":
			v = sc.fracs
		case "device", "metric", "keys", "source":
			col, buf := sc.dictColumn(name)
			*buf = grow(*buf, n)
			at := 0
			for _, rec := range recs {
				sc.dict = dictStrings((*buf)[at:], rec.Column(col), sc.dict)
				at += int(rec.NumRows())
			}
			v = *buf
		case "kind":
			v, sc.kind = gather(recs, schemas.ColKind, sc.kind, func(a arrow.Array) []uint8 { return a.(*array.Uint8).Uint8Values() })
		case "value_u64":
			v, sc.u64, sc.u64p = nullable(recs, schemas.ColValueU64, sc.u64, sc.u64p, func(a arrow.Array) []uint64 { return a.(*array.Uint64).Uint64Values() })
		case "value_f64":
			v, sc.f64, sc.f64p = nullable(recs, schemas.ColValueF64, sc.f64, sc.f64p, func(a arrow.Array) []float64 { return a.(*array.Float64).Float64Values() })
		case "value_str":
			v = sc.fillStrings(recs, n)
		default:
			return fmt.Errorf("samples column %s has no source (this build does not know the layout)", name)
		}
		if err := dst.Column(i).Append(v); err != nil {
			return &columnTypeError{column: name, err: err}
		}
	}
	return nil
}

// fillTimes sets the ts columns of layout l for the n rows of recs.
func (sc *sampleScratch) fillTimes(recs []arrow.RecordBatch, n int, l schemas.Layout) {
	if l == schemas.LayoutLegacy {
		sc.secs, sc.fracs = grow(sc.secs, n), grow(sc.fracs, n)
	} else {
		sc.times = grow(sc.times, n)
	}
	at := 0
	for _, rec := range recs {
		ts := rec.Column(schemas.ColTS).(*array.Timestamp).TimestampValues()
		if l == schemas.LayoutLegacy {
			for i, v := range ts {
				sc.secs[at+i], sc.fracs[at+i] = splitNanos(int64(v))
			}
		} else {
			for i, v := range ts {
				sc.times[at+i] = time.Unix(0, int64(v)).UTC()
			}
		}
		at += len(ts)
	}
}

// fillStrings returns the value_str column of the n rows of recs: a
// pointer per row, nil for a null.
func (sc *sampleScratch) fillStrings(recs []arrow.RecordBatch, n int) []*string {
	sc.strs, sc.strp = grow(sc.strs, n), grow(sc.strp, n)
	if nullsIn(recs, schemas.ColValueStr) == n {
		clear(sc.strp)
		return sc.strp
	}
	at := 0
	for _, rec := range recs {
		a := rec.Column(schemas.ColValueStr).(*array.String)
		for j := range a.Len() {
			if a.IsNull(j) {
				sc.strp[at+j] = nil
			} else {
				sc.strs[at+j] = a.Value(j)
				sc.strp[at+j] = &sc.strs[at+j]
			}
		}
		at += a.Len()
	}
	return sc.strp
}

// InsertDetections validates ds and writes them as one INSERT into the
// detections table, returning the number written. A detection that breaks
// the contract fails the whole call with ErrBadInput before anything is
// sent. Re-sending the same detections is harmless: the table deduplicates
// on (device, metric, keys, event_time, id). It keeps no reference to ds.
func (s *Sink) InsertDetections(ctx context.Context, ds []schemas.Detection) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if len(ds) == 0 {
		return 0, nil
	}
	for i := range ds {
		if err := ds[i].Validate(); err != nil {
			return 0, fmt.Errorf("%w: detection %d (id %q): %v", ErrBadInput, i, ds[i].ID, err)
		}
	}
	l, err := s.layout(ctx, schemas.TableDetections)
	if err != nil {
		return 0, err
	}
	dc, err := detectionColumns(ds, l)
	if err != nil {
		return 0, err
	}
	cols := schemas.ClickHouseColumns(schemas.TableDetections, l)
	if err := s.sendCols(ctx, schemas.TableDetections, len(ds), cols, dc); err != nil {
		return 0, err
	}
	return len(ds), nil
}

// detectionColumns flattens ds into the columns of layout l.
func detectionColumns(ds []schemas.Detection, l schemas.Layout) (cols, error) {
	type D = schemas.Detection
	dc := cols{
		"id":       colOf(ds, func(d *D) string { return d.ID }),
		"version":  colOf(ds, func(d *D) uint8 { return uint8(d.Version) }),
		"state":    colOf(ds, func(d *D) string { return d.State }),
		"device":   colOf(ds, func(d *D) string { return d.Device }),
		"metric":   colOf(ds, func(d *D) string { return d.Metric }),
		"keys":     colOf(ds, func(d *D) string { return d.Keys }),
		"detector": colOf(ds, func(d *D) string { return d.Detector }),
		"detectors": colOf(ds, func(d *D) []string {
			if d.Detectors == nil {
				return []string{}
			}
			return d.Detectors
		}),
		"score":       colOf(ds, func(d *D) float64 { return d.Score }),
		"severity":    colOf(ds, func(d *D) string { return d.Severity }),
		"observed":    colOf(ds, func(d *D) float64 { return d.Observed }),
		"expected":    colOf(ds, func(d *D) float64 { return d.Expected }),
		"band_lower":  colOf(ds, func(d *D) float64 { return d.Band.Lower }),
		"band_upper":  colOf(ds, func(d *D) float64 { return d.Band.Upper }),
		"fingerprint": colOf(ds, func(d *D) string { return d.Fingerprint }),
	}
	for _, m := range []struct {
		name string
		get  func(*D) map[string]string
	}{{"labels", func(d *D) map[string]string { return d.Labels }}, {"annotations", func(d *D) map[string]string { return d.Annotations }}} {
		v := make([]string, len(ds))
		for i := range ds {
			var err error
			if v[i], err = jsonObject(m.get(&ds[i])); err != nil {
				return nil, fmt.Errorf("%w: detection %d (id %q) %s: %v", ErrBadInput, i, ds[i].ID, m.name, err)
			}
		}
		dc[m.name] = v
	}
	for _, tc := range []struct {
		name string
		get  func(*D) *time.Time // nil for a NULL
	}{
		{"event_time", func(d *D) *time.Time { return &d.EventTime }},
		{"detected_at", func(d *D) *time.Time { return &d.DetectedAt }},
		{"starts_at", func(d *D) *time.Time { return &d.StartsAt }},
		{"ends_at", func(d *D) *time.Time { return d.EndsAt }},
	} {
		if err := setTimes(dc, ds, tc.name, l, tc.name == "ends_at", false, tc.get); err != nil {
			return nil, err
		}
	}
	return dc, nil
}

// jsonObject encodes m as a JSON object with sorted keys; nil is {}.
func jsonObject(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// nullable returns the column to append for column col of recs, with
// values as its typed values: the values themselves (gathered into vals
// when there are several records) when no row is null, else ptrs (grown
// and reused) holding a pointer into the gathered values per row and nil
// for a null (only nils, without gathering, when every row is null). It
// also returns vals and ptrs for the next call.
func nullable[T any](recs []arrow.RecordBatch, col int, vals []T, ptrs []*T, values func(arrow.Array) []T) (any, []T, []*T) {
	nulls, n := nullsIn(recs, col), 0
	if nulls == 0 {
		var all []T
		all, vals = gather(recs, col, vals, values)
		return all, vals, ptrs
	}
	for _, rec := range recs {
		n += int(rec.NumRows())
	}
	if ptrs = grow(ptrs, n); nulls == n {
		clear(ptrs)
		return ptrs, vals, ptrs
	}
	all, vals := gather(recs, col, vals, values)
	at := 0
	for _, rec := range recs {
		a := rec.Column(col)
		for j := range a.Len() {
			if a.IsNull(j) {
				ptrs[at+j] = nil
			} else {
				ptrs[at+j] = &all[at+j]
			}
		}
		at += a.Len()
	}
	return ptrs, vals, ptrs
}
