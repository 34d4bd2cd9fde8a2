package publish

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// Batch accumulates the samples of one device and one source into Arrow
// records of the samples schema, for collectors' hot paths: the device and
// source are fixed, and a caller that keeps a series' dictionary indices
// (MetricIndex, KeysIndex, valid while Gen is unchanged) appends a row
// without hashing a string or allocating.
//
// A Batch is not safe for concurrent use. Call Release when done.
type Batch struct {
	device, source string
	gen            uint32
	mem            memory.Allocator

	ts                   *array.TimestampBuilder
	metricIdx, keysIdx   *array.Int32Builder
	metricDict, keysDict *array.StringBuilder
	metricMemo, keysMemo map[string]int32
	kind                 *array.Uint8Builder
	u64                  *array.Uint64Builder
	f64                  *array.Float64Builder
	str                  *array.StringBuilder
	deviceDict, srcDict  *array.StringBuilder
	devType, metricType  arrow.DataType
	keysType, sourceType arrow.DataType
	size                 int // Size's estimate
	// expect and expectStr are the rows and state bytes of the last
	// record, which the next record's first row reserves (reserve).
	expect, expectStr int
	released          bool
}

// Size estimate of the Arrow IPC encoding of a record: a fixed part for the
// schema, dictionary and record messages, each row's fixed-width columns
// (ts 8, four dictionary indices 4 each, kind 1, u64 8, f64 8, a string
// offset 4, validity bits, padding), and the strings.
const (
	sizeFixed  = 4 << 10
	sizePerRow = 48
	sizePerStr = 8 // a dictionary entry's offset and padding, besides its bytes
)

// NewBatch returns an empty batch of device's samples from source.
func NewBatch(mem memory.Allocator, device, source string) *Batch {
	sch := schemas.SamplesSchema()
	b := &Batch{device: device, source: source, gen: 1, mem: mem,
		ts:         array.NewTimestampBuilder(mem, sch.Field(schemas.ColTS).Type.(*arrow.TimestampType)),
		metricIdx:  array.NewInt32Builder(mem),
		keysIdx:    array.NewInt32Builder(mem),
		metricDict: array.NewStringBuilder(mem),
		keysDict:   array.NewStringBuilder(mem),
		metricMemo: map[string]int32{},
		keysMemo:   map[string]int32{},
		kind:       array.NewUint8Builder(mem),
		u64:        array.NewUint64Builder(mem),
		f64:        array.NewFloat64Builder(mem),
		str:        array.NewStringBuilder(mem),
		deviceDict: array.NewStringBuilder(mem),
		srcDict:    array.NewStringBuilder(mem),
		devType:    sch.Field(schemas.ColDevice).Type,
		metricType: sch.Field(schemas.ColMetric).Type,
		keysType:   sch.Field(schemas.ColKeys).Type,
		sourceType: sch.Field(schemas.ColSource).Type,
	}
	return b
}

// SetDevice makes later rows belong to device. It panics if rows are
// pending: take them with NewRecord first.
func (b *Batch) SetDevice(device string) {
	if b.Len() > 0 {
		panic("publish: SetDevice on a batch with pending rows")
	}
	b.device = device
}

// Len returns the number of rows appended since the last NewRecord.
func (b *Batch) Len() int { return b.ts.Len() }

// Gen returns the generation of the dictionary indices: it changes with
// every NewRecord, and indices from an earlier generation are invalid. It
// is never 0, so a zero value held by a caller always reads as stale.
func (b *Batch) Gen() uint32 { return b.gen }

// MetricIndex returns the dictionary index of metric in the current record,
// adding it on first use.
func (b *Batch) MetricIndex(metric string) int32 {
	return b.dictIndex(b.metricMemo, b.metricDict, metric)
}

// KeysIndex returns the dictionary index of keys in the current record.
func (b *Batch) KeysIndex(keys string) int32 {
	return b.dictIndex(b.keysMemo, b.keysDict, keys)
}

func (b *Batch) dictIndex(memo map[string]int32, dict *array.StringBuilder, s string) int32 {
	if i, ok := memo[s]; ok {
		return i
	}
	b.size += len(s) + sizePerStr
	i := int32(dict.Len())
	dict.Append(s)
	memo[s] = i
	return i
}

// Size returns an upper estimate of the encoded size (Arrow IPC, as
// schemas.EncodeSamples writes it) of the rows appended since the last
// NewRecord: a collector compares it with the publisher's MaxBatchBytes to
// produce a batch before it grows past what Kafka accepts.
func (b *Batch) Size() int {
	if b.Len() == 0 {
		return 0
	}
	return sizeFixed + b.size + len(b.device) + len(b.source)
}

func (b *Batch) row(ts int64, metric, keys int32, kind schemas.Kind) {
	if b.expect > 1 && b.ts.Len() == 0 {
		b.reserve()
	}
	b.ts.Append(arrow.Timestamp(ts))
	b.metricIdx.Append(metric)
	b.keysIdx.Append(keys)
	b.kind.Append(uint8(kind))
	b.size += sizePerRow
}

// reserve makes room in every column for as many rows, and state bytes,
// as the last record had, so a steady stream of records allocates each
// column once per record instead of growing it by doubling through six or
// more smaller buffers, each of which a pooled allocator would keep for a
// later record (the gNMI collector's figures: collectors README,
// "Benchmarks"). It is called at a record's first row, so an idle batch
// holds nothing. Arrow's
// builders round a reservation up to the power of two above it (4096 rows
// to 8192), so it asks for one row fewer, which rounds to the power of two
// at or above the rows.
func (b *Batch) reserve() {
	n := b.expect - 1
	b.ts.Reserve(n)
	b.metricIdx.Reserve(n)
	b.keysIdx.Reserve(n)
	b.kind.Reserve(n)
	b.u64.Reserve(n)
	b.f64.Reserve(n)
	b.str.Reserve(n)
	if b.expectStr > 0 {
		b.str.ReserveData(b.expectStr)
	}
}

// AppendCounter appends a counter sample; metric and keys are indices from
// MetricIndex and KeysIndex of the current generation.
func (b *Batch) AppendCounter(ts int64, metric, keys int32, v uint64) {
	b.row(ts, metric, keys, schemas.KindCounter)
	b.u64.Append(v)
	b.f64.AppendNull()
	b.str.AppendNull()
}

// AppendGauge appends a gauge sample.
func (b *Batch) AppendGauge(ts int64, metric, keys int32, v float64) {
	b.row(ts, metric, keys, schemas.KindGauge)
	b.u64.AppendNull()
	b.f64.Append(v)
	b.str.AppendNull()
}

// AppendState appends a state sample. v is copied.
func (b *Batch) AppendState(ts int64, metric, keys int32, v string) {
	b.row(ts, metric, keys, schemas.KindState)
	b.u64.AppendNull()
	b.f64.AppendNull()
	b.str.BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(v), len(v)))
	b.size += len(v)
}

// Append appends s, whose Device and Source are ignored (the batch's are
// used). It looks the metric and keys up by hashing: for paths that are not
// hot.
func (b *Batch) Append(s *schemas.Sample) {
	m, k := b.MetricIndex(s.Metric), b.KeysIndex(s.Keys)
	switch s.Kind {
	case schemas.KindCounter:
		b.AppendCounter(s.TS, m, k, s.U64)
	case schemas.KindGauge:
		b.AppendGauge(s.TS, m, k, s.F64)
	default:
		b.row(s.TS, m, k, s.Kind)
		b.u64.AppendNull()
		b.f64.AppendNull()
		b.str.Append(s.Str)
		b.size += len(s.Str)
	}
}

// NewRecord returns the rows appended so far as a record of the samples
// schema and starts a new generation. The caller owns the record and must
// Release it. A batch without rows returns nil.
func (b *Batch) NewRecord() arrow.RecordBatch {
	n := b.Len()
	if n == 0 {
		return nil
	}
	b.deviceDict.Append(b.device)
	b.srcDict.Append(b.source)
	cols := make([]arrow.Array, 0, 9)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	dict := func(t arrow.DataType, ia arrow.Array, values *array.StringBuilder) arrow.Array {
		va := values.NewArray()
		defer va.Release()
		return array.NewDictionaryArray(t, ia, va)
	}
	b.expect, b.expectStr = n, b.str.DataLen()
	mi, ki := b.metricIdx.NewArray(), b.keysIdx.NewArray()
	defer mi.Release()
	defer ki.Release()
	// Every row's device and source are the dictionaries' one entry: one
	// array of n zero indices serves both, built here rather than
	// appended row by row.
	zeros := memory.NewResizableBuffer(b.mem)
	zeros.Resize(n * arrow.Int32SizeBytes)
	zd := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{nil, zeros}, nil, 0, 0)
	zeros.Release()
	zi := array.NewInt32Data(zd)
	zd.Release()
	defer zi.Release()
	cols = append(cols, b.ts.NewArray(),
		dict(b.devType, zi, b.deviceDict),
		dict(b.metricType, mi, b.metricDict),
		dict(b.keysType, ki, b.keysDict),
		b.kind.NewArray(), b.u64.NewArray(), b.f64.NewArray(), b.str.NewArray(),
		dict(b.sourceType, zi, b.srcDict))
	rec := array.NewRecordBatch(schemas.SamplesSchema(), cols, int64(n))
	clear(b.metricMemo)
	clear(b.keysMemo)
	b.size = 0
	b.gen++
	if b.gen == 0 {
		b.gen = 1
	}
	return rec
}

// Release frees the batch's memory. Rows not taken by NewRecord are lost.
func (b *Batch) Release() {
	if b.released {
		return
	}
	b.released = true
	for _, r := range []interface{ Release() }{b.ts, b.metricIdx, b.keysIdx, b.metricDict,
		b.keysDict, b.kind, b.u64, b.f64, b.str, b.deviceDict, b.srcDict} {
		r.Release()
	}
}
