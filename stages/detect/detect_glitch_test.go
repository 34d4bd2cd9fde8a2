package detect

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
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

// TestDetectGlitchIfaceDown: the rate after a glitch spans both intervals
// (from the sample before the glitch), so an interface down within the
// first of them (down 3 s after tick 99, up 4 s later, both reported when
// they happen; the agent reads the counter as 0 at tick 100) keeps that
// rate out, as it keeps out the rate of tick 100 without the glitch: the
// in-octets series scores the same points either way but the glitch's
// own. Before, the stage checked the interface from the glitch's time
// on, and scored the rate of tick 101 over a stretch the link was down.
func TestDetectGlitchIfaceDown(t *testing.T) {
	const n, flap, glitch = 200, 99, 100
	points := map[bool]uint64{}
	for _, withGlitch := range []bool{false, true} {
		total := uint64(1e12)
		recs := sampleRecords(t, n, 1, func(i int) []schemas.Sample {
			total += 12.5e9
			v := total
			if withGlitch && i == glitch {
				v = 0
			}
			s := []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", v)}
			oper := stateSample(stateevents.MetricOperStatus, "name=Ethernet1", "UP")
			if i == flap {
				down := stateSample(stateevents.MetricOperStatus, "name=Ethernet1", "DOWN")
				down.TS, oper.TS = 3e9, 7e9
				s = append(s, down)
			}
			return append(s, oper)
		})
		d := newTestDetect(t, Config{})
		process(t, d, recs)
		st := d.parts[0].series[schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: "name=Ethernet1"}]
		if st == nil {
			t.Fatal("no in-octets series")
		}
		points[withGlitch] = st.points
	}
	if points[false] != n-2 || points[true] != points[false]-1 {
		t.Errorf("in-octets scored %d points without the glitch (want %d), %d with it (want %d)", points[false], n-2, points[true], points[false]-1)
	}
}
