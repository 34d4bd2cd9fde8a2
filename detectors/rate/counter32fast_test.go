package rate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRefreshCounter32Fast: a Counter32 (ifInOctets exported raw) that
// counts 55 to 75 % of its range a poll (a busy 10G port polled every
// 10 s), from any start, from its first sample on, after a rise from
// 100 Mb/s, or read as 2^32-1 right after its first sample, gives its
// rate (within 20 %) on every sample from the sixth after the first, the
// rise or the bad read on, and before it at most two rates that are off.
// Its first wrap or climb with no rate (or a wrong one) to explain it is
// held as a bad read (Reset: a reset, maybe) and the first sample at or
// above the value before it, through a wrap, told a glitch whose rate
// over both intervals leaves out that wrap; a counter that counts less,
// read wrong twice in three samples, can look the same, so those rates,
// too low, stay (missedWrap). Before, the too-low rate was kept and took
// the counter's next wrap for a bad read too, and so on: up to 12
// samples off, 6 of them rates 5 to 15 times too low.
func TestRefreshCounter32Fast(t *testing.T) {
	const dt, n = int64(10e9), 60
	var bad []string
	for _, f := range []float64{0.55, 0.6, 0.75} {
		for _, tc := range []string{"steady", "rise", "-1 first"} {
			for seed := range uint64(8) {
				rng := rand.New(rand.NewPCG(seed, 17))
				total, from := float64(seed)*(1<<32)/8, 0
				if tc == "rise" {
					from = 20
				}
				var r Refresh
				var c Counter
				var off []string
				rates := 0 // rates off
				for i := range n {
					want := f * (1 << 32) / 10
					if i < from {
						want = 1.25e7
					}
					if i > 0 {
						total += want * 10 * (1 + 0.02*rng.NormFloat64())
					}
					v := uint64(math.Mod(total, 1<<32))
					if tc == "-1 first" && i == 1 {
						v = 1<<32 - 1
					}
					x, res := r.Update(&c, int64(i+1)*dt, v)
					if i > from && (res != OK || math.Abs(x/want-1) > 0.2) {
						off = append(off, fmt.Sprintf("%d: %v %.3g", i, res, x/want))
						if res == OK {
							rates++
						}
						if i >= from+6 {
							rates = 3 // too late
						}
					}
				}
				if rates > 2 {
					bad = append(bad, fmt.Sprintf("%.2f of the range a poll, %s, seed %d: %d samples off: %s", f, tc, seed, len(off), strings.Join(off, ", ")))
				}
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d runs off:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
