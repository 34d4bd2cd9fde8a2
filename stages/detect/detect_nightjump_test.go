package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// dayTicks is a day of 10 s ticks.
const dayTicks = 8640

// dailyLink returns rows of one interface's in-octets counter over a
// smooth daily cycle, 5 % of peak bytes per second at 03:00 and peak at
// 15:00, each 10 s interval's volume log-normal with spread sigma, and
// times factor from tick at for dur ticks.
func dailyLink(seed uint64, peak, sigma float64, at, dur int, factor float64) func(i int) []schemas.Sample {
	rng := rand.New(rand.NewPCG(seed, 57))
	var bytes uint64 = 1 << 40
	return func(i int) []schemas.Sample {
		h := float64(i%dayTicks) / 360
		rate := peak * (0.05 + 0.95*(0.5-0.5*math.Cos(2*math.Pi*(h-3)/24))) * math.Exp(sigma*rng.NormFloat64())
		if i >= at && i < at+dur {
			rate *= factor
		}
		bytes += uint64(rate * 10)
		return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", bytes)}
	}
}

// event is a detection's state and time, in ticks from a fault's start.
type event struct {
	state string
	off   int
}

func (e event) String() string { return fmt.Sprintf("%s@%+d", e.state, e.off) }

// after returns the detections from tick at to n ticks after it.
func after(dets []*schemas.Detection, at, n int) []event {
	var out []event
	for _, d := range dets {
		if tick := int(d.EventTime.Sub(t0).Seconds()) / 10; tick >= at && tick < at+n {
			out = append(out, event{string(d.State), tick - at})
		}
	}
	return out
}

// TestDetectNightJump: a link whose night traffic is a twentieth of its
// day (bursty 10 s intervals) jumps ×30 at 03:00 on its third day for
// ten minutes: that fires within 3 samples, and nothing fires after it
// for an hour. Before, level_shift took the day's carrying level for the
// night's, so the jump was a "return" that vetoed the other members
// (nothing fired, or late), and the night after it fired as a drop.
func TestDetectNightJump(t *testing.T) {
	const at, dur = 2*dayTicks + 3*360, 60
	for seed := uint64(1); seed <= 3; seed++ {
		dets := process(t, newTestDetect(t, Config{}), sampleRecords(t, 3*dayTicks, 60, dailyLink(seed, 10e6, 0.3, at, dur, 30)))
		got := after(dets, at, dur+360)
		firings := 0
		for _, e := range got {
			if e.state == string(schemas.StateFiring) {
				firings++
			}
		}
		if len(got) == 0 || got[0].state != string(schemas.StateFiring) || got[0].off > 2 || firings != 1 {
			t.Errorf("seed %d: %v, want one alert, fired within 3 samples of the jump (+0…+2)", seed, got)
		}
	}
}
