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
// confirm 2, hold 360, no level_shift) and returns the onsets.
func gatedFires(t *testing.T, n int, excursions [][3]int) []int {
	t.Helper()
	sh, err := NewShared(Config{MinZ: 6, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}})
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
		if got := gatedFires(t, n, excursions); !slices.Equal(got, want) {
			t.Errorf("%s: fired at %v, want %v", name, got, want)
		}
	}
	f("clean", 5000, nil, nil)
	f("55 sigma after 500", 3000, [][3]int{{1000, 20, 500}, {2000, 20, 55}}, []int{1001, 2001})
	f("the same, three times", 3000, [][3]int{{800, 20, 40}, {1400, 20, 40}, {2600, 20, 40}}, []int{801, 1401, 2601})
	f("a weaker one is not an incident", 3000, [][3]int{{800, 20, 40}, {1400, 20, 4}}, []int{801})
}
