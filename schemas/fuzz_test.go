package schemas

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fuzzSampleShapes are the record shapes the samples fuzzer starts from.
func fuzzSampleShapes() map[string][]Sample {
	return map[string][]Sample{
		"empty":     nil,
		"counter":   {counter("edge-1", inOctets, "name=Ethernet1", t0, 123456789)},
		"all kinds": {counter("edge-1", inOctets, "name=Ethernet1", t0, 1), gauge("edge-2", temp, "name=CPU0", t0, 2), state("edge-1", operStatus, "name=Ethernet1", t0, "UP")},
		"extremes": {
			counter("路由器-1", inOctets, "", math.MinInt64, math.MaxUint64),
			gauge("edge-1", temp, "name=ü", math.MaxInt64, math.NaN()),
			state("edge-1", operStatus, "", 0, ""),
		},
		"many": manyRows(64),
	}
}

// FuzzDecodeSamples feeds arbitrary values to the samples decoder. It must
// never panic or leak; what it accepts must read back in full through
// NewSampleReader and Samples, and survive re-encoding unchanged. Seeds: the
// shapes above plus testdata/fuzz/FuzzDecodeSamples (valid messages and the
// inputs that once crashed or leaked).
func FuzzDecodeSamples(f *testing.F) {
	for _, rows := range fuzzSampleShapes() {
		f.Add(encodeRows(f, rows))
	}
	f.Add(compressedValue(f, fuzzSampleShapes()["all kinds"]))
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		checkDecoded(t, mem, data)
	})
}

// compressedValue encodes rows as an LZ4-compressed stream, which encoders
// other than EncodeSamples may write.
func compressedValue(t testing.TB, rows []Sample) []byte {
	mem := memory.NewGoAllocator()
	rec := buildRecord(mem, rows)
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(SamplesSchema()), ipc.WithLZ4())
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzDecodeDetection feeds arbitrary JSON, and an optional version header,
// to the detection decoder. It must never panic; what it accepts must be
// valid, marshal again, match the JSON Schema, and round-trip stably.
func FuzzDecodeDetection(f *testing.F) {
	seed := func(version string, d *Detection) {
		b, err := MarshalDetection(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(version, b)
	}
	seed("", exampleDetection())
	seed("1", resolvedDetection())
	seed("2", exampleDetection())
	for _, name := range []string{"detection.v1.example.json", "detection.v1.resolved.example.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("", b)
	}
	for _, s := range []string{`{"version":2}`, `{"version":1}`, `{}`, `null`, `[]`, `{"version":1.0}`, `"x"`} {
		f.Add("", []byte(s))
	}
	schema := compileDetectionSchema(f)

	f.Fuzz(func(t *testing.T, version string, data []byte) {
		var headers []Header
		if version != "" {
			headers = []Header{{Key: HeaderSchemaVersion, Value: []byte(version)}}
		}
		d, err := DecodeDetection(headers, data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrUnknownVersion: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("DecodeDetection accepted an invalid detection: %v", err)
		}
		b1, err := MarshalDetection(d)
		if err != nil {
			t.Fatalf("cannot marshal a decoded detection: %v", err)
		}
		if err := validateJSON(schema, b1); err != nil {
			t.Fatalf("a decoded detection marshals to JSON the schema rejects: %v\n%s", err, b1)
		}
		d2, err := DecodeDetection(nil, b1)
		if err != nil {
			t.Fatalf("cannot decode a marshalled detection: %v\n%s", err, b1)
		}
		b2, err := MarshalDetection(d2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("marshal round trip is not stable:\n%s\n%s", b1, b2)
		}
	})
}

// TestFuzzCorpusFiles checks the committed corpus of FuzzDecodeSamples by
// name: valid-* files decode, and every other file (broken-*, and crasher-*
// and leak-*, inputs that crashed or leaked the decoder before it was fixed)
// is rejected with ErrMalformed or ErrUnknownVersion, without leaking.
// Files the fuzzer adds under hash names are only checked by the fuzz seed
// run itself.
func TestFuzzCorpusFiles(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeSamples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ok, bad int
	for _, e := range entries {
		name := e.Name()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		value, err := parseCorpusBytes(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		mem := newCheckedMem(t)
		rec, err := DecodeSamplesValue(mem, value)
		switch {
		case strings.HasPrefix(name, "valid-"):
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			rec.Release()
			ok++
		case strings.HasPrefix(name, "broken-"), strings.HasPrefix(name, "crasher-"), strings.HasPrefix(name, "leak-"):
			if err == nil {
				rec.Release()
				t.Errorf("%s: decoded without error", name)
				continue
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) {
				t.Errorf("%s: %v", name, err)
			}
			if n := mem.CurrentAlloc(); n != 0 {
				t.Errorf("%s: leaked %d bytes", name, n)
			}
			bad++
		}
	}
	if ok < 3 || bad < 3 {
		t.Errorf("corpus has %d valid and %d broken values; want at least 3 of each", ok, bad)
	}
}

// parseCorpusBytes reads a one-value []byte corpus file ("go test fuzz v1").
func parseCorpusBytes(raw []byte) ([]byte, error) {
	const header = "go test fuzz v1\n[]byte("
	s := string(bytes.TrimSpace(raw))
	if len(s) < len(header)+1 || s[:len(header)] != header || s[len(s)-1] != ')' {
		return nil, errors.New("not a go test fuzz v1 file with one []byte")
	}
	v, err := strconv.Unquote(s[len(header) : len(s)-1])
	return []byte(v), err
}

// FuzzDecodePower feeds arbitrary bytes, as a power message, to the power
// decoder: it must return rows or an error wrapping ErrMalformed, never
// panic or run out of memory on a corrupt length.
func FuzzDecodePower(f *testing.F) {
	good, err := EncodePower(nil, examplePowerRows())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecodePower(PowerHeaders(), data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
