package schemas

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reasons a single sample is dropped. The collectors count the values they
// drop under the same names, so one dashboard query covers both ends.
const (
	// DropBadTimestamp is a sample whose time is outside the window
	// [MinSampleTime, MaxSampleTime).
	DropBadTimestamp = "bad_timestamp"
	// DropInvalidUTF8 is a sample with a string (device, metric, keys,
	// source or state value) that is not valid UTF-8.
	DropInvalidUTF8 = "invalid_utf8"
	// DropBadName is a sample whose device or metric is empty, which names
	// no series (a detection of it could not be written), or holds a NUL
	// byte, which ends a name in a changelog key (pipeline.StateKey): its
	// state would come back under another series.
	DropBadName = "bad_name"
)

// The window of sample times the stages keep, in Unix nanoseconds:
// [2000-01-01, 2100-01-01) UTC. It is fixed, not relative to the clock, so
// every stage keeps the same rows whenever it reads a message (Parquet and
// ClickHouse agree, a replay of old data is kept), and lies inside what
// every table layout stores (the legacy DateTime ends in 2106, DateTime64
// starts in 1900). The collectors apply a tighter window around their
// clock.
const (
	MinSampleTime int64 = 946_684_800 * int64(time.Second)   // 2000-01-01T00:00:00Z
	MaxSampleTime int64 = 4_102_444_800 * int64(time.Second) // 2100-01-01T00:00:00Z
)

// RowDrops counts the rows CleanSamples dropped, by reason.
type RowDrops struct {
	BadTimestamp int64 // DropBadTimestamp
	InvalidUTF8  int64 // DropInvalidUTF8
	BadName      int64 // DropBadName
}

// Total returns the number of rows dropped.
func (d RowDrops) Total() int64 { return d.BadTimestamp + d.InvalidUTF8 + d.BadName }

// Add returns the sum of d and o.
func (d RowDrops) Add(o RowDrops) RowDrops {
	return RowDrops{BadTimestamp: d.BadTimestamp + o.BadTimestamp, InvalidUTF8: d.InvalidUTF8 + o.InvalidUTF8, BadName: d.BadName + o.BadName}
}

// Sub returns d less o.
func (d RowDrops) Sub(o RowDrops) RowDrops {
	return RowDrops{BadTimestamp: d.BadTimestamp - o.BadTimestamp, InvalidUTF8: d.InvalidUTF8 - o.InvalidUTF8, BadName: d.BadName - o.BadName}
}

// Each calls fn with every reason's name and count.
func (d RowDrops) Each(fn func(reason string, n int64)) {
	fn(DropBadTimestamp, d.BadTimestamp)
	fn(DropInvalidUTF8, d.InvalidUTF8)
	fn(DropBadName, d.BadName)
}

// CleanSamples returns rec, a record of the samples schema (as DecodeSamples
// returns), without the rows no stage may store: a time outside
// [MinSampleTime, MaxSampleTime), a string that is not valid UTF-8, or a
// device or metric that is empty or holds a NUL. The other rows of the
// message are kept, in order. When every row is good, it returns rec
// itself, retained; otherwise a new record allocated from mem (possibly
// with no rows). Either way the caller releases the result and still owns
// rec. It does no I/O and reads no clock.
func CleanSamples(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, RowDrops) {
	var drops RowDrops
	bad := badRows(rec, &drops)
	if bad == nil {
		rec.Retain()
		return rec, drops
	}
	r, _ := NewSampleReader(rec) // rec has the samples schema
	b := NewSampleBuilder(mem)
	defer b.Release()
	var s Sample
	for i := 0; i < r.Len(); i++ {
		if !bad[i] {
			r.Row(i, &s)
			b.Append(&s)
		}
	}
	return b.NewRecord(), drops
}

// badRows marks the rows CleanSamples drops and counts them in d; nil means
// none. A row with several problems counts once, under the first of a bad
// timestamp, invalid UTF-8 and a bad name.
func badRows(rec arrow.RecordBatch, d *RowDrops) []bool {
	n := int(rec.NumRows())
	var bad []bool
	mark := func(i int, counter *int64) {
		if bad == nil {
			bad = make([]bool, n)
		}
		if !bad[i] {
			bad[i] = true
			*counter++
		}
	}
	lo, hi := MinSampleTime, MaxSampleTime
	for i, v := range rec.Column(ColTS).(*array.Timestamp).TimestampValues() {
		if int64(v) < lo || int64(v) >= hi {
			mark(i, &d.BadTimestamp)
		}
	}
	for _, c := range []int{ColDevice, ColMetric, ColKeys, ColSource} {
		col := rec.Column(c).(*array.Dictionary)
		badEntry := invalidEntries(col.Dictionary().(*array.String))
		if badEntry == nil {
			continue
		}
		idx := col.Indices().(*array.Int32).Int32Values()
		for i, j := range idx {
			if badEntry[j] {
				mark(i, &d.InvalidUTF8)
			}
		}
	}
	str := rec.Column(ColValueStr).(*array.String)
	for i := 0; i < n; i++ {
		if str.IsValid(i) && !utf8.ValidString(str.Value(i)) {
			mark(i, &d.InvalidUTF8)
		}
	}
	for _, c := range []int{ColDevice, ColMetric} {
		col := rec.Column(c).(*array.Dictionary)
		dict := col.Dictionary().(*array.String)
		var badName []bool // the entries that are "" or hold a NUL (any writer's dictionary may repeat one)
		for j := 0; j < dict.Len(); j++ {
			if v := dict.Value(j); v == "" || strings.IndexByte(v, 0) >= 0 {
				if badName == nil {
					badName = make([]bool, dict.Len())
				}
				badName[j] = true
			}
		}
		if badName == nil {
			continue
		}
		for i, j := range col.Indices().(*array.Int32).Int32Values() {
			if badName[j] {
				mark(i, &d.BadName)
			}
		}
	}
	return bad
}

// invalidEntries marks the entries of a dictionary that are not valid
// UTF-8; nil means all are.
func invalidEntries(dict *array.String) []bool {
	var bad []bool
	for j := 0; j < dict.Len(); j++ {
		if !utf8.ValidString(dict.Value(j)) {
			if bad == nil {
				bad = make([]bool, dict.Len())
			}
			bad[j] = true
		}
	}
	return bad
}
