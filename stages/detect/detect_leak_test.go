package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// memoryRows returns rows of a route processor's memory used over days:
// 3.2 GB, a heap growing 10 MB an hour and trimmed back every 4 hours, a
// few pages of noise, read in 4 KiB pages; from tick leakAt it also leaks
// leak bytes an hour.
func memoryRows(seed uint64, leakAt int, leak float64) func(i int) []schemas.Sample {
	rng := rand.New(rand.NewPCG(seed, 5))
	return func(i int) []schemas.Sample {
		heap := 10e6 * float64(i%(4*360)) / 360
		v := 3.2e9 + heap + 4096*float64(rng.IntN(8))
		if i >= leakAt {
			v += leak * float64(i-leakAt) / 360
		}
		return []schemas.Sample{{Kind: schemas.KindGauge, Metric: schemas.MetricMemoryUsed, Keys: "node=0/RP0/CPU0", F64: math.Round(v/4096) * 4096}}
	}
}

// TestDetectMemoryLeak: memory that leaks 100 MB an hour, over its
// sawtooth of 40 MB every 4 hours, fires within 3 hours: the baselines follow the climb
// (the robust median is a few minutes behind), so no point is off them,
// but the climb is a run of range breaks that reaches the visited
// range's width beyond it (a far break, beyond the band's floor). Before,
// it fired nothing in 14 hours. The same days without the leak fire
// nothing.
func TestDetectMemoryLeak(t *testing.T) {
	const days = 4
	at := 3*dayTicks + 10*360
	for _, leak := range []float64{0, 100e6} {
		var fired []int
		for _, d := range process(t, newTestDetect(t, Config{}), sampleRecords(t, days*dayTicks, 60, memoryRows(3, at, leak))) {
			if d.State == schemas.StateFiring {
				fired = append(fired, int(d.EventTime.Sub(t0).Seconds())/10-at)
			}
		}
		switch {
		case leak == 0 && len(fired) > 0:
			t.Errorf("no leak: fired at %v (ticks from 10:00 on the fourth day), want nothing", fired)
		case leak > 0 && (len(fired) == 0 || fired[0] < 0 || fired[0] > 3*360):
			t.Errorf("a leak of %.0f MB/h from tick 0: fired at %v, want within 3 hours (1080 ticks)", leak/1e6, fired)
		default:
			t.Logf("leak %.0f MB/h: fired at %v", leak/1e6, fired)
		}
	}
}
