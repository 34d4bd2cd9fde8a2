package schemas

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestSampleWindow(t *testing.T) {
	if got := time.Unix(0, MinSampleTime).UTC(); !got.Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("MinSampleTime is %v", got)
	}
	if got := time.Unix(0, MaxSampleTime).UTC(); !got.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("MaxSampleTime is %v", got)
	}
}

func TestCleanSamples(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ok := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	g := func(ts int64, device, str string) Sample {
		if str != "" {
			return Sample{TS: ts, Device: device, Metric: "/s", Kind: KindState, Str: str, Source: "gnmi"}
		}
		return Sample{TS: ts, Device: device, Metric: "/m", Kind: KindGauge, F64: 1, Source: "gnmi"}
	}
	f := func(name string, in []Sample, wantKept []int, want RowDrops) {
		t.Helper()
		b := NewSampleBuilder(mem)
		defer b.Release()
		for i := range in {
			b.Append(&in[i])
		}
		rec := b.NewRecord()
		defer rec.Release()
		out, drops := CleanSamples(mem, rec)
		defer out.Release()
		if drops != want {
			t.Errorf("%s: drops %+v, want %+v", name, drops, want)
		}
		got, err := Samples(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(wantKept) {
			t.Fatalf("%s: kept %d rows, want %d", name, len(got), len(wantKept))
		}
		for i, k := range wantKept {
			if got[i] != in[k] {
				t.Errorf("%s: row %d is %+v, want input row %d %+v", name, i, got[i], k, in[k])
			}
		}
		if want.Total() == 0 && out != rec {
			t.Errorf("%s: a clean record was copied", name)
		}
	}
	f("all good", []Sample{g(ok, "d1", ""), g(ok+1, "d1", "UP")}, []int{0, 1}, RowDrops{})
	f("times", []Sample{g(0, "d1", ""), g(ok, "d1", ""), g(-1, "d1", ""), g(time.Date(2188, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), "d1", ""),
		g(MinSampleTime-1, "d1", ""), g(MinSampleTime, "d1", ""), g(MaxSampleTime-1, "d1", ""), g(MaxSampleTime, "d1", "")},
		[]int{1, 5, 6}, RowDrops{BadTimestamp: 5})
	f("utf8 value", []Sample{g(ok, "d1", "UP"), g(ok, "d1", "\xff"), g(ok, "d1", "DOWN")}, []int{0, 2}, RowDrops{InvalidUTF8: 1})
	f("utf8 device", []Sample{g(ok, "d\xc3(", ""), g(ok, "d1", ""), g(ok+1, "d\xc3(", "UP")}, []int{1}, RowDrops{InvalidUTF8: 2})
	f("both problems count once", []Sample{g(0, "d\xc3(", "\xff"), g(ok, "d2", "")}, []int{1}, RowDrops{BadTimestamp: 1})
	f("nothing left", []Sample{g(0, "d1", "")}, nil, RowDrops{BadTimestamp: 1})
	noMetric := g(ok, "d1", "")
	noMetric.Metric = ""
	f("empty names", []Sample{g(ok, "", ""), g(ok, "d1", ""), noMetric, g(ok, "", "UP")}, []int{1}, RowDrops{BadName: 3})
	nulMetric := g(ok, "d1", "")
	nulMetric.Metric = "/m\x00x"
	f("NUL in names", []Sample{g(ok, "d\x001", ""), g(ok, "d1", ""), nulMetric}, []int{1}, RowDrops{BadName: 2})
	f("empty name after utf8", []Sample{g(ok, "", "\xff"), g(ok, "d1", "")}, []int{1}, RowDrops{InvalidUTF8: 1})
}

// TestDecodeKeepsInvalidUTF8 checks that a string that is not UTF-8 no
// longer fails the whole message: the decoder checks structure, and
// CleanSamples drops the row.
func TestDecodeKeepsInvalidUTF8(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewSampleBuilder(mem)
	defer b.Release()
	ts := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	b.Append(&Sample{TS: ts, Device: "d\xff", Metric: "/s", Kind: KindState, Str: "\xfe", Source: "gnmi"})
	b.Append(&Sample{TS: ts, Device: "d1", Metric: "/s", Kind: KindState, Str: "UP", Source: "gnmi"})
	rec := b.NewRecord()
	v, err := EncodeSamples(nil, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSamplesValue(mem, v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	defer got.Release()
	clean, drops := CleanSamples(mem, got)
	defer clean.Release()
	if clean.NumRows() != 1 || drops.InvalidUTF8 != 1 {
		t.Fatalf("kept %d rows, drops %+v; want 1 row kept, 1 dropped", clean.NumRows(), drops)
	}
}
