package ensemble

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAbsurdReadingDoesNotDisableMembers checks that one absurd reading
// (1e160 and up: a garbled float, a sentinel of a device's "not
// available") amid a daily cycle leaves the members working: a day later
// the ewma member's sigma is finite, the seasonal profile still explains
// the series and gives the expected value, and the results are those of
// the series without the reading. Before, its square overflowed the
// members' variances for good: the ewma and CUSUM members' sigma became
// +Inf (every later z 0), and the seasonal variances NaN, so the profile
// was never the baseline again.
func TestAbsurdReadingDoesNotDisableMembers(t *testing.T) {
	const day = 8640 // 10 s points
	t0 := int64(1_700_000_000e9)
	series := func(absurd float64) (ts []int64, xs []float64) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 4 * day {
			x := 50 + 20*math.Sin(2*math.Pi*float64(i)/day) + rng.NormFloat64()
			if i == 2*day {
				x = absurd
			}
			ts, xs = append(ts, t0+int64(i)*10e9), append(xs, x)
		}
		return ts, xs
	}
	cfg := Config{Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift", "density"}, MinZ: 6, Confirm: 2, Hold: 360, SpikeZ: 10}
	sh, err := NewShared(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts, clean := series(math.Inf(1)) // an infinity is ignored
	want := run(t, sh, ts, clean)
	for _, absurd := range []float64{1e160, -1e200, math.MaxFloat64} {
		_, xs := series(absurd)
		e := sh.New()
		for i := range xs {
			r := e.Update(ts[i], xs[i])
			if i < 3*day {
				continue
			}
			if r != want[i] {
				t.Errorf("%g at point %d: point %d scored %+v, without it %+v", absurd, 2*day, i, r, want[i])
				break
			}
		}
		if s := e.ew.Sigma(); math.IsInf(s, 0) || math.IsNaN(s) {
			t.Errorf("%g: ewma sigma %v two days after it", absurd, s)
		}
		if s := e.sea.Strength(ts[len(ts)-1]); !(s >= 0.5) {
			t.Errorf("%g: seasonal strength %v two days after it", absurd, s)
		}
	}
}
