package pipeline

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// decoderRecord returns a samples message of ss.
func decoderRecord(t *testing.T, ss ...schemas.Sample) *kgo.Record {
	t.Helper()
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range ss {
		sb.Append(&ss[i])
	}
	rec := sb.NewRecord()
	defer rec.Release()
	v, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Value: v, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}

func TestSampleDecoder(t *testing.T) {
	good := schemas.Sample{TS: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).UnixNano(), Device: "d", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}
	bad := good
	bad.TS = 0 // outside the sample window: dropped and counted
	r := decoderRecord(t, good, bad)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	d := SampleDecoder{Mem: mem}
	sr, release, err := d.ReadSamples(r)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Len() != 1 || sr.TS(0) != good.TS {
		t.Errorf("ReadSamples kept %d rows, want the good one", sr.Len())
	}
	release()
	mem.AssertSize(t, 0)
	if got := d.DroppedRows(); got.BadTimestamp != 1 || got.Total() != 1 {
		t.Errorf("DroppedRows = %+v, want one bad timestamp", got)
	}

	var zero SampleDecoder // allocates with memory.DefaultAllocator
	rec, err := zero.DecodeSamples(r)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NumRows() != 1 {
		t.Errorf("DecodeSamples kept %d rows, want 1", rec.NumRows())
	}
	rec.Release()
	if got := zero.DroppedRows().BadTimestamp; got != 1 {
		t.Errorf("zero decoder counted %d bad timestamps, want 1", got)
	}
	if _, err := zero.DecodeSamples(&kgo.Record{Value: []byte("not arrow"), Headers: r.Headers}); err == nil {
		t.Error("DecodeSamples of a bad message: no error")
	}
}
