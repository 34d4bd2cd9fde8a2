package detect

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// glitchRecords returns n ticks of an in-octets counter (1.25 GB/s with 5 %
// noise, from 10^12) that reads 0 at tick glitch (an agent's bad read; -1:
// none) and carries ten times its traffic over ticks [from, to).
func glitchRecords(t *testing.T, n, glitch, from, to int) []*kgo.Record {
	rng := rand.New(rand.NewPCG(11, 12))
	total := 1e12
	return sampleRecords(t, n, 1, func(i int) []schemas.Sample {
		r := 1.25e9 * 10 * (1 + 0.05*rng.NormFloat64())
		if i >= from && i < to {
			r *= 10
		}
		total += r
		v := uint64(total)
		if i == glitch {
			v = 0
		}
		return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", v)}
	})
}

// TestDetectCounterGlitch: a counter that reads 0 once (and its true
// value on the next sample) fires nothing, and a 10× burst 10 minutes
// later fires as it does without the glitch: one alert on its second
// point, robust_z and ewma with level_shift. Before rate.Refresh told a
// glitch from a reset, the sample after it was the whole counter over one
// interval (10^11 bytes/s, 80 times the rate), which blinded the
// baselines: the burst fired by level_shift alone. (With the glitch or
// without, the alert resolves at 1564 while the burst goes on to 1620.)
func TestDetectCounterGlitch(t *testing.T) {
	for _, glitch := range []int{1500, -1} {
		dets := process(t, newTestDetect(t, Config{}), glitchRecords(t, 1700, glitch, 1560, 1620))
		var got []string
		for _, d := range dets {
			i := int(d.EventTime.Sub(t0) / (10 * time.Second))
			switch {
			case d.State == schemas.StateFiring && (i < 1560 || i > 1561):
				got = append(got, "firing at "+d.EventTime.String())
			case d.State == schemas.StateFiring && (!slices.Contains(d.Detectors, "robust_z") || !slices.Contains(d.Detectors, "ewma")):
				got = append(got, "burst without robust_z and ewma: "+d.Detector)
			}
		}
		if s := summary(dets); len(s) != 2 || len(got) != 0 {
			t.Errorf("glitch at %d: %v %v, want the burst fired at 1560 or 1561 by robust_z and ewma among others, then resolved", glitch, got, s)
		}
	}
}
