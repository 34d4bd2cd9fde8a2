package ensemble

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// wholeFires runs n readings rounded to whole numbers (about 4.3 with a
// noise of sigma 0.4, so mostly 4, now and then 5, rarely 3 or 6; offset
// by off from start for 30 points) through the gated ensemble with or
// without WholeUnits, and returns the onsets.
func wholeFires(t *testing.T, whole bool, start int, off float64) []int {
	t.Helper()
	sh, err := NewShared(Config{MinZ: 6, SpikeZ: 10, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}, WholeUnits: whole})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	e := sh.New()
	var fired []int
	for i := range 3000 {
		x := 4.3 + 0.4*rng.NormFloat64()
		if i >= start && i < start+30 {
			x += off
		}
		if r := e.Update(int64(i)*10e9, math.Round(x)); r.Transition == Fired {
			fired = append(fired, i)
		}
	}
	return fired
}

// TestWholeUnits: a gauge in whole units whose readings are mostly one
// number has a MAD of 0 and a sigma at robust_z's floor, far below the
// unit it is read in, so a reading of 6 where 4 is usual fires; with
// WholeUnits the sigma is at least 1: a 2-unit excursion fires nothing,
// a 20-unit one fires on its first point (spike_z 10).
func TestWholeUnits(t *testing.T) {
	if got := wholeFires(t, false, 2000, 2); len(got) == 0 {
		t.Errorf("without WholeUnits: no onset, want the rounding to fire (the defect this guards)")
	}
	if got := wholeFires(t, true, 2000, 2); len(got) != 0 {
		t.Errorf("WholeUnits, 2 units off: onsets %v, want none", got)
	}
	if got := wholeFires(t, true, 2000, 20); !slices.Equal(got, []int{2000}) {
		t.Errorf("WholeUnits, 20 units off: onsets %v, want [2000]", got)
	}
}

// BenchmarkWholeGauge is the gated ensemble on a gauge read in whole units
// (a CPU in percent: about 4.3, rounded), with WholeUnits (the detect
// stage's gauges) and without: what the rule costs per point.
func BenchmarkWholeGauge(b *testing.B) {
	for _, whole := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[whole], func(b *testing.B) {
			sh, err := NewShared(Config{MinZ: 6, SpikeZ: 10, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}, WholeUnits: whole})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(41, 42))
			xs := make([]float64, 4096)
			for i := range xs {
				xs[i] = math.Round(4.3 + 0.4*rng.NormFloat64())
			}
			e := sh.New()
			b.ReportAllocs()
			b.SetBytes(8)
			i := 0
			for b.Loop() {
				e.Update(int64(i+1)*10e9, xs[i%len(xs)])
				i++
			}
		})
	}
}
