package schemas

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SamplesVersion is the version of the samples contract this build writes and
// the only one it reads.
const SamplesVersion = 1

// Kind tells how a sample's value is to be read.
type Kind uint8

// The kinds of sample. The zero Kind is invalid.
const (
	// KindCounter is a monotonic counter carried in value_u64 at full
	// 64-bit precision; it is differenced into a rate, never read as a level.
	KindCounter Kind = 1
	// KindGauge is a level carried in value_f64.
	KindGauge Kind = 2
	// KindState is an enumerated or textual state carried in value_str.
	KindState Kind = 3
)

// String returns the kind's name as used in configs and tables.
func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	case KindState:
		return "state"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses the name of a kind as returned by Kind.String.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "counter":
		return KindCounter, nil
	case "gauge":
		return KindGauge, nil
	case "state":
		return KindState, nil
	}
	return 0, fmt.Errorf("unknown sample kind %q (want counter, gauge or state)", s)
}

// Column positions in the samples schema.
const (
	ColTS = iota
	ColDevice
	ColMetric
	ColKeys
	ColKind
	ColValueU64
	ColValueF64
	ColValueStr
	ColSource
	numSampleCols
)

// Sources of samples.
const (
	SourceGNMI = "gnmi"
	SourceSNMP = "snmp"
	SourceSim  = "sim"
)

var dictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

var samplesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
	{Name: "device", Type: dictString},
	{Name: "metric", Type: dictString},
	{Name: "keys", Type: dictString},
	{Name: "kind", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "value_u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "value_f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "value_str", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "source", Type: dictString},
}, func() *arrow.Metadata {
	m := arrow.NewMetadata([]string{"telekernel.schema", "telekernel.version"}, []string{"samples", fmt.Sprint(SamplesVersion)})
	return &m
}())

// SamplesSchema returns the Arrow schema of samples, version SamplesVersion.
// The returned schema is shared and must not be modified.
func SamplesSchema() *arrow.Schema { return samplesSchema }

// Sample is one value of one series, in row form. The hot path works on Arrow
// records; Sample is for building them and for tests.
type Sample struct {
	TS     int64 // device time, Unix nanoseconds, UTC
	Device string
	Metric string // OpenConfig-style path without list keys
	Keys   string // canonical list keys, e.g. "name=Ethernet1"; empty when none
	Kind   Kind
	U64    uint64 // set when Kind is KindCounter
	F64    float64
	Str    string
	Source string
}

// SeriesKey identifies a series: (device, metric, keys).
type SeriesKey struct {
	Device, Metric, Keys string
}

// Series returns the key of the series the sample belongs to.
func (s *Sample) Series() SeriesKey { return SeriesKey{s.Device, s.Metric, s.Keys} }

// String formats the key as device|metric|keys.
func (k SeriesKey) String() string { return k.Device + "|" + k.Metric + "|" + k.Keys }

// SampleBuilder accumulates samples into Arrow records of the samples schema.
// It is not safe for concurrent use.
type SampleBuilder struct {
	b *array.RecordBuilder

	ts     *array.TimestampBuilder
	device *array.BinaryDictionaryBuilder
	metric *array.BinaryDictionaryBuilder
	keys   *array.BinaryDictionaryBuilder
	kind   *array.Uint8Builder
	u64    *array.Uint64Builder
	f64    *array.Float64Builder
	str    *array.StringBuilder
	source *array.BinaryDictionaryBuilder
}

// NewSampleBuilder returns a builder that allocates from mem. Call Release
// when done with it.
func NewSampleBuilder(mem memory.Allocator) *SampleBuilder {
	b := array.NewRecordBuilder(mem, samplesSchema)
	return &SampleBuilder{
		b:      b,
		ts:     b.Field(ColTS).(*array.TimestampBuilder),
		device: b.Field(ColDevice).(*array.BinaryDictionaryBuilder),
		metric: b.Field(ColMetric).(*array.BinaryDictionaryBuilder),
		keys:   b.Field(ColKeys).(*array.BinaryDictionaryBuilder),
		kind:   b.Field(ColKind).(*array.Uint8Builder),
		u64:    b.Field(ColValueU64).(*array.Uint64Builder),
		f64:    b.Field(ColValueF64).(*array.Float64Builder),
		str:    b.Field(ColValueStr).(*array.StringBuilder),
		source: b.Field(ColSource).(*array.BinaryDictionaryBuilder),
	}
}

// Append adds one sample. Only the value field that matches s.Kind is
// written; the other two are null.
func (sb *SampleBuilder) Append(s *Sample) {
	sb.ts.Append(arrow.Timestamp(s.TS))
	// Appending a string to a dictionary builder only fails on a type
	// mismatch, which cannot happen with our fixed schema.
	_ = sb.device.AppendString(s.Device)
	_ = sb.metric.AppendString(s.Metric)
	_ = sb.keys.AppendString(s.Keys)
	sb.kind.Append(uint8(s.Kind))
	switch s.Kind {
	case KindCounter:
		sb.u64.Append(s.U64)
		sb.f64.AppendNull()
		sb.str.AppendNull()
	case KindGauge:
		sb.u64.AppendNull()
		sb.f64.Append(s.F64)
		sb.str.AppendNull()
	default:
		sb.u64.AppendNull()
		sb.f64.AppendNull()
		sb.str.Append(s.Str)
	}
	_ = sb.source.AppendString(s.Source)
}

// Len returns the number of samples appended since the last NewRecord.
func (sb *SampleBuilder) Len() int { return sb.ts.Len() }

// NewRecord returns the samples appended so far as a record and resets the
// builder. The caller owns the record and must Release it.
func (sb *SampleBuilder) NewRecord() arrow.RecordBatch {
	// Dictionaries are per record: reset them so one device's names do not
	// leak into every later batch.
	rec := sb.b.NewRecordBatch()
	sb.device.ResetFull()
	sb.metric.ResetFull()
	sb.keys.ResetFull()
	sb.source.ResetFull()
	return rec
}

// Release frees the builder's memory.
func (sb *SampleBuilder) Release() { sb.b.Release() }

// SampleReader reads rows of a samples record without copying strings more
// than needed. It is not safe for concurrent use; the record must outlive it.
type SampleReader struct {
	rec    arrow.RecordBatch
	ts     *array.Timestamp
	device *array.Dictionary
	metric *array.Dictionary
	keys   *array.Dictionary
	kind   *array.Uint8
	u64    *array.Uint64
	f64    *array.Float64
	str    *array.String
	source *array.Dictionary

	deviceDict, metricDict, keysDict, sourceDict *array.String
	// The dictionary indices of device, metric and keys (int32 by the
	// schema), read directly by SeriesIndex: GetValueIndex switches on
	// the index type for every row.
	deviceIdx, metricIdx, keysIdx []int32
}

// NewSampleReader returns a reader over rec, which must have the samples
// schema (as every record returned by DecodeSamples has).
func NewSampleReader(rec arrow.RecordBatch) (*SampleReader, error) {
	if !rec.Schema().Equal(samplesSchema) {
		return nil, fmt.Errorf("record does not have the samples v%d schema: %s", SamplesVersion, rec.Schema())
	}
	r := &SampleReader{
		rec:    rec,
		ts:     rec.Column(ColTS).(*array.Timestamp),
		device: rec.Column(ColDevice).(*array.Dictionary),
		metric: rec.Column(ColMetric).(*array.Dictionary),
		keys:   rec.Column(ColKeys).(*array.Dictionary),
		kind:   rec.Column(ColKind).(*array.Uint8),
		u64:    rec.Column(ColValueU64).(*array.Uint64),
		f64:    rec.Column(ColValueF64).(*array.Float64),
		str:    rec.Column(ColValueStr).(*array.String),
		source: rec.Column(ColSource).(*array.Dictionary),
	}
	r.deviceDict = r.device.Dictionary().(*array.String)
	r.metricDict = r.metric.Dictionary().(*array.String)
	r.keysDict = r.keys.Dictionary().(*array.String)
	r.sourceDict = r.source.Dictionary().(*array.String)
	r.deviceIdx = r.device.Indices().(*array.Int32).Int32Values()
	r.metricIdx = r.metric.Indices().(*array.Int32).Int32Values()
	r.keysIdx = r.keys.Indices().(*array.Int32).Int32Values()
	return r, nil
}

// Len returns the number of rows.
func (r *SampleReader) Len() int { return int(r.rec.NumRows()) }

// TS returns row i's timestamp in Unix nanoseconds.
func (r *SampleReader) TS(i int) int64 { return int64(r.ts.Value(i)) }

// Device returns row i's device. The string aliases the record's memory and
// is valid only while the record is.
func (r *SampleReader) Device(i int) string { return dictValue(r.device, r.deviceDict, i) }

// Metric returns row i's metric, aliasing the record's memory.
func (r *SampleReader) Metric(i int) string { return dictValue(r.metric, r.metricDict, i) }

// Keys returns row i's keys, aliasing the record's memory.
func (r *SampleReader) Keys(i int) string { return dictValue(r.keys, r.keysDict, i) }

// SeriesIndex returns an identifier of row i's series that is unique within
// the record: its device, metric and keys dictionary indices packed into one
// integer. Rows of one series in one record share it, so a consumer can look
// a series up once per record instead of hashing three strings per row.
func (r *SampleReader) SeriesIndex(i int) uint64 {
	return uint64(uint32(r.deviceIdx[i]))<<42 | uint64(uint32(r.metricIdx[i]))<<21 | uint64(uint32(r.keysIdx[i]))
}

// Source returns row i's source, aliasing the record's memory.
func (r *SampleReader) Source(i int) string { return dictValue(r.source, r.sourceDict, i) }

// Kind returns row i's kind.
func (r *SampleReader) Kind(i int) Kind { return Kind(r.kind.Value(i)) }

// U64 returns row i's counter value and whether it is set.
func (r *SampleReader) U64(i int) (uint64, bool) {
	if r.u64.IsNull(i) {
		return 0, false
	}
	return r.u64.Value(i), true
}

// F64 returns row i's gauge value and whether it is set.
func (r *SampleReader) F64(i int) (float64, bool) {
	if r.f64.IsNull(i) {
		return 0, false
	}
	return r.f64.Value(i), true
}

// Str returns row i's state value and whether it is set, aliasing the
// record's memory.
func (r *SampleReader) Str(i int) (string, bool) {
	if r.str.IsNull(i) {
		return "", false
	}
	return r.str.Value(i), true
}

// Row copies row i into s. Strings are cloned, so s outlives the record.
func (r *SampleReader) Row(i int, s *Sample) {
	s.TS = r.TS(i)
	s.Device = clone(r.Device(i))
	s.Metric = clone(r.Metric(i))
	s.Keys = clone(r.Keys(i))
	s.Kind = r.Kind(i)
	s.U64, _ = r.U64(i)
	s.F64, _ = r.F64(i)
	str, _ := r.Str(i)
	s.Str = clone(str)
	s.Source = clone(r.Source(i))
}

// Samples returns all rows of a samples record as Sample values.
func Samples(rec arrow.RecordBatch) ([]Sample, error) {
	r, err := NewSampleReader(rec)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, r.Len())
	for i := range out {
		r.Row(i, &out[i])
	}
	return out, nil
}

func dictValue(d *array.Dictionary, dict *array.String, i int) string {
	if d.IsNull(i) {
		return ""
	}
	return dict.Value(d.GetValueIndex(i))
}

func clone(s string) string {
	if s == "" {
		return ""
	}
	return string([]byte(s))
}
