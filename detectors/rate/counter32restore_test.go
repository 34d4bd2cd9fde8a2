package rate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRefreshCounter32Restore: a Refresh written and read back
// (AppendBinary, Decode) before every sample of a Counter32 that carries
// 70 Mb/s polled every 5 minutes, read once as 2^32-1 and once 2^31
// above, gives the rates and results of one never restored, also on the
// sample after a glitch, whose climb the state tells from a bad read.
// Before, with Refresh.glitched left out of the record, a restore on that
// sample held a climb the uninterrupted Refresh took (seed 0, sample 7).
func TestRefreshCounter32Restore(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 13))
		total := float64(seed) * 2e8
		var r, rr Refresh
		var c, cr Counter
		for i := range 80 {
			total += 8.75e6 * 300 * (1 + 0.05*rng.NormFloat64())
			v := uint64(math.Mod(total, 1<<32))
			switch i {
			case 30:
				v = 1<<32 - 1
			case 50:
				if c.Last < 1<<31 {
					v = c.Last + 1<<31 + 1e6
				}
			}
			ts := int64(i+1) * 300e9
			b, err := rr.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			rr = Refresh{}
			if rest, err := rr.Decode(b); err != nil || len(rest) != 0 {
				t.Fatalf("seed %d, sample %d: decode: %v, %d bytes left", seed, i, err, len(rest))
			}
			x, res := r.Update(&c, ts, v)
			xr, resr := rr.Update(&cr, ts, v)
			if x != xr || res != resr || c != cr {
				t.Fatalf("seed %d, sample %d (%d): restored %v %.4g %+v, want %v %.4g %+v", seed, i, v, resr, xr, cr, res, x, c)
			}
		}
	}
}
