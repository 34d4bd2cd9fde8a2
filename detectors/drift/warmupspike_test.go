package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestDriftWarmupSpikeIgnored: one reading far off a healthy receive
// power (20 σ below, a loss of signal read as -40 dBm, ±1e300 or
// MaxFloat64) at any of several points of the warm-up, after the start
// (the first point too) or after a step, and the power back on the next
// point, does not move the envelope: a decay starting at point 1010 (or
// 3010, after a step at 2000) fires on the point it fires on without the
// spike, and nothing else fires or resolves. Before, the warm-up learned
// the spike into its range: the envelope reached down to it, and the
// decay fired late (20 σ below: 114 points late) or not at all (-40 dBm).
func TestDriftWarmupSpikeIgnored(t *testing.T) {
	const start, span, loss = 1010, 720, 6.0
	sigma := 0.05 / math.Sqrt(3)
	run := func(stepAt, spike int, bad float64) (fired, resolved []int) {
		d := newDrift(t)
		rng := rand.New(rand.NewPCG(1, 2))
		from := start + stepAt
		return feed(d, 0, from+span, func(i int) float64 {
			base := -3.0
			if stepAt > 0 && i >= stepAt {
				base = -5 // re-seated: learned again from here
			}
			x := simOptic(rng, base-max(0, loss*float64(i-from)/span))
			if i == spike {
				return bad
			}
			return x
		})
	}
	var bad []string
	for _, stepAt := range []int{0, 2000} {
		wantFired, wantResolved := run(stepAt, -1, 0)
		if len(wantFired) != 1 {
			t.Fatalf("step at %d, without a spike: fired at %v, resolved at %v, want one firing", stepAt, wantFired, wantResolved)
		}
		for _, at := range []int{0, 1, 2, 5, 20, 31, 100, 178, 179, 180} {
			if at < 2 && stepAt > 0 {
				continue // the step's first two points are the new level
			}
			base := -3.0
			if stepAt > 0 {
				base = -5
			}
			for _, v := range []float64{base - 20*sigma, -40, 1e300, -1e300, math.MaxFloat64} {
				spike := stepAt + at
				fired, resolved := run(stepAt, spike, v)
				if !slices.Equal(fired, wantFired) || !slices.Equal(resolved, wantResolved) {
					bad = append(bad, fmt.Sprintf("step at %d, spike of %.4g at %d: fired at %v, resolved at %v, want %v, %v",
						stepAt, v, spike, fired, resolved, wantFired, wantResolved))
				}
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d of the spikes moved the alert:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
