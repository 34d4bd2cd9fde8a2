package schemas

import (
	"fmt"
	"testing"
)

// TestSeriesIndex: SeriesIndex packs the rows' device, metric and keys
// dictionary indices, read directly from the int32 index arrays, as
// GetValueIndex reads them, also on a slice of a record (an offset), and
// rows of one series share it while other series differ.
func TestSeriesIndex(t *testing.T) {
	mem := newCheckedMem(t)
	var rows []Sample
	for i := range 40 {
		rows = append(rows, Sample{TS: int64(i), Device: fmt.Sprint("d", i%3), Metric: fmt.Sprint("m", i%5), Keys: fmt.Sprint("k", i%2),
			Kind: KindGauge, F64: float64(i)})
	}
	rec := buildRecord(mem, rows)
	defer rec.Release()
	for _, off := range []int64{0, 7} {
		part := rec.NewSlice(off, rec.NumRows())
		r, err := NewSampleReader(part)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[uint64]SeriesKey{}
		for i := range r.Len() {
			want := uint64(r.device.GetValueIndex(i))<<42 | uint64(r.metric.GetValueIndex(i))<<21 | uint64(r.keys.GetValueIndex(i))
			got := r.SeriesIndex(i)
			if got != want {
				t.Fatalf("offset %d row %d: %#x, want %#x", off, i, got, want)
			}
			k := SeriesKey{Device: r.Device(i), Metric: r.Metric(i), Keys: r.Keys(i)}
			if prev, ok := seen[got]; ok && prev != k {
				t.Fatalf("offset %d row %d: %v shares its index with %v", off, i, k, prev)
			}
			seen[got] = k
		}
		if len(seen) != 30 { // lcm(3, 5, 2) series
			t.Errorf("offset %d: %d series, want 30", off, len(seen))
		}
		part.Release()
	}
}
