package detect

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/schemas"
)

// levelRun feeds xs (one point per 10 s) to the ensemble of a counter
// rate as the detect stage configures it by default, and returns the
// indices of the points that fired and resolved an alert.
func levelRun(t *testing.T, xs []float64) (fired, resolved []int, onsets []ensemble.Result) {
	t.Helper()
	sh, err := ensemble.NewShared(Config{}.WithDefaults().EnsembleConfig(schemas.MetricInOctets, true))
	if err != nil {
		t.Fatal(err)
	}
	e := sh.New()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	for i, x := range xs {
		switch r := e.Update(t0+int64(i)*10e9, x); r.Transition {
		case ensemble.Fired:
			fired, onsets = append(fired, i), append(onsets, r)
		case ensemble.Resolved:
			resolved = append(resolved, i)
		}
	}
	return fired, resolved, onsets
}

func noisy(rng *rand.Rand, n int, level float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = level * (1 + 0.03*rng.NormFloat64())
	}
	return xs
}

func flat(x float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

// TestDetectLevelShifts: with the stage's default configuration, a link
// that drops to zero fires within 3 samples even 10 samples into the
// series, every time it happens, and resolves when traffic is back; an
// order-of-magnitude jump or drop (exactly ×10, or a tenth, even 10
// samples in) fires within 3 samples; a link idle for 40 minutes does not fire
// when traffic comes, and its next failure fires (it does not resolve an
// alert the idle stretch left on).
func TestDetectLevelShifts(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	f := func(name string, xs []float64, wantFired, wantResolved []int) {
		t.Helper()
		fired, resolved, onsets := levelRun(t, xs)
		if !slices.Equal(fired, wantFired) || !slices.Equal(resolved, wantResolved) {
			t.Errorf("%s: fired at %v, resolved at %v; want %v and %v", name, fired, resolved, wantFired, wantResolved)
		}
		for _, r := range onsets {
			if !r.Cause.Has(ensemble.LevelShift) || r.CauseTop != ensemble.LevelShift || !(r.Expected > r.Lower && r.Upper > r.Expected) {
				t.Errorf("%s: onset %+v: want level_shift as the cause, with a band", name, r)
			}
		}
	}
	const gbps = 1.25e8 // bytes/s
	f("10 samples, then down", slices.Concat(noisy(rng, 10, 40*gbps), flat(0, 30), noisy(rng, 20, 40*gbps)),
		[]int{11}, []int{41})
	f("the same drop, three times", slices.Concat(noisy(rng, 400, 40*gbps), flat(0, 12), noisy(rng, 1000, 40*gbps), flat(0, 12),
		noisy(rng, 3000, 40*gbps), flat(0, 12), noisy(rng, 50, 40*gbps)),
		[]int{401, 1413, 4425}, []int{413, 1425, 4437})
	f("idle 40 min, traffic, a failure", slices.Concat(flat(0, 240), noisy(rng, 600, 3*gbps), flat(0, 30), noisy(rng, 100, 3*gbps)),
		[]int{841}, []int{871})
	f("10 samples, then ×10 for 5 min", slices.Concat(noisy(rng, 10, 0.3*gbps), noisy(rng, 30, 3*gbps), noisy(rng, 20, 0.3*gbps)),
		[]int{11}, []int{41})
	f("10 samples, then a tenth for 5 min", slices.Concat(noisy(rng, 10, 3*gbps), noisy(rng, 30, 0.3*gbps), noisy(rng, 20, 3*gbps)),
		[]int{11}, []int{41})
	f("jump ×15 for 5 min", slices.Concat(noisy(rng, 300, 0.2*gbps), noisy(rng, 30, 3*gbps), noisy(rng, 300, 0.2*gbps)),
		[]int{301}, []int{331})
}
