// Package synth makes synthetic series with known anomalies for the
// detectors' tests: gaussian noise around a level, optionally with a daily
// cycle, and one injected anomaly at a known index.
package synth

import (
	"math"
	"math/rand/v2"
)

// Kind is the kind of injected anomaly.
type Kind int

// Anomaly kinds.
const (
	None          Kind = iota
	Spike              // one point 12 sigma up
	Dip                // one point 12 sigma down
	LevelShift         // the level moves up 3 sigma and stays
	VarianceRatio      // the noise grows 6× and stays
	SeasonalBreak      // the daily cycle stops: flat at the mean
)

// Step is the sample interval of the series: five minutes.
const Step = int64(5 * 60 * 1e9)

// Series returns n points (timestamps in Unix ns, values) with noise of
// sigma 1 around 100, a daily cycle of amplitude amp (0 for none), and
// the anomaly kind starting at index at.
func Series(seed uint64, n int, amp float64, kind Kind, at int) ([]int64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	ts := make([]int64, n)
	xs := make([]float64, n)
	t0 := int64(1_700_000_000) * 1e9
	t0 -= t0 % (24 * 3600 * 1e9)
	for i := range xs {
		ts[i] = t0 + int64(i)*Step
		phase := 2 * math.Pi * float64(i) * float64(Step) / (24 * 3600 * 1e9)
		season := amp * math.Sin(phase)
		noise := rng.NormFloat64()
		if i >= at {
			switch kind {
			case LevelShift:
				noise += 3
			case VarianceRatio:
				noise *= 6
			case SeasonalBreak:
				season = 0
			}
		}
		xs[i] = 100 + season + noise
		if i == at {
			switch kind {
			case Spike:
				xs[i] += 12
			case Dip:
				xs[i] -= 12
			}
		}
	}
	return ts, xs
}
