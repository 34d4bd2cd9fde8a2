package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectJumpHeld: a bursty access port (10 s intervals spread over
// a factor of about 2 either way) whose traffic jumps ×10 at its daily
// peak for ten minutes: one alert that fires on its first samples (a
// jump of exactly ×10 sits on level_shift's band edge, so a noisy point
// can fall inside it: +0 to +3) and stays on until the jump ends. Before, level_shift's alert resolved within the
// jump when two noisy points fell inside its band (a jump ×10 sits on the
// band's edge), though the other members still saw the points far off,
// and the cooldown then kept the rest of the jump from firing again.
func TestDetectJumpHeld(t *testing.T) {
	const day, at, dur = 8640, 2*8640 + 15*360, 60
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		var bytes uint64 = 1 << 40
		rows := func(i int) []schemas.Sample {
			h := float64(i%day) / 360
			cycle := 0.05 + 0.95*(0.5-0.5*math.Cos(2*math.Pi*(h-3)/24))
			rate := 4e6 * cycle * math.Exp(0.6*rng.NormFloat64())
			if i >= at && i < at+dur {
				rate *= 10
			}
			bytes += uint64(rate * 10)
			return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", bytes)}
		}
		var got []string
		fired, resolved := -1, -1
		for _, d := range process(t, newTestDetect(t, Config{}), sampleRecords(t, 3*day, 60, rows)) {
			tick := int(d.EventTime.Sub(t0).Seconds()) / 10
			if tick < at-5 || tick >= at+dur+30 {
				continue
			}
			got = append(got, fmt.Sprintf("%s %s@%+d", d.State, d.Detector, tick-at))
			switch d.State {
			case schemas.StateFiring:
				fired = tick - at
			case schemas.StateResolved:
				resolved = tick - at
			}
		}
		if len(got) != 2 || fired < 0 || fired > 3 || resolved < dur {
			t.Errorf("seed %d: %v, want one alert from its first samples (+0…+3) to its end (+%d or later)", seed, got, dur)
		}
	}
}
