package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Kafka header names and values of the samples message codec.
const (
	// HeaderContentType names the encoding of the message value.
	HeaderContentType = "content-type"
	// HeaderSchema names the contract the value follows, e.g. "samples".
	HeaderSchema = "telekernel-schema"
	// HeaderSchemaVersion is the contract's version as a decimal integer.
	HeaderSchemaVersion = "telekernel-schema-version"

	// ContentTypeArrowStream is the IANA media type of an Arrow IPC stream.
	ContentTypeArrowStream = "application/vnd.apache.arrow.stream"
	// ContentTypeJSON is the media type of JSON contracts (detections).
	ContentTypeJSON = "application/json"

	// SchemaSamples is the HeaderSchema value of sample messages.
	SchemaSamples = "samples"
)

// maxMessageBytes bounds what the decoder will read from one message, so a
// corrupt length prefix cannot make it allocate gigabytes.
const maxMessageBytes = 64 << 20

// Errors returned (wrapped) by the decoders. Callers dead-letter a message
// whose error wraps any of them, with the error text as the reason.
var (
	// ErrUnknownVersion means the message follows a contract version this
	// build does not read.
	ErrUnknownVersion = errors.New("unknown schema version")
	// ErrContentType means the message's content type or schema header is
	// missing or not the expected one.
	ErrContentType = errors.New("unexpected content type")
	// ErrMalformed means the value could not be decoded.
	ErrMalformed = errors.New("malformed message")
)

// Header is one Kafka record header. It mirrors kgo.RecordHeader so this
// package need not import a Kafka client.
type Header struct {
	Key   string
	Value []byte
}

// SamplesHeaders returns the headers that go with every samples message.
// The slice is freshly allocated; callers may append to it.
func SamplesHeaders() []Header {
	return []Header{
		{Key: HeaderContentType, Value: []byte(ContentTypeArrowStream)},
		{Key: HeaderSchema, Value: []byte(SchemaSamples)},
		{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(SamplesVersion))},
	}
}

// EncodeSamples appends rec, which must have the samples schema, as one Arrow
// IPC stream to dst and returns the extended buffer.
func EncodeSamples(dst []byte, rec arrow.RecordBatch) ([]byte, error) {
	if !rec.Schema().Equal(samplesSchema) {
		return dst, fmt.Errorf("cannot encode samples: record schema is not samples v%d", SamplesVersion)
	}
	buf := bytes.NewBuffer(dst)
	w := ipc.NewWriter(buf, ipc.WithSchema(samplesSchema))
	if err := w.Write(rec); err != nil {
		return dst, fmt.Errorf("cannot encode samples: %w", err)
	}
	if err := w.Close(); err != nil {
		return dst, fmt.Errorf("cannot encode samples: %w", err)
	}
	return buf.Bytes(), nil
}

// HeaderValue returns the value of the first header named key, and whether
// there is one.
func HeaderValue(headers []Header, key string) ([]byte, bool) {
	for _, h := range headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

// CheckSamplesHeaders reports whether headers announce a samples message of
// a version this build reads. A message without headers is rejected: every
// producer of this contract sets them.
func CheckSamplesHeaders(headers []Header) error {
	ct, ok := HeaderValue(headers, HeaderContentType)
	if !ok {
		return fmt.Errorf("%w: no %q header (want %q)", ErrContentType, HeaderContentType, ContentTypeArrowStream)
	}
	if string(ct) != ContentTypeArrowStream {
		return fmt.Errorf("%w: %s %q, want %q", ErrContentType, HeaderContentType, printable(ct), ContentTypeArrowStream)
	}
	if s, ok := HeaderValue(headers, HeaderSchema); ok && string(s) != SchemaSamples {
		return fmt.Errorf("%w: %s %q, want %q", ErrContentType, HeaderSchema, printable(s), SchemaSamples)
	}
	v, ok := HeaderValue(headers, HeaderSchemaVersion)
	if !ok {
		return fmt.Errorf("%w: no %q header", ErrUnknownVersion, HeaderSchemaVersion)
	}
	return checkVersion("samples", string(v), SamplesVersion)
}

func checkVersion(contract, got string, want int) error {
	n, err := strconv.Atoi(got)
	if err != nil {
		return fmt.Errorf("%w: %s version %q is not an integer", ErrUnknownVersion, contract, printable([]byte(got)))
	}
	if n != want {
		return fmt.Errorf("%w: %s version %d is not supported by this build (it reads version %d); upgrade the consumer or re-publish in version %d",
			ErrUnknownVersion, contract, n, want, want)
	}
	return nil
}

// DecodeSamples checks the headers and decodes value, one Arrow IPC stream
// holding one record batch, into a record allocated from mem. The record is
// fully validated (schema, lengths, dictionary indices, string offsets, kinds)
// so consumers may index it without further checks. The caller owns the
// record and must Release it. Errors wrap ErrUnknownVersion, ErrContentType or
// ErrMalformed.
func DecodeSamples(mem memory.Allocator, headers []Header, value []byte) (arrow.RecordBatch, error) {
	if err := CheckSamplesHeaders(headers); err != nil {
		return nil, err
	}
	return DecodeSamplesValue(mem, value)
}

// DecodeSamplesValue decodes a samples message value without looking at
// headers; see DecodeSamples.
func DecodeSamplesValue(mem memory.Allocator, value []byte) (rec arrow.RecordBatch, err error) {
	if len(value) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrMalformed)
	}
	if len(value) > maxMessageBytes {
		return nil, fmt.Errorf("%w: value of %d bytes exceeds the %d byte limit", ErrMalformed, len(value), maxMessageBytes)
	}
	// The IPC reader trusts lengths in the stream; a corrupt message can make
	// it panic. Turn that into an error so one bad message cannot stop a stage.
	defer func() {
		if p := recover(); p != nil {
			if rec != nil {
				rec.Release()
				rec = nil
			}
			err = fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, p)
		}
	}()
	r, err := ipc.NewReader(bytes.NewReader(value), ipc.WithAllocator(mem),
		ipc.WithMetadataSizeLimit(1<<20), ipc.WithBodySizeLimit(maxMessageBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, err)
	}
	defer r.Release()
	if err := checkSamplesSchema(r.Schema()); err != nil {
		return nil, err
	}
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, err)
		}
		return nil, fmt.Errorf("%w: stream holds no record batch", ErrMalformed)
	}
	rec = r.RecordBatch()
	rec.Retain()
	if r.Next() {
		rec.Release()
		return nil, fmt.Errorf("%w: stream holds more than one record batch", ErrMalformed)
	}
	if err := r.Err(); err != nil {
		rec.Release()
		return nil, fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, err)
	}
	if err := validateSamples(rec); err != nil {
		rec.Release()
		return nil, err
	}
	return rec, nil
}

// checkSamplesSchema compares a stream's schema with the one this build
// reads. A stream that says it is a later version is an unknown version, not
// a malformed one.
func checkSamplesSchema(s *arrow.Schema) error {
	if v, ok := s.Metadata().GetValue("telekernel.version"); ok && v != strconv.Itoa(SamplesVersion) {
		return checkVersion("samples", v, SamplesVersion)
	}
	if s.NumFields() != numSampleCols {
		return fmt.Errorf("%w: schema has %d fields, samples v%d has %d", ErrMalformed, s.NumFields(), SamplesVersion, numSampleCols)
	}
	for i, want := range samplesSchema.Fields() {
		got := s.Field(i)
		if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) {
			return fmt.Errorf("%w: field %d is %s %s, want %s %s", ErrMalformed, i, printable([]byte(got.Name)), got.Type, want.Name, want.Type)
		}
	}
	return nil
}

// validateSamples checks what the IPC reader does not: offsets, dictionary
// index bounds, null counts of required columns, and kinds.
func validateSamples(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	for i, col := range rec.Columns() {
		if int64(col.Len()) != n {
			return fmt.Errorf("%w: column %s has %d rows, record has %d", ErrMalformed, samplesSchema.Field(i).Name, col.Len(), n)
		}
		switch a := col.(type) {
		case *array.Dictionary:
			if a.NullN() != 0 {
				return fmt.Errorf("%w: column %s has nulls", ErrMalformed, samplesSchema.Field(i).Name)
			}
			dict, ok := a.Dictionary().(*array.String)
			if !ok {
				return fmt.Errorf("%w: column %s dictionary is not string", ErrMalformed, samplesSchema.Field(i).Name)
			}
			if err := dict.ValidateFull(); err != nil {
				return fmt.Errorf("%w: column %s dictionary: %v", ErrMalformed, samplesSchema.Field(i).Name, err)
			}
			checked, err := array.NewValidatedDictionaryArray(a.DataType().(*arrow.DictionaryType), a.Indices(), dict)
			if err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, samplesSchema.Field(i).Name, err)
			}
			checked.Release()
		case *array.String:
			if err := a.ValidateFull(); err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, samplesSchema.Field(i).Name, err)
			}
		}
	}
	ts, kind := rec.Column(ColTS), rec.Column(ColKind).(*array.Uint8)
	if ts.NullN() != 0 || kind.NullN() != 0 {
		return fmt.Errorf("%w: ts or kind has nulls", ErrMalformed)
	}
	vals := [...]arrow.Array{KindCounter: rec.Column(ColValueU64), KindGauge: rec.Column(ColValueF64), KindState: rec.Column(ColValueStr)}
	for i := 0; i < int(n); i++ {
		k := Kind(kind.Value(i))
		if k < KindCounter || k > KindState {
			return fmt.Errorf("%w: row %d has unknown kind %d", ErrMalformed, i, k)
		}
		if vals[k].IsNull(i) {
			return fmt.Errorf("%w: row %d is a %s without a value", ErrMalformed, i, k)
		}
	}
	return nil
}

// printable shortens and quotes-safe a value taken from a message, for error
// text.
func printable(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.QuoteToASCII(string(b[:max])) + "…"
	}
	return strconv.QuoteToASCII(string(b))
}
