package maintenance

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkObserve measures the tracker per sample: 1000 series at a
// 10-minute interval, with a bucket (and a trend fit) closing every sixth
// sample of a series.
func BenchmarkObserve(b *testing.B) {
	tr, _ := New(Config{})
	rng := rand.New(rand.NewPCG(1, 1))
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "name=Ethernet" + string(rune('A'+i%26)) + string(rune('A'+i/26)) + "-transceiver"
	}
	b.ReportAllocs()
	ts := t0.UnixNano()
	for i := 0; i < b.N; i++ {
		k := i % len(keys)
		if k == 0 {
			ts += int64(10 * time.Minute)
		}
		tr.Observe(ts, "edge-1", schemas.MetricOpticInputPower, keys[k], -3+0.05*rng.NormFloat64())
		if k == 0 {
			tr.Take()
		}
	}
}

// BenchmarkFit measures one Theil–Sen fit of a full window (48 buckets).
func BenchmarkFit(b *testing.B) {
	ts, ys := make([]float64, 48), make([]float64, 48)
	for i := range ts {
		ts[i], ys[i] = float64(i), -3-0.01*float64(i)+0.01*float64(i%5)
	}
	var scratch []float64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, scratch = Fit(ts, ys, scratch)
	}
}
