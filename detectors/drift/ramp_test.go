package drift

import (
	"math/rand/v2"
	"testing"
)

// TestDriftDecayUnderWayAtStart: a receive power that is already
// decaying when the rule first sees it (a new series, a state lost), at
// 0.005 to 0.05 dB a point on the simulator's noise (about 0.2 to 1.7
// σ), fires once, by 60 points after the warm-up, and resolves nothing.
// Before, from about 0.5 σ a point the medians of the warm-up's first
// 30 points spread over 12 σ, so the warm-up took the decay for a jump
// learned blind and started again, 30 points on, for as long as the
// decay lasted: at 0.02 dB a point and more the rule never fired (0 of
// 20 seeds, 20 dB down), at 0.015 it fired 124 points later on average
// (up to 434) than before the restart existed. A steady trend spreads
// the medians evenly about their mean, which a jump does not: it is
// learned, as before.
func TestDriftDecayUnderWayAtStart(t *testing.T) {
	for _, perPoint := range []float64{0.005, 0.0083, 0.01, 0.015, 0.02, 0.05} {
		for seed := range uint64(20) {
			d := newDrift(t)
			rng := rand.New(rand.NewPCG(seed, 7))
			fired, resolved := feed(d, 0, 1000, func(i int) float64 {
				return simOptic(rng, -3-perPoint*float64(i))
			})
			if len(fired) != 1 || len(resolved) != 0 || fired[0] > d.cfg.Warmup+60 {
				t.Errorf("%v dB a point, seed %d: fired at %v, resolved at %v; want once by point %d", perPoint, seed, fired, resolved, d.cfg.Warmup+60)
			}
		}
	}
}
