package schemas

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newCheckedMem returns a checked allocator that fails t if anything
// allocated from it is still live when the test ends.
func newCheckedMem(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// buildRecord builds a samples record from rows. The caller releases it.
func buildRecord(mem memory.Allocator, rows []Sample) arrow.RecordBatch {
	b := NewSampleBuilder(mem)
	defer b.Release()
	for i := range rows {
		b.Append(&rows[i])
	}
	return b.NewRecord()
}

// encodeRows builds and encodes rows as one samples message value.
func encodeRows(t testing.TB, rows []Sample) []byte {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(mem, rows)
	defer rec.Release()
	v, err := EncodeSamples(nil, rec)
	if err != nil {
		t.Fatalf("EncodeSamples: %v", err)
	}
	return v
}

// normalized returns what a row reads back as: only the value field of its
// kind survives the trip.
func normalized(rows []Sample) []Sample {
	out := make([]Sample, len(rows))
	for i, s := range rows {
		switch s.Kind {
		case KindCounter:
			s.F64, s.Str = 0, ""
		case KindGauge:
			s.U64, s.Str = 0, ""
		default:
			s.U64, s.F64 = 0, 0
		}
		out[i] = s
	}
	return out
}

// diffSamples returns a description of the first difference between got and
// want, comparing floats bit for bit (so NaN equals NaN and -0 is not 0).
func diffSamples(got, want []Sample) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		gf, wf := math.Float64bits(g.F64), math.Float64bits(w.F64)
		g.F64, w.F64 = 0, 0
		if g != w || gf != wf {
			return fmt.Sprintf("row %d:\n got %+v (f64 bits %#x)\nwant %+v (f64 bits %#x)", i, got[i], gf, want[i], wf)
		}
	}
	return ""
}

func counter(dev, metric, keys string, ts int64, v uint64) Sample {
	return Sample{TS: ts, Device: dev, Metric: metric, Keys: keys, Kind: KindCounter, U64: v, Source: SourceGNMI}
}

func gauge(dev, metric, keys string, ts int64, v float64) Sample {
	return Sample{TS: ts, Device: dev, Metric: metric, Keys: keys, Kind: KindGauge, F64: v, Source: SourceSNMP}
}

func state(dev, metric, keys string, ts int64, v string) Sample {
	return Sample{TS: ts, Device: dev, Metric: metric, Keys: keys, Kind: KindState, Str: v, Source: SourceGNMI}
}

const (
	inOctets   = "/interfaces/interface/state/counters/in-octets"
	operStatus = "/interfaces/interface/state/oper-status"
	temp       = "/components/component/state/temperature/instant"
	t0         = int64(1795407150_000000000) // 2026-11-23T04:12:30Z
)

func manyRows(n int) []Sample {
	rows := make([]Sample, n)
	for i := range rows {
		dev := fmt.Sprintf("edge-%d", i%7)
		keys := fmt.Sprintf("name=Ethernet%d", i%48)
		ts := t0 + int64(i)*1e9
		switch i % 3 {
		case 0:
			rows[i] = counter(dev, inOctets, keys, ts, uint64(i)*1_000_003+(1<<60))
		case 1:
			rows[i] = gauge(dev, temp, fmt.Sprintf("name=PSU%d", i%2), ts, float64(i)/7)
		default:
			rows[i] = state(dev, operStatus, keys, ts, []string{"UP", "DOWN", "LOWER_LAYER_DOWN"}[i%3])
		}
	}
	return rows
}

func TestSamplesRoundTrip(t *testing.T) {
	f := func(name string, rows []Sample) {
		t.Run(name, func(t *testing.T) {
			buildMem := newCheckedMem(t)
			rec := buildRecord(buildMem, rows)
			value, err := EncodeSamples(nil, rec)
			rec.Release()
			if err != nil {
				t.Fatalf("EncodeSamples: %v", err)
			}

			decodeMem := newCheckedMem(t)
			got, err := DecodeSamples(decodeMem, SamplesHeaders(), value)
			if err != nil {
				t.Fatalf("DecodeSamples: %v", err)
			}
			defer got.Release()
			if got.Schema() != SamplesSchema() {
				t.Errorf("decoded record schema is not the shared SamplesSchema()")
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

	f("no rows", nil)
	f("all kinds", []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 123456789),
		gauge("edge-1", temp, "name=CPU0", t0, 47.5),
		state("edge-1", operStatus, "name=Ethernet1", t0, "UP"),
	})
	f("uint64 beyond float64 precision", []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, 1<<53),
		counter("edge-1", inOctets, "name=Ethernet1", t0+1, 1<<53+1),
		counter("edge-1", inOctets, "name=Ethernet1", t0+2, math.MaxUint64-1),
		counter("edge-1", inOctets, "name=Ethernet1", t0+3, math.MaxUint64),
		counter("edge-1", inOctets, "name=Ethernet1", t0+4, 0),
	})
	f("empty keys and empty state", []Sample{
		counter("edge-1", "/system/state/uptime", "", t0, 42),
		state("edge-1", "/system/state/hostname", "", t0, ""),
		gauge("", temp, "", 0, 0),
	})
	f("special floats and timestamps", []Sample{
		gauge("edge-1", temp, "name=CPU0", math.MinInt64, math.NaN()),
		gauge("edge-1", temp, "name=CPU0", -1, math.Inf(1)),
		gauge("edge-1", temp, "name=CPU0", 0, math.Inf(-1)),
		gauge("edge-1", temp, "name=CPU0", 1, math.Copysign(0, -1)),
		gauge("edge-1", temp, "name=CPU0", math.MaxInt64, math.SmallestNonzeroFloat64),
		gauge("edge-1", temp, "name=CPU0", t0, -math.MaxFloat64),
	})
	f("unicode", []Sample{
		counter("路由器-東京-1", "/interfaces/interface/state/counters/in-octets", "name=Ethernet1/1,description=Zürich ↔ Genève", t0, 7),
		state("routeur-été", operStatus, "name=🚀", t0, "ÉTAT: UP ✓"),
		gauge("edge-1", temp, "name=\x00nul", t0, 1),
	})
	f("many rows", manyRows(10_000))
	f("mixed sources", []Sample{
		{TS: t0, Device: "edge-1", Metric: inOctets, Keys: "name=Ethernet1", Kind: KindCounter, U64: 1, Source: SourceGNMI},
		{TS: t0, Device: "edge-1", Metric: inOctets, Keys: "name=Ethernet1", Kind: KindCounter, U64: 2, Source: SourceSNMP},
		{TS: t0, Device: "edge-1", Metric: inOctets, Keys: "name=Ethernet1", Kind: KindCounter, U64: 3, Source: SourceSim},
	})
	f("value fields of other kinds are dropped", []Sample{
		{TS: t0, Device: "d", Metric: "m", Kind: KindCounter, U64: 5, F64: 1.5, Str: "x", Source: SourceGNMI},
		{TS: t0, Device: "d", Metric: "m", Kind: KindGauge, U64: 5, F64: 1.5, Str: "x", Source: SourceGNMI},
		{TS: t0, Device: "d", Metric: "m", Kind: KindState, U64: 5, F64: 1.5, Str: "x", Source: SourceGNMI},
	})
	long := strings.Repeat("x", 1<<16)
	f("long strings", []Sample{state(long, long, long, t0, long)})
}

// TestSampleBuilderTwoRecords checks that one builder makes independent
// records: each has its own dictionaries, holding only its own strings.
func TestSampleBuilderTwoRecords(t *testing.T) {
	buildMem := newCheckedMem(t)
	decodeMem := newCheckedMem(t)
	b := NewSampleBuilder(buildMem)
	defer b.Release()

	batches := [][]Sample{
		{
			counter("edge-1", inOctets, "name=Ethernet1", t0, 1),
			counter("edge-2", inOctets, "name=Ethernet2", t0, 2),
			counter("edge-1", inOctets, "name=Ethernet1", t0+1e9, 3),
		},
		{
			gauge("core-9", temp, "name=CPU0", t0, 55),
		},
		{},
	}
	wantDict := [][]string{{"edge-1", "edge-2"}, {"core-9"}, {}}
	for i, rows := range batches {
		for j := range rows {
			b.Append(&rows[j])
		}
		if b.Len() != len(rows) {
			t.Fatalf("batch %d: Len() = %d, want %d", i, b.Len(), len(rows))
		}
		rec := b.NewRecord()
		if b.Len() != 0 {
			t.Fatalf("batch %d: Len() after NewRecord = %d, want 0", i, b.Len())
		}
		dict := rec.Column(ColDevice).(*array.Dictionary).Dictionary().(*array.String)
		var got []string
		for k := 0; k < dict.Len(); k++ {
			got = append(got, dict.Value(k))
		}
		if fmt.Sprint(got) != fmt.Sprint(wantDict[i]) {
			t.Errorf("batch %d: device dictionary = %q, want %q", i, got, wantDict[i])
		}
		value, err := EncodeSamples(nil, rec)
		rec.Release()
		if err != nil {
			t.Fatalf("batch %d: EncodeSamples: %v", i, err)
		}
		dec, err := DecodeSamples(decodeMem, SamplesHeaders(), value)
		if err != nil {
			t.Fatalf("batch %d: DecodeSamples: %v", i, err)
		}
		out, err := Samples(dec)
		dec.Release()
		if err != nil {
			t.Fatalf("batch %d: Samples: %v", i, err)
		}
		if d := diffSamples(out, normalized(rows)); d != "" {
			t.Fatalf("batch %d: %s", i, d)
		}
	}
}

func TestEncodeSamplesAppends(t *testing.T) {
	mem := newCheckedMem(t)
	rec := buildRecord(mem, []Sample{counter("edge-1", inOctets, "", t0, 1)})
	defer rec.Release()
	prefix := []byte("prefix")
	out, err := EncodeSamples(prefix, rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:len(prefix)]) != "prefix" {
		t.Fatalf("EncodeSamples did not append to dst: %q", out[:len(prefix)])
	}
	dec, err := DecodeSamplesValue(mem, out[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	dec.Release()
}

func TestEncodeSamplesRejectsOtherSchema(t *testing.T) {
	mem := newCheckedMem(t)
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	rec := b.NewRecordBatch()
	defer rec.Release()
	dst := []byte("keep")
	out, err := EncodeSamples(dst, rec)
	if err == nil {
		t.Fatal("EncodeSamples accepted a record of another schema")
	}
	if string(out) != "keep" {
		t.Errorf("EncodeSamples changed dst on error: %q", out)
	}
}

func TestNewSampleReaderRejectsOtherSchema(t *testing.T) {
	mem := newCheckedMem(t)
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer b.Release()
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := NewSampleReader(rec); err == nil {
		t.Fatal("NewSampleReader accepted a record of another schema")
	}
	if _, err := Samples(rec); err == nil {
		t.Fatal("Samples accepted a record of another schema")
	}
}

func TestSampleReaderAccessors(t *testing.T) {
	mem := newCheckedMem(t)
	rec := buildRecord(mem, []Sample{
		counter("edge-1", inOctets, "name=Ethernet1", t0, math.MaxUint64),
		gauge("edge-2", temp, "", t0+1, 2.5),
		state("edge-3", operStatus, "name=Ethernet3", t0+2, "DOWN"),
	})
	defer rec.Release()
	r, err := NewSampleReader(rec)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ts                           int64
		device, metric, keys, source string
		kind                         Kind
		u64                          uint64
		u64ok                        bool
		f64                          float64
		f64ok                        bool
		str                          string
		strok                        bool
	}
	want := []row{
		{t0, "edge-1", inOctets, "name=Ethernet1", SourceGNMI, KindCounter, math.MaxUint64, true, 0, false, "", false},
		{t0 + 1, "edge-2", temp, "", SourceSNMP, KindGauge, 0, false, 2.5, true, "", false},
		{t0 + 2, "edge-3", operStatus, "name=Ethernet3", SourceGNMI, KindState, 0, false, 0, false, "DOWN", true},
	}
	if r.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", r.Len(), len(want))
	}
	for i, w := range want {
		var g row
		g.ts, g.device, g.metric, g.keys, g.source, g.kind = r.TS(i), r.Device(i), r.Metric(i), r.Keys(i), r.Source(i), r.Kind(i)
		g.u64, g.u64ok = r.U64(i)
		g.f64, g.f64ok = r.F64(i)
		g.str, g.strok = r.Str(i)
		if g != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestKindNames(t *testing.T) {
	f := func(k Kind, name string) {
		t.Helper()
		if got := k.String(); got != name {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, name)
		}
		if k < KindCounter || k > KindState {
			if _, err := ParseKind(name); err == nil {
				t.Errorf("ParseKind(%q) succeeded", name)
			}
			return
		}
		got, err := ParseKind(name)
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", name, got, err, k)
		}
	}
	f(KindCounter, "counter")
	f(KindGauge, "gauge")
	f(KindState, "state")
	f(0, "kind(0)")
	f(4, "kind(4)")
	if _, err := ParseKind("Counter"); err == nil {
		t.Error("ParseKind is case-insensitive; want exact names")
	}
}

func TestSeriesKey(t *testing.T) {
	s := counter("edge-1", inOctets, "name=Ethernet1", t0, 1)
	k := s.Series()
	if k != (SeriesKey{"edge-1", inOctets, "name=Ethernet1"}) {
		t.Errorf("Series() = %+v", k)
	}
	if got, want := k.String(), "edge-1|"+inOctets+"|name=Ethernet1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestSamplesSchemaGolden pins the samples contract: any change to the Arrow
// schema shows up as a diff of testdata/samples.v1.schema.txt in review.
// Rewrite it with go test ./schemas -run TestSamplesSchemaGolden -update.
func TestSamplesSchemaGolden(t *testing.T) {
	path := filepath.Join("testdata", "samples.v1.schema.txt")
	got := SamplesSchema().String() + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("SamplesSchema() changed; if intended, bump SamplesVersion or rerun with -update.\n got:\n%s\nwant:\n%s", got, want)
	}
}
