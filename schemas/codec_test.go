package schemas

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func hdrs(kv ...string) []Header {
	var h []Header
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, Header{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return h
}

func TestCheckSamplesHeaders(t *testing.T) {
	f := func(name string, headers []Header, wantErr error, wantText ...string) {
		t.Run(name, func(t *testing.T) {
			err := CheckSamplesHeaders(headers)
			if wantErr == nil {
				if err != nil {
					t.Fatalf("CheckSamplesHeaders: %v", err)
				}
				return
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("CheckSamplesHeaders = %v, want an error wrapping %v", err, wantErr)
			}
			for _, s := range wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			// The full decoder must stop at the headers too, whatever the value.
			if _, err := DecodeSamples(memory.NewGoAllocator(), headers, encodeRows(t, nil)); !errors.Is(err, wantErr) {
				t.Errorf("DecodeSamples = %v, want an error wrapping %v", err, wantErr)
			}
		})
	}
	const ct, sc, ver = HeaderContentType, HeaderSchema, HeaderSchemaVersion
	const arrowCT = ContentTypeArrowStream

	f("valid", SamplesHeaders(), nil)
	f("valid without schema header", hdrs(ct, arrowCT, ver, "1"), nil)
	f("valid with extra headers", append(hdrs("traceparent", "00-abc"), SamplesHeaders()...), nil)
	f("no headers", nil, ErrContentType, "content-type")
	f("missing content-type", hdrs(sc, "samples", ver, "1"), ErrContentType, "content-type", arrowCT)
	f("wrong content-type", hdrs(ct, "application/json", sc, "samples", ver, "1"), ErrContentType, "application/json")
	f("content-type with parameters", hdrs(ct, arrowCT+"; charset=utf-8", ver, "1"), ErrContentType)
	f("empty content-type", hdrs(ct, "", ver, "1"), ErrContentType)
	f("wrong schema header", hdrs(ct, arrowCT, sc, "detection", ver, "1"), ErrContentType, "detection", "samples")
	f("missing version", hdrs(ct, arrowCT, sc, "samples"), ErrUnknownVersion, HeaderSchemaVersion)
	f("version 2", hdrs(ct, arrowCT, sc, "samples", ver, "2"), ErrUnknownVersion, "version 2 is not supported")
	f("version 0", hdrs(ct, arrowCT, sc, "samples", ver, "0"), ErrUnknownVersion, "version 0 is not supported")
	f("version abc", hdrs(ct, arrowCT, sc, "samples", ver, "abc"), ErrUnknownVersion, `"abc"`, "not an integer")
	f("empty version", hdrs(ct, arrowCT, sc, "samples", ver, ""), ErrUnknownVersion)
	f("version with spaces", hdrs(ct, arrowCT, sc, "samples", ver, " 1"), ErrUnknownVersion)
	f("binary junk in content-type", []Header{{Key: ct, Value: []byte{0xff, 0, '\n'}}}, ErrContentType, `"\xff\x00\n"`)
	f("first header wins", append(hdrs(ct, "text/plain"), SamplesHeaders()...), ErrContentType)
}

func TestSamplesHeaders(t *testing.T) {
	h := SamplesHeaders()
	want := hdrs(HeaderContentType, "application/vnd.apache.arrow.stream", HeaderSchema, "samples", HeaderSchemaVersion, "1")
	if len(h) != len(want) {
		t.Fatalf("SamplesHeaders() = %v", h)
	}
	for i := range h {
		if h[i].Key != want[i].Key || !bytes.Equal(h[i].Value, want[i].Value) {
			t.Errorf("header %d = %s: %q, want %s: %q", i, h[i].Key, h[i].Value, want[i].Key, want[i].Value)
		}
	}
	// A fresh slice each time: appending must not alias.
	a := append(SamplesHeaders(), Header{Key: "x"})
	b := append(SamplesHeaders(), Header{Key: "y"})
	if a[3].Key != "x" || b[3].Key != "y" {
		t.Error("SamplesHeaders returns a shared slice")
	}
}

// writeStream writes recs, which share schema s, as one Arrow IPC stream.
func writeStream(t testing.TB, s *arrow.Schema, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("ipc write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("ipc close: %v", err)
	}
	return buf.Bytes()
}

// rawRow is a row written with arrow's own builders, bypassing SampleBuilder,
// so a test can put in what SampleBuilder never writes. A nil value is null.
type rawRow struct {
	tsNull     bool
	deviceNull bool
	kind       uint8
	u64        *uint64
	f64        *float64
	str        *string
}

func ptr[T any](v T) *T { return &v }

// rawRecord builds rows against SamplesSchema() with arrow's builders.
func rawRecord(mem memory.Allocator, rows ...rawRow) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, SamplesSchema())
	defer b.Release()
	for _, r := range rows {
		if r.tsNull {
			b.Field(ColTS).AppendNull()
		} else {
			b.Field(ColTS).(*array.TimestampBuilder).Append(arrow.Timestamp(t0))
		}
		if r.deviceNull {
			b.Field(ColDevice).AppendNull()
		} else {
			_ = b.Field(ColDevice).(*array.BinaryDictionaryBuilder).AppendString("edge-1")
		}
		_ = b.Field(ColMetric).(*array.BinaryDictionaryBuilder).AppendString(inOctets)
		_ = b.Field(ColKeys).(*array.BinaryDictionaryBuilder).AppendString("name=Ethernet1")
		b.Field(ColKind).(*array.Uint8Builder).Append(r.kind)
		if r.u64 != nil {
			b.Field(ColValueU64).(*array.Uint64Builder).Append(*r.u64)
		} else {
			b.Field(ColValueU64).AppendNull()
		}
		if r.f64 != nil {
			b.Field(ColValueF64).(*array.Float64Builder).Append(*r.f64)
		} else {
			b.Field(ColValueF64).AppendNull()
		}
		if r.str != nil {
			b.Field(ColValueStr).(*array.StringBuilder).Append(*r.str)
		} else {
			b.Field(ColValueStr).AppendNull()
		}
		_ = b.Field(ColSource).(*array.BinaryDictionaryBuilder).AppendString(SourceGNMI)
	}
	return b.NewRecordBatch()
}

// withSchema returns rec's columns under schema s. The caller releases it.
func withSchema(s *arrow.Schema, rec arrow.RecordBatch) arrow.RecordBatch {
	return array.NewRecordBatch(s, rec.Columns(), rec.NumRows())
}

func samplesFieldsWith(change func(fs []arrow.Field)) []arrow.Field {
	fs := append([]arrow.Field(nil), SamplesSchema().Fields()...)
	change(fs)
	return fs
}

func TestDecodeSamplesValueRejects(t *testing.T) {
	buildMem := newCheckedMem(t)
	valid := buildRecord(buildMem, []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 1),
		gauge("edge-1", temp, "name=CPU0", t0, 2),
	})
	defer valid.Release()
	meta := SamplesSchema().Metadata()

	f := func(name string, value []byte, wantErr error, wantText ...string) {
		t.Run(name, func(t *testing.T) {
			mem := newCheckedMem(t)
			rec, err := DecodeSamplesValue(mem, value)
			if err == nil {
				rec.Release()
				t.Fatalf("DecodeSamplesValue succeeded, want an error wrapping %v", wantErr)
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("DecodeSamplesValue = %v, want an error wrapping %v", err, wantErr)
			}
			for _, s := range wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			// The same through the full decoder with good headers.
			if _, err := DecodeSamples(mem, SamplesHeaders(), value); !errors.Is(err, wantErr) {
				t.Errorf("DecodeSamples = %v, want an error wrapping %v", err, wantErr)
			}
		})
	}
	stream := func(s *arrow.Schema, recs ...arrow.RecordBatch) []byte {
		out := make([]arrow.RecordBatch, len(recs))
		for i, r := range recs {
			out[i] = withSchema(s, r)
		}
		defer func() {
			for _, r := range out {
				r.Release()
			}
		}()
		return writeStream(t, s, out...)
	}
	raw := func(rows ...rawRow) []byte {
		rec := rawRecord(buildMem, rows...)
		defer rec.Release()
		return writeStream(t, SamplesSchema(), rec)
	}

	f("empty value", nil, ErrMalformed, "empty")
	f("zero-length non-nil value", []byte{}, ErrMalformed, "empty")
	f("garbage", []byte("this is not an arrow stream"), ErrMalformed)
	f("json", []byte(`{"ts":1}`), ErrMalformed)
	f("only end-of-stream marker", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, ErrMalformed)

	v2meta := arrow.NewMetadata([]string{"telekernel.schema", "telekernel.version"}, []string{"samples", "2"})
	f("schema metadata says version 2",
		stream(arrow.NewSchema(SamplesSchema().Fields(), &v2meta), valid),
		ErrUnknownVersion, "version 2 is not supported")
	v2metaOther := arrow.NewMetadata([]string{"telekernel.schema", "telekernel.version"}, []string{"samples", "two"})
	f("schema metadata version not an integer",
		stream(arrow.NewSchema(SamplesSchema().Fields(), &v2metaOther), valid),
		ErrUnknownVersion, `"two"`)
	// A v2 stream may look nothing like v1; its version still wins.
	oneCol := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	ib := array.NewInt64Builder(buildMem)
	ib.AppendValues([]int64{1, 2, 3}, nil)
	xs := ib.NewArray()
	ib.Release()
	defer xs.Release()
	xrec := array.NewRecordBatch(oneCol, []arrow.Array{xs}, 3)
	defer xrec.Release()
	f("other schema with version 2 metadata",
		stream(arrow.NewSchema(oneCol.Fields(), &v2meta), xrec), ErrUnknownVersion, "version 2")
	f("one int column", stream(oneCol, xrec), ErrMalformed, "1 fields")

	f("field renamed", stream(arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) {
		fs[ColDevice].Name = "host"
	}), &meta), valid), ErrMalformed, "host", "device")

	dictU8 := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.BinaryTypes.String}
	f("dictionary with int8 indices", func() []byte {
		s := arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) { fs[ColSource].Type = dictU8 }), &meta)
		b := array.NewRecordBuilder(buildMem, s)
		defer b.Release()
		// An empty record is enough to carry the schema.
		rec := b.NewRecordBatch()
		defer rec.Release()
		return writeStream(t, s, rec)
	}(), ErrMalformed, "source")
	f("timestamp in microseconds", func() []byte {
		s := arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) {
			fs[ColTS].Type = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		}), &meta)
		b := array.NewRecordBuilder(buildMem, s)
		defer b.Release()
		rec := b.NewRecordBatch()
		defer rec.Release()
		return writeStream(t, s, rec)
	}(), ErrMalformed, "ts")

	f("schema without record batch", writeStream(t, SamplesSchema()), ErrMalformed, "no record batch")
	f("two record batches", stream(SamplesSchema(), valid, valid), ErrMalformed, "more than one record batch")

	f("unknown kind", raw(rawRow{kind: 9, u64: ptr(uint64(1))}), ErrMalformed, "unknown kind 9")
	f("kind zero", raw(rawRow{kind: 0, u64: ptr(uint64(1)), f64: ptr(1.0), str: ptr("x")}), ErrMalformed, "unknown kind 0")
	f("counter with null value_u64", raw(
		rawRow{kind: uint8(KindCounter), u64: ptr(uint64(1))},
		rawRow{kind: uint8(KindCounter), f64: ptr(1.0)},
	), ErrMalformed, "row 1", "counter without a value")
	f("gauge with null value_f64", raw(rawRow{kind: uint8(KindGauge), u64: ptr(uint64(1))}), ErrMalformed, "gauge without a value")
	f("state with null value_str", raw(rawRow{kind: uint8(KindState), f64: ptr(2.0)}), ErrMalformed, "state without a value")
	f("null timestamp", raw(rawRow{tsNull: true, kind: uint8(KindCounter), u64: ptr(uint64(1))}), ErrMalformed, "ts")
	f("null device", raw(rawRow{deviceNull: true, kind: uint8(KindCounter), u64: ptr(uint64(1))}), ErrMalformed, "device")

	// SampleBuilder writes whatever kind it is given; the decoder is the gate.
	f("builder with invalid kind", func() []byte {
		rec := buildRecord(buildMem, []Sample{{TS: t0, Device: "d", Metric: "m", Kind: 7, Source: SourceGNMI}})
		defer rec.Release()
		v, err := EncodeSamples(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}(), ErrMalformed, "unknown kind 7")
}

// TestDecodeSamplesValueAcceptsEquivalentSchema checks that a stream whose
// fields have the samples names and types but differ in what the reader does
// not depend on (schema metadata absent, nullability flags) decodes into a
// record with the canonical schema, readable by NewSampleReader.
func TestDecodeSamplesValueAcceptsEquivalentSchema(t *testing.T) {
	buildMem := newCheckedMem(t)
	rows := []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 1<<63+5),
		state("edge-1", operStatus, "name=Ethernet1", t0, "UP"),
	}
	valid := buildRecord(buildMem, rows)
	defer valid.Release()
	meta := SamplesSchema().Metadata()

	f := func(name string, s *arrow.Schema) {
		t.Run(name, func(t *testing.T) {
			rec := withSchema(s, valid)
			value := writeStream(t, s, rec)
			rec.Release()

			mem := newCheckedMem(t)
			got, err := DecodeSamplesValue(mem, value)
			if err != nil {
				t.Fatalf("DecodeSamplesValue: %v", err)
			}
			defer got.Release()
			if got.Schema() != SamplesSchema() {
				t.Errorf("decoded schema is\n%s\nwant the shared SamplesSchema()", got.Schema())
			}
			out, err := Samples(got)
			if err != nil {
				t.Fatalf("Samples: %v", err)
			}
			if d := diffSamples(out, normalized(rows)); d != "" {
				t.Fatal(d)
			}
		})
	}
	f("no schema metadata", arrow.NewSchema(SamplesSchema().Fields(), nil))
	f("extra schema metadata", func() *arrow.Schema {
		m := arrow.NewMetadata([]string{"telekernel.schema", "telekernel.version", "producer"}, []string{"samples", "1", "collector-7"})
		return arrow.NewSchema(SamplesSchema().Fields(), &m)
	}())
	f("all fields nullable", arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) {
		for i := range fs {
			fs[i].Nullable = true
		}
	}), &meta))
	f("value fields not nullable", arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) {
		fs[ColValueU64].Nullable = false
	}), &meta))
	f("field metadata", arrow.NewSchema(samplesFieldsWith(func(fs []arrow.Field) {
		fs[ColTS].Metadata = arrow.NewMetadata([]string{"unit"}, []string{"ns"})
	}), &meta))
}

// TestDecodeSamplesTruncated cuts a valid message at every length: each
// prefix must give an error, never a panic or a leak.
func TestDecodeSamplesTruncated(t *testing.T) {
	f := func(name string, rows []Sample) {
		t.Run(name, func(t *testing.T) {
			value := encodeRows(t, rows)
			mem := newCheckedMem(t)
			for n := 0; n < len(value); n++ {
				rec, err := DecodeSamples(mem, SamplesHeaders(), value[:n:n])
				if err == nil {
					rec.Release()
					t.Fatalf("prefix of %d/%d bytes decoded without error", n, len(value))
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("prefix of %d/%d bytes: %v, want an error wrapping ErrMalformed", n, len(value), err)
				}
				if mem.CurrentAlloc() != 0 {
					t.Fatalf("prefix of %d/%d bytes leaked %d bytes", n, len(value), mem.CurrentAlloc())
				}
			}
			rec, err := DecodeSamples(mem, SamplesHeaders(), value)
			if err != nil {
				t.Fatalf("whole message: %v", err)
			}
			rec.Release()
		})
	}
	f("empty record", nil)
	f("one row", []Sample{counter("edge-1", inOctets, "name=Ethernet1", t0, 1)})
	f("all kinds", []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 1),
		gauge("edge-1", temp, "name=CPU0", t0, 2),
		state("edge-1", operStatus, "name=Ethernet1", t0, "UP"),
	})
}

// TestDecodeSamplesCorrupted flips each byte of a valid message in turn: the
// decoder must return either an error or a record that reads back fully.
func TestDecodeSamplesCorrupted(t *testing.T) {
	value := encodeRows(t, []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 1),
		gauge("edge-2", temp, "name=CPU0", t0, 2),
		state("edge-1", operStatus, "name=Ethernet1", t0, "UP"),
	})
	mem := newCheckedMem(t)
	for i := range value {
		for _, x := range []byte{0xff, 0x80, 0x01} {
			bad := bytes.Clone(value)
			bad[i] ^= x
			checkDecoded(t, mem, bad)
		}
	}
}

// checkDecoded decodes value, and if that succeeds, reads every row and
// checks that re-encoding gives the same samples. It fails t on a leak.
func checkDecoded(t testing.TB, mem *memory.CheckedAllocator, value []byte) {
	t.Helper()
	rec, err := DecodeSamplesValue(mem, value)
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) {
			t.Fatalf("error wraps neither ErrMalformed nor ErrUnknownVersion: %v", err)
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("failed decode of %x leaked %d bytes", value, n)
		}
		return
	}
	first, err := Samples(rec)
	if err != nil {
		rec.Release()
		t.Fatalf("decoded record of %x is not readable: %v", value, err)
	}
	again, err := EncodeSamples(nil, rec)
	rec.Release()
	if err != nil {
		t.Fatalf("cannot re-encode decoded record of %x: %v", value, err)
	}
	rec2, err := DecodeSamplesValue(mem, again)
	if err != nil {
		t.Fatalf("cannot decode re-encoded record of %x: %v", value, err)
	}
	second, err := Samples(rec2)
	rec2.Release()
	if err != nil {
		t.Fatalf("Samples of re-decoded record: %v", err)
	}
	if d := diffSamples(second, first); d != "" {
		t.Fatalf("re-encoding %x changed the samples: %s", value, d)
	}
	if n := mem.CurrentAlloc(); n != 0 {
		t.Fatalf("decoding %x leaked %d bytes", value, n)
	}
}

// TestDecodeSamplesStreamEnd checks that the value must be exactly one
// stream closed by its end-of-stream marker.
func TestDecodeSamplesStreamEnd(t *testing.T) {
	value := encodeRows(t, []Sample{counter("edge-1", inOctets, "name=Ethernet1", t0, 1)})
	eos := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	if !bytes.HasSuffix(value, eos) {
		t.Fatalf("EncodeSamples does not end the stream with %x", eos)
	}
	body := value[:len(value)-len(eos)]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	f := func(name string, value []byte, wantErr string) {
		t.Run(name, func(t *testing.T) {
			mem := newCheckedMem(t)
			rec, err := DecodeSamplesValue(mem, value)
			if wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeSamplesValue: %v", err)
				}
				rec.Release()
				return
			}
			if err == nil {
				rec.Release()
				t.Fatal("DecodeSamplesValue succeeded")
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("DecodeSamplesValue = %v, want ErrMalformed mentioning %q", err, wantErr)
			}
		})
	}
	f("as encoded", value, "")
	f("legacy 4-byte end marker", cat(body, []byte{0, 0, 0, 0}), "")
	f("no end marker", body, "no end-of-stream marker")
	f("half an end marker", cat(body, eos[:4]), "arrow ipc")
	f("trailing byte", cat(value, []byte{0}), "1 bytes after the end-of-stream marker")
	f("two streams", cat(value, value), "after the end-of-stream marker")
}
