package rate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRefreshCounter32Surge: a Counter32 (ifInOctets exported raw) whose
// traffic rises to half its range a poll or more (a backup starting on a
// 100 Mb/s port polled every 5 minutes, or on a 10G port polled every
// 10 s), or that carries that much and is read once as 2^32-1, gives its
// rate (within 20 %) on every sample from the 15th after the rise or the
// bad read on (before it, the decrease rule can take a wrap for a glitch
// for a few samples, as it did before the climbs were held). Before, the
// first climb of 2^31 or more was held and the next sample, above the one
// before it through a wrap, taken for a glitch: a rate 5 times too low,
// which then held the next climb as well, and so on for as long as the
// traffic lasted (all 45 samples from the 15th off at 70 Mb/s).
func TestRefreshCounter32Surge(t *testing.T) {
	const mbps = 1e6 / 8
	var bad []string
	for _, tc := range []struct {
		name     string
		dt       int64
		from, to float64 // bytes per second before and after the rise
		minus1   bool    // no rise: one read of 2^32-1 at the rise's place
	}{
		{"5 min 5 to 70 Mb/s", 300e9, 5 * mbps, 70 * mbps, false},
		{"5 min 10 to 75 Mb/s", 300e9, 10 * mbps, 75 * mbps, false},
		{"10 s 100 to 2200 Mb/s", 10e9, 100 * mbps, 2200 * mbps, false},
		{"5 min 70 Mb/s, 2^32-1 once", 300e9, 70 * mbps, 70 * mbps, true},
	} {
		for seed := range uint64(10) {
			const rise, settle, n = 30, 15, 90
			rng := rand.New(rand.NewPCG(seed, 11))
			var r Refresh
			var c Counter
			total, off := 1e9+float64(seed)*3e8, 0
			for i := range n {
				want := tc.from
				if i >= rise {
					want = tc.to
				}
				if i > 0 {
					total += want * float64(tc.dt) / 1e9 * (1 + 0.05*rng.NormFloat64())
				}
				v := uint64(math.Mod(total, 1<<32))
				if tc.minus1 && i == rise {
					v = 1<<32 - 1
				}
				x, res := r.Update(&c, int64(i+1)*tc.dt, v)
				if i >= rise+settle && (res != OK || math.Abs(x/want-1) > 0.2) {
					off++
				}
			}
			if off != 0 {
				bad = append(bad, fmt.Sprintf("%s, seed %d: %d of %d samples off", tc.name, seed, off, n-rise-settle))
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d runs off:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
