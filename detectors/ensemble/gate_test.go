package ensemble

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// gatedFires runs xs (noise of sigma 1 around 100 with the given
// excursions: start, length, offset in sigmas) through the gated
// statistical ensemble as the detect stage configures it (min_z 6,
// confirm 2, hold 360, no level_shift; spike_z as given, 0 for off) and
// returns the onsets.
func gatedFires(t *testing.T, n int, spikeZ float64, excursions [][3]int) []int {
	t.Helper()
	sh, err := NewShared(Config{MinZ: 6, SpikeZ: spikeZ, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	e := sh.New()
	var fired []int
	for i := range n {
		x := 100 + rng.NormFloat64()
		for _, ex := range excursions {
			if i >= ex[0] && i < ex[0]+ex[1] {
				x += float64(ex[2])
			}
		}
		if r := e.Update(int64(i)*10e9, x); r.Transition == Fired {
			fired = append(fired, i)
		}
	}
	return fired
}

// TestGateFiresAgain: an earlier, larger incident does not raise the bar
// for a later one, and the same incident fires each time it comes back;
// clean noise fires nothing.
func TestGateFiresAgain(t *testing.T) {
	f := func(name string, n int, excursions [][3]int, want []int) {
		t.Helper()
		if got := gatedFires(t, n, 0, excursions); !slices.Equal(got, want) {
			t.Errorf("%s: fired at %v, want %v", name, got, want)
		}
	}
	f("clean", 5000, nil, nil)
	f("55 sigma after 500", 3000, [][3]int{{1000, 20, 500}, {2000, 20, 55}}, []int{1001, 2001})
	f("the same, three times", 3000, [][3]int{{800, 20, 40}, {1400, 20, 40}, {2600, 20, 40}}, []int{801, 1401, 2601})
	f("a weaker one is not an incident", 3000, [][3]int{{800, 20, 40}, {1400, 20, 4}}, []int{801})
}

// TestGateSpikeZ: with spike_z, a record-breaking point at least spike_z
// sigmas off fires at once, even alone; a single point below spike_z still
// needs confirm points, and clean noise fires nothing.
func TestGateSpikeZ(t *testing.T) {
	f := func(name string, spikeZ float64, excursions [][3]int, want []int) {
		t.Helper()
		if got := gatedFires(t, 3000, spikeZ, excursions); !slices.Equal(got, want) {
			t.Errorf("%s: fired at %v, want %v", name, got, want)
		}
	}
	f("clean", 10, nil, nil)
	f("one point at 40 sigma, off", 0, [][3]int{{1000, 1, 40}}, nil)
	f("one point at 40 sigma", 10, [][3]int{{1000, 1, 40}}, []int{1000})
	f("one point at 15 sigma, spike_z 20", 20, [][3]int{{1000, 1, 15}}, nil)
	f("two points at 15 sigma, spike_z 20", 20, [][3]int{{1000, 2, 15}}, []int{1001})
	f("a run at 40 sigma fires on its first point", 10, [][3]int{{1000, 20, 40}}, []int{1000})
	f("spike_z equal to min_z is confirm 1", 6, [][3]int{{1000, 1, 15}, {2000, 1, 40}}, []int{1000, 2000})
}
