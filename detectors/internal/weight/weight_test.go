package weight

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOf checks Of against max(alpha, 1/n) for the counts around Sat of
// the detectors' defaults and of random alphas.
func TestOf(t *testing.T) {
	alphas := []float64{0.002, 0.005, 0.01, 0.05, 0.2, 0.3, 1, 1.0 / 3, 0.1, 1e-9, 0, math.SmallestNonzeroFloat64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		alphas = append(alphas, rng.Float64(), math.Exp(-20*rng.Float64()))
	}
	for _, a := range alphas {
		sat := Sat(a)
		lo, hi := uint64(0), uint64(1000)
		if sat != math.MaxUint64 {
			lo, hi = sat-min(sat, 1000), sat+1000
		}
		for n := lo; n < hi; n++ {
			want := max(a, 1/float64(n))
			if got := Of(a, n, sat); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("alpha %v n %d (sat %d): got %v, want %v", a, n, sat, got, want)
			}
		}
	}
}
