package detect

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectNightJump: a link whose night traffic is a twentieth of its
// day (a smooth daily cycle, bursty 10 s intervals) jumps ×30 at 03:00 on
// its third day for ten minutes: that fires within 3 samples, and the
// night after it fires nothing. Before, level_shift took the day's
// carrying level for the night's, so the jump was a "return" that vetoed
// the other members (nothing fired), and the night after it fired as a
// drop.
func TestDetectNightJump(t *testing.T) {
	const day, at, dur = 8640, 2*8640 + 3*360, 60
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 57))
		var bytes uint64 = 1 << 40
		rows := func(i int) []schemas.Sample {
			h := float64(i%day) / 360
			cycle := 0.05 + 0.95*(0.5-0.5*math.Cos(2*math.Pi*(h-3)/24)) // 5 % at 03:00, 100 % at 15:00
			rate := 10e6 * cycle * math.Exp(0.3*rng.NormFloat64())
			if i >= at && i < at+dur {
				rate *= 30
			}
			bytes += uint64(rate * 10)
			return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", bytes)}
		}
		recs := sampleRecords(t, 3*day, 60, rows)
		first, after := -1, []string(nil)
		for _, d := range process(t, newTestDetect(t, Config{}), recs) {
			tick := int(d.EventTime.Sub(t0).Seconds()) / 10
			switch {
			case d.State != schemas.StateFiring:
			case tick >= at && tick < at+dur && first < 0:
				first = tick - at
			case tick >= at+dur && tick < at+dur+360:
				after = append(after, d.Detector+"@"+strings.TrimPrefix(d.EventTime.Format("15:04:05"), "0"))
			}
		}
		if first < 0 || first > 2 {
			t.Errorf("seed %d: the jump ×30 fired at sample %d of it, want within 3 (0–2)", seed, first)
		}
		if len(after) > 0 {
			t.Errorf("seed %d: the hour after the jump fired %v, want nothing", seed, after)
		}
	}
}
