package drift

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDriftSpikeIgnored: one reading far off a healthy receive power
// (-3 dBm, the simulator's noise) — 20 σ below, a loss of signal read as
// -40 dBm, ±1e300, math.MaxFloat64 — and the power back on the next
// point is ignored, as the median of three is meant to: no event, and a
// decay starting 10 points later fires on the point it fires on without
// the spike. Before, the spike moved the envelope's level by its 120th
// part (a -40 read fired the rule at once: "left its envelope slowly"),
// and two points later the return from it was taken for a step: the
// envelope was learned again, and the decay fired only after the new
// warm-up, 180 points on.
func TestDriftSpikeIgnored(t *testing.T) {
	const spike, start, span, loss = 1000, 1010, 720, 6.0
	run := func(bad float64) (fired, resolved []int) {
		d := newDrift(t)
		rng := rand.New(rand.NewPCG(1, 2))
		return feed(d, 0, start+span, func(i int) float64 {
			x := simOptic(rng, -3-max(0, loss*float64(i-start)/span))
			if i == spike && !math.IsNaN(bad) {
				return bad
			}
			return x
		})
	}
	wantFired, wantResolved := run(math.NaN())
	if len(wantFired) != 1 || len(wantResolved) != 0 {
		t.Fatalf("without a spike: fired at %v, resolved at %v, want one firing", wantFired, wantResolved)
	}
	sigma := 0.05 / math.Sqrt(3)
	for _, bad := range []float64{-3 - 20*sigma, -40, 1e300, -1e300, math.MaxFloat64} {
		if fired, resolved := run(bad); !slices.Equal(fired, wantFired) || len(resolved) != 0 {
			t.Errorf("a spike of %v at %d: fired at %v, resolved at %v, want fired at %v", bad, spike, fired, resolved, wantFired)
		}
	}
}
