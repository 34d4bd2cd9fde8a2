package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
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
	return encodeIPC(dst, samplesSchema, rec, "samples")
}

// encodeIPC appends rec to dst as an Arrow IPC stream of schema (the
// schema message, the record batch, the end-of-stream marker). On error dst
// comes back as it was and the error names the contract (what).
func encodeIPC(dst []byte, schema *arrow.Schema, rec arrow.RecordBatch, what string) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	w := ipc.NewWriter(buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		return dst, fmt.Errorf("cannot encode %s: %w", what, err)
	}
	if err := w.Close(); err != nil {
		return dst, fmt.Errorf("cannot encode %s: %w", what, err)
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
		return fmt.Errorf("%w: %s %s, want %q", ErrContentType, HeaderContentType, printable(ct), ContentTypeArrowStream)
	}
	if s, ok := HeaderValue(headers, HeaderSchema); ok && string(s) != SchemaSamples {
		return fmt.Errorf("%w: %s %s, want %q", ErrContentType, HeaderSchema, printable(s), SchemaSamples)
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
		return fmt.Errorf("%w: %s version %s is not an integer", ErrUnknownVersion, contract, printable([]byte(got)))
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
//
// The value must be exactly one Arrow IPC stream: a schema, the dictionaries,
// one record batch and the end-of-stream marker, with nothing after it, so a
// truncated value is an error rather than a shorter record. The decoder never
// allocates more than maxDecodedBytes for one value, whatever lengths the
// stream claims. The returned record's schema is SamplesSchema() itself.
func DecodeSamplesValue(mem memory.Allocator, value []byte) (rec arrow.RecordBatch, err error) {
	if len(value) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrMalformed)
	}
	if len(value) > maxMessageBytes {
		return nil, fmt.Errorf("%w: value of %d bytes exceeds the %d byte limit", ErrMalformed, len(value), maxMessageBytes)
	}
	// The IPC reader trusts lengths in the stream; a corrupt message can make
	// it panic. Turn that into an error so one bad message cannot stop a stage,
	// and give back what the reader dropped on the way.
	alloc := newDecodeAllocator(mem)
	defer func() {
		if p := recover(); p != nil {
			if rec != nil {
				rec.Release()
				rec = nil
			}
			err = fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, p)
		}
		alloc.finish(err == nil)
	}()
	r, src, err := openStream(value, alloc)
	if err != nil {
		return nil, err
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
	if err := src.checkEnd(); err != nil {
		rec.Release()
		return nil, err
	}
	if err := validateSamples(rec); err != nil {
		rec.Release()
		return nil, err
	}
	// The stream's schema may differ from ours in what the checks above make
	// moot (metadata, nullability flags); give readers the canonical one.
	out := array.NewRecordBatch(samplesSchema, rec.Columns(), rec.NumRows())
	rec.Release()
	return out, nil
}

// openStream opens an IPC stream reader on value that cannot be made to
// allocate beyond the value's size by a corrupt length: the schema message
// is checked first, and no message part may be longer than the value.
// (ipc.NewReader ignores the size limits; the message reader applies them.)
// The reader may still panic on corrupt data: callers recover.
func openStream(value []byte, alloc memory.Allocator) (*ipc.Reader, *streamSource, error) {
	if err := verifySchemaMessage(value); err != nil {
		return nil, nil, fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, err)
	}
	src := &streamSource{r: bytes.NewReader(value)}
	limit := int64(len(value))
	opts := []ipc.Option{
		ipc.WithAllocator(alloc),
		ipc.WithMetadataSizeLimit(min(limit, 1<<20)),
		ipc.WithBodySizeLimit(limit),
	}
	r, err := ipc.NewReaderFromMessageReader(ipc.NewMessageReader(src, opts...), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: arrow ipc: %v", ErrMalformed, err)
	}
	return r, src, nil
}

// maxDecodedBytes bounds the memory one decode may allocate, including the
// decompressed size of compressed buffers, which the stream states and the
// reader would otherwise allocate without question.
const maxDecodedBytes = 4 * maxMessageBytes

// streamSource feeds the IPC reader and notes whether it ran off the end of
// the value, which a stream closed by its end-of-stream marker never does.
type streamSource struct {
	r      *bytes.Reader
	hitEOF bool
}

func (s *streamSource) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.hitEOF = true
	}
	return n, err
}

// checkEnd reports whether the stream ended with its end-of-stream marker at
// the very end of the value.
func (s *streamSource) checkEnd() error {
	if s.hitEOF {
		return fmt.Errorf("%w: stream has no end-of-stream marker (truncated value?)", ErrMalformed)
	}
	if n := s.r.Len(); n != 0 {
		return fmt.Errorf("%w: %d bytes after the end-of-stream marker", ErrMalformed, n)
	}
	return nil
}

// decodeAllocator is the allocator of one decode. It passes allocations to
// mem until they would exceed maxDecodedBytes in use, and panics (turned into
// an error by DecodeSamplesValue) after that. Until finish it also remembers
// what is live, because the IPC reader drops buffers without releasing them
// when it panics on a corrupt stream: a failed decode gives them back to mem,
// so a stream of bad messages cannot leak. It stays the allocator of the
// decoded record's buffers, which may be released from any goroutine.
type decodeAllocator struct {
	mem  memory.Allocator
	used int // bytes in use; touched only by the decoding goroutine
	live map[unsafe.Pointer][]byte
	done atomic.Bool // set by finish; from then on calls go straight to mem
}

func newDecodeAllocator(mem memory.Allocator) *decodeAllocator {
	return &decodeAllocator{mem: mem, live: make(map[unsafe.Pointer][]byte)}
}

func (a *decodeAllocator) Allocate(size int) []byte {
	if a.done.Load() {
		return a.mem.Allocate(size)
	}
	a.take(size)
	b := a.mem.Allocate(size)
	a.track(b)
	return b
}

func (a *decodeAllocator) Reallocate(size int, b []byte) []byte {
	if a.done.Load() {
		return a.mem.Reallocate(size, b)
	}
	a.take(size - len(b))
	a.untrack(b)
	b = a.mem.Reallocate(size, b)
	a.track(b)
	return b
}

func (a *decodeAllocator) Free(b []byte) {
	if !a.done.Load() {
		a.used -= len(b)
		a.untrack(b)
	}
	a.mem.Free(b)
}

func (a *decodeAllocator) take(n int) {
	if n < 0 && a.used+n < 0 {
		panic(fmt.Sprintf("allocator: negative size %d", n))
	}
	if a.used+n > maxDecodedBytes {
		panic(fmt.Sprintf("allocation of %d bytes would exceed the %d byte decode budget", n, maxDecodedBytes))
	}
	a.used += n
}

func (a *decodeAllocator) track(b []byte) {
	if len(b) > 0 {
		a.live[unsafe.Pointer(unsafe.SliceData(b))] = b
	}
}

func (a *decodeAllocator) untrack(b []byte) {
	if len(b) > 0 {
		delete(a.live, unsafe.Pointer(unsafe.SliceData(b)))
	}
}

// finish ends the decode. After a failed one (ok false), nothing can reach
// the buffers still live, so they go back to mem.
func (a *decodeAllocator) finish(ok bool) {
	if !ok {
		for _, b := range a.live {
			a.mem.Free(b)
		}
	}
	a.live = nil
	a.done.Store(true)
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

// validateSamples checks what the IPC reader does not: buffer sizes and null
// counts, string offsets, dictionary index bounds, null counts of required
// columns, and kinds. Invalid UTF-8 is not an error here: it concerns single
// rows, which CleanSamples drops.
// maxDictEntries bounds a samples dictionary: SampleReader.SeriesIndex
// packs the device, metric and keys indices in 21 bits each, so more
// entries would give two series one index. A message of our collectors
// holds a few thousand.
const maxDictEntries = 1 << 21

func validateSamples(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	if n < 0 {
		return fmt.Errorf("%w: record has %d rows", ErrMalformed, n)
	}
	for i, col := range rec.Columns() {
		name := samplesSchema.Field(i).Name
		if int64(col.Len()) != n {
			return fmt.Errorf("%w: column %s has %d rows, record has %d", ErrMalformed, name, col.Len(), n)
		}
		switch a := col.(type) {
		case *array.Dictionary:
			if err := checkLayout(a.Indices().Data(), arrow.Int32SizeBytes); err != nil {
				return fmt.Errorf("%w: column %s indices: %v", ErrMalformed, name, err)
			}
			if a.NullN() != 0 {
				return fmt.Errorf("%w: column %s has nulls", ErrMalformed, name)
			}
			dict, ok := a.Dictionary().(*array.String)
			if !ok {
				return fmt.Errorf("%w: column %s dictionary is not string", ErrMalformed, name)
			}
			if err := checkLayout(dict.Data(), 0); err != nil {
				return fmt.Errorf("%w: column %s dictionary: %v", ErrMalformed, name, err)
			}
			if dict.Len() > maxDictEntries {
				// SampleReader.SeriesIndex packs three indices in 21 bits each.
				return fmt.Errorf("%w: column %s dictionary has %d entries, more than %d", ErrMalformed, name, dict.Len(), maxDictEntries)
			}
			if err := validateOffsets(dict); err != nil {
				return fmt.Errorf("%w: column %s dictionary: %v", ErrMalformed, name, err)
			}
			checked, err := array.NewValidatedDictionaryArray(a.DataType().(*arrow.DictionaryType), a.Indices(), dict)
			if err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, name, err)
			}
			checked.Release()
		case *array.String:
			if err := checkLayout(a.Data(), 0); err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, name, err)
			}
			if err := validateOffsets(a); err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, name, err)
			}
		default: // ts, kind, value_u64, value_f64
			width := a.DataType().(arrow.FixedWidthDataType).Bytes()
			if err := checkLayout(a.Data(), width); err != nil {
				return fmt.Errorf("%w: column %s: %v", ErrMalformed, name, err)
			}
		}
	}
	ts, kind := rec.Column(ColTS), rec.Column(ColKind).(*array.Uint8)
	if ts.NullN() != 0 {
		return fmt.Errorf("%w: column ts has nulls", ErrMalformed)
	}
	if kind.NullN() != 0 {
		return fmt.Errorf("%w: column kind has nulls", ErrMalformed)
	}
	// Each row's value column must have the row: its validity bit, read
	// from the bitmaps directly (IsNull per row was a third of this
	// function's time; checkLayout above made the bitmaps long enough).
	var bitmaps [KindState + 1][]byte
	var offsets [KindState + 1]int
	for k, col := range [...]int{KindCounter: ColValueU64, KindGauge: ColValueF64, KindState: ColValueStr} {
		if k >= int(KindCounter) {
			a := rec.Column(col)
			bitmaps[k], offsets[k] = a.NullBitmapBytes(), a.Data().Offset()
		}
	}
	for i, b := range kind.Values() {
		k := Kind(b)
		if k < KindCounter || k > KindState {
			return fmt.Errorf("%w: row %d has unknown kind %d", ErrMalformed, i, k)
		}
		if bm := bitmaps[k]; len(bm) > 0 {
			if j := offsets[k] + i; bm[j>>3]&(1<<(j&7)) == 0 {
				return fmt.Errorf("%w: row %d is a %s without a value", ErrMalformed, i, k)
			}
		}
	}
	return nil
}

// validateOffsets is String.ValidateFull without its UTF-8 check: offsets in
// bounds, non-negative and non-decreasing.
func validateOffsets(a *array.String) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.Len() == 0 {
		return nil
	}
	offs := a.ValueOffsets()
	if offs[0] < 0 {
		return fmt.Errorf("string offset %d is negative", offs[0])
	}
	for i := 1; i < len(offs); i++ {
		if offs[i] < offs[i-1] {
			return fmt.Errorf("string offsets decrease at index %d: %d < %d", a.Offset()+i, offs[i], offs[i-1])
		}
	}
	return nil
}

// checkLayout checks that an array's buffers are as long as its length needs
// and that its null count agrees with its validity bitmap, so that accessors
// cannot read out of bounds or disagree with each other later. width is the
// byte width of a fixed-width value, or 0 for a string array (whose offsets
// ValidateFull checks).
func checkLayout(d arrow.ArrayData, width int) error {
	length, offset := d.Len(), d.Offset()
	if length < 0 || offset < 0 {
		return fmt.Errorf("length %d, offset %d", length, offset)
	}
	bufs := d.Buffers()
	if len(bufs) < 2 {
		return fmt.Errorf("%d buffers", len(bufs))
	}
	declared := d.NullN()
	if bm := bufs[0]; bm == nil || bm.Len() == 0 {
		if declared != 0 && length > 0 {
			return fmt.Errorf("null count %d without a validity bitmap", declared)
		}
	} else {
		if bm.Len() < int(bitutil.BytesForBits(int64(offset+length))) {
			return fmt.Errorf("validity bitmap of %d bytes for %d values", bm.Len(), offset+length)
		}
		if nulls := length - bitutil.CountSetBits(bm.Bytes(), offset, length); declared != nulls {
			return fmt.Errorf("null count %d, validity bitmap has %d", declared, nulls)
		}
	}
	if width == 0 {
		if err := checkStringOffsets(bufs, offset, length); err != nil {
			return err
		}
	}
	if width > 0 && length > 0 {
		if bufs[1] == nil || bufs[1].Len() < (offset+length)*width {
			got := 0
			if bufs[1] != nil {
				got = bufs[1].Len()
			}
			return fmt.Errorf("values buffer of %d bytes for %d values of %d bytes", got, offset+length, width)
		}
	}
	return nil
}

// checkStringOffsets checks that the first and last offsets of a string
// array lie inside its data, also when it has no rows: encoders slice the
// data between them. ValidateFull checks the offsets in between.
func checkStringOffsets(bufs []*memory.Buffer, offset, length int) error {
	if len(bufs) != 3 {
		return fmt.Errorf("%d buffers, want 3", len(bufs))
	}
	var offs []byte
	if bufs[1] != nil {
		offs = bufs[1].Bytes()
	}
	if len(offs) == 0 {
		if length > 0 {
			return errors.New("no offsets buffer")
		}
		return nil
	}
	if len(offs)/4 < offset+length+1 {
		return fmt.Errorf("offsets buffer of %d bytes for %d values", len(offs), offset+length)
	}
	dataLen := 0
	if bufs[2] != nil {
		dataLen = bufs[2].Len()
	}
	first := int32(binary.LittleEndian.Uint32(offs[4*offset:]))
	last := int32(binary.LittleEndian.Uint32(offs[4*(offset+length):]))
	if first < 0 || last < first || int(last) > dataLen {
		return fmt.Errorf("offsets %d..%d outside data of %d bytes", first, last, dataLen)
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
