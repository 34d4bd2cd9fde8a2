package ensemble

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// wanderingLink is a busy link read every 10 s over days (8 640 points a
// day): a daily cycle times a slow wander (a correlation time of about
// half an hour, about 9 % in log), so a 5-minute bin differs from the same
// bin yesterday by some 13 %, while one reading differs from the last by
// a fraction of a percent.
func wanderingLink(seed uint64, n int) ([]int64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	ts, xs := make([]int64, n), make([]float64, n)
	walk := 0.0
	for i := range n {
		ts[i] = int64(i) * 10e9
		h := math.Mod(float64(i)*10/3600, 24)
		walk = 0.995*walk + 0.009*rng.NormFloat64()
		xs[i] = 1e9 * (0.55 + 0.45*math.Cos(2*math.Pi*(h-20)/24)) * math.Exp(walk) * (1 + 0.003*rng.NormFloat64())
	}
	return ts, xs
}

// visitShared is the gate of a gauge at 10 s: min_z 6, spike_z 10,
// confirm 2, hold an hour, a robust window of 10 minutes.
func visitShared(t *testing.T) *Shared {
	t.Helper()
	sh, err := NewShared(Config{MinZ: 6, SpikeZ: 10, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestVisitStartBand: at a 5-minute bin's first readings the seasonal
// expected value is still yesterday's, off today's by the day-to-day
// wander; the band there is the scale of a visit's first points (decaying
// as the bin learns today), so four days of a clean wandering link fire
// nothing. A halving at a bin's first reading is off the series' recent
// points too, which keeps the narrow band: it fires on that reading.
func TestVisitStartBand(t *testing.T) {
	const n = 4 * 8640
	ts, xs := wanderingLink(3, n)
	var onsets []int
	for i, r := range run(t, visitShared(t), ts, xs) {
		if r.Transition == Fired {
			onsets = append(onsets, i)
			t.Logf("clean: onset at point %d (%d s into its bin), z %.1f, cause %v", i, (ts[i]/1e9)%300, r.Z, r.Cause.Names(nil))
		}
	}
	if len(onsets) > 0 {
		t.Errorf("clean wandering link over 4 days: %d onsets, want none", len(onsets))
	}
	const drop = 3*8640 + 3000 // a bin's first reading on the fourth day
	if (ts[drop]/1e9)%300 != 0 {
		t.Fatalf("point %d is %d s into its bin, want its first reading", drop, (ts[drop]/1e9)%300)
	}
	half := append([]float64(nil), xs...)
	for i := drop; i < n; i++ {
		half[i] /= 2
	}
	at := -1
	for i, r := range run(t, visitShared(t), ts, half) {
		if r.Transition == Fired && i >= drop {
			at = i
			break
		}
	}
	if at != drop {
		t.Errorf("halved at a bin's first reading: first onset at %d, want %d", at, drop)
	}
}
