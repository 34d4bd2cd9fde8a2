package publish

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

func TestBatchRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	if b.NewRecord() != nil {
		t.Fatal("an empty batch should give no record")
	}
	for round := 0; round < 2; round++ {
		g := b.Gen()
		m, k := b.MetricIndex("/m/c"), b.KeysIndex("name=E1")
		b.AppendCounter(1, m, k, 1<<63+1)
		b.AppendGauge(2, b.MetricIndex("/m/g"), b.KeysIndex(""), 2.5)
		b.AppendState(3, b.MetricIndex("/m/s"), k, "UP")
		b.Append(&schemas.Sample{TS: 4, Metric: "/m/c", Keys: "name=E2", Kind: schemas.KindCounter, U64: 7})
		rec := b.NewRecord()
		if b.Gen() == g {
			t.Fatal("generation did not change")
		}
		val, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		back, err := schemas.DecodeSamplesValue(mem, val)
		if err != nil {
			t.Fatal(err)
		}
		got, err := schemas.Samples(back)
		back.Release()
		if err != nil {
			t.Fatal(err)
		}
		want := []schemas.Sample{
			{TS: 1, Device: "dev1", Metric: "/m/c", Keys: "name=E1", Kind: schemas.KindCounter, U64: 1<<63 + 1, Source: "gnmi"},
			{TS: 2, Device: "dev1", Metric: "/m/g", Kind: schemas.KindGauge, F64: 2.5, Source: "gnmi"},
			{TS: 3, Device: "dev1", Metric: "/m/s", Keys: "name=E1", Kind: schemas.KindState, Str: "UP", Source: "gnmi"},
			{TS: 4, Device: "dev1", Metric: "/m/c", Keys: "name=E2", Kind: schemas.KindCounter, U64: 7, Source: "gnmi"},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d rows", len(got))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("row %d: got %+v want %+v", i, got[i], want[i])
			}
		}
	}
}
