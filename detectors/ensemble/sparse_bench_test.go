package ensemble

import (
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

// BenchmarkSparseCounters advances the detect stage's counter ensemble
// (detectLike) on 64 error counters' rates, 0 on most points and a few
// errors now and then, one point of each series in turn, as the stage
// sees a device's interfaces: the series whose values mostly repeat.
func BenchmarkSparseCounters(b *testing.B) {
	const series, points = 64, 4096
	rng := rand.New(rand.NewPCG(11, 12))
	xss := make([][]float64, series)
	for k := range xss {
		xss[k] = make([]float64, points)
		for i := range xss[k] {
			if rng.IntN(8) == 0 {
				xss[k][i] = float64(1 + rng.IntN(3))
			}
		}
	}
	sh, err := NewShared(detectLike)
	if err != nil {
		b.Fatal(err)
	}
	es := make([]*Ensemble, series)
	for k := range es {
		es[k] = sh.New()
	}
	var r Result
	b.ReportAllocs()
	b.SetBytes(16)
	cpu0 := cpuTime()
	i, k := 0, 0
	for b.Loop() {
		es[k].Advance(int64(i)*synth.Step, xss[k][i%points], &r)
		if k++; k == series {
			k, i = 0, i+1
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
