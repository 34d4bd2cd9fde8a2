package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDriftWarmupStepOnCheck: a healthy -3 dBm receive power that steps
// down to -10, -20 or -40 dBm (an optic re-seated, a patch moved) on the
// point whose difference completes the warm-up's noise estimate (point
// 30; point 60 after a -40 dBm reading at point 10 made the check drop
// the first estimate), then decays by 3 dB over 720 points from point 400,
// fires once, within 10 points of where it fires when the step comes two
// points later (told as a step, the envelope learned from the new level;
// within 3 on 59 of the 60 runs: a step the check passes (to -10 dBm)
// still widens the noise with its difference, as before the check).
// Before, the check took the step's difference for an absurd reading's
// and dropped the estimate, so the step was never told: the warm-up's
// envelope spanned both levels, and the decay never fired (41 of the 60
// runs: every step to -20 and -40 dBm, one to -10).
func TestDriftWarmupStepOnCheck(t *testing.T) {
	run := func(seed uint64, lvl float64, at, spike int) []int {
		d := newDrift(t)
		rng := rand.New(rand.NewPCG(seed, 11))
		fired, resolved := feed(d, 0, 1200, func(i int) float64 {
			b := -3.0
			if i >= at {
				b = lvl - 3*math.Max(0, float64(min(i-400, 720)))/720
			}
			if i == spike {
				return -40
			}
			return simOptic(rng, b)
		})
		if len(resolved) != 0 {
			return append(fired, -1)
		}
		return fired
	}
	var bad []string
	for seed := range uint64(10) {
		for _, lvl := range []float64{-10, -20, -40} {
			for _, c := range [][2]int{{30, -1}, {60, 10}} {
				want := run(seed, lvl, c[0]+2, c[1])
				if len(want) != 1 {
					t.Fatalf("seed %d, step to %v at %d: fired at %v, want once", seed, lvl, c[0]+2, want)
				}
				got := run(seed, lvl, c[0], c[1])
				if len(got) != 1 || math.Abs(float64(got[0]-want[0])) > 10 {
					bad = append(bad, fmt.Sprintf("seed %d, step to %v at %d (spike at %d): fired at %v, want %v (±10)", seed, lvl, c[0], c[1], got, want))
				}
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d runs:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// TestDriftWarmupFlakyOptic: a healthy -3 dBm receive power read as
// -40 dBm once every 20 to 60 points (a flaky module), from any offset,
// with the default warm-up and one of 30, ends its warm-up with a whole
// noise estimate, and with the default one does not fire before it decays
// by 6 dB over 720 points from point 400. Before, the check dropped the estimate of each
// 30 differences holding such a reading until the warm-up's last point,
// and the rule watched with none (a σ of the reading's resolution, no
// step told): 156 of the 560 runs with the default warm-up, 12 of them
// firing before the decay, and 425 of 560 with a warm-up of 30 (45 firing
// before the decay, 2 of which did before the check too).
func TestDriftWarmupFlakyOptic(t *testing.T) {
	var bad []string
	for _, w := range []int{DefaultWarmup, minNoisePoints} {
		for every := 20; every <= 60; every++ {
			for off := 0; off < every; off += 3 {
				d, err := New(Config{Warmup: w})
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(every), uint64(off)))
				seen := uint32(0)
				fired, _ := feed(d, 0, 1200, func(i int) float64 {
					if i == w+1 {
						seen = d.seen
					}
					if i%every == off {
						return -40
					}
					return simOptic(rng, -3-6*math.Max(0, float64(min(i, 1120)-400))/720)
				})
				// A warm-up of 30 fired before the decay on 2 runs before the
				// check too: the σ of its one estimate, spike or none.
				if seen < minNoisePoints || w == DefaultWarmup && len(fired) != 0 && fired[0] < 400 {
					bad = append(bad, fmt.Sprintf("warm-up %d, -40 every %d from %d: %d differences at its end, fired at %v", w, every, off, seen, fired))
				}
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d runs:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
