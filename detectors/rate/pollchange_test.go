package rate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRefreshPollShrinks: a counter growing at a constant rate, refreshed
// by its device every 30 s and read every 60 s (or 40 s, with jitter) for
// two hours, then every 10 s, holds again within RefreshGaps+1 refreshes
// of the change and from then on gives its rate within 2 % on every
// refresh and holds the samples between. Before, the refresh period kept
// the slow polls' changes (60 s apart: the counter changed on every
// sample, so the time between its changes was the poll interval, not the
// refresh) in its mean: every rate after the change was more than 2 %
// off for 80 minutes, 53 % of the counter's at first (from 40 s: 56
// minutes, 78 % at first).
func TestRefreshPollShrinks(t *testing.T) {
	const (
		rate    = 1000.0 // per second
		refresh = 30.0   // s
		change  = 7200.0 // s: the poll interval shrinks here
		end     = change + 3600
	)
	for _, tc := range []struct{ from, jitter float64 }{{60, 0}, {60, 3}, {40, 3}} {
		rng := rand.New(rand.NewPCG(1, 2))
		var r Refresh
		var c Counter
		held := -1.0 // the first sample held after the change, s after it
		var bad []string
		for at := 3.0; at < end; {
			ts := at + (rng.Float64()-0.5)*tc.jitter
			v := uint64(math.Floor(ts/refresh) * refresh * rate) // the last refresh's value
			changed := v != c.Last
			x, res := r.Update(&c, int64(ts*1e9), v)
			step := tc.from
			if at >= change {
				step = 10
				if res == Held && held < 0 {
					held = at - change
				}
			}
			if held >= 0 && len(bad) < 5 {
				switch {
				case changed && res != OK:
					bad = append(bad, fmt.Sprintf("+%.0f s: a change gave result %d", at-change, res))
				case changed && math.Abs(x/rate-1) > 0.02:
					bad = append(bad, fmt.Sprintf("+%.0f s: rate %.4g", at-change, x))
				case !changed && res != Held:
					bad = append(bad, fmt.Sprintf("+%.0f s: a still sample gave result %d, rate %.4g", at-change, res, x))
				}
			}
			at += step
		}
		if held < 0 || held > (RefreshGaps+1)*refresh {
			t.Errorf("every %v s, then 10 s: first sample held %.0f s after the change, want within %v s", tc.from, held, (RefreshGaps+1)*refresh)
		}
		if len(bad) != 0 {
			t.Errorf("every %v s, then 10 s: want the rate (%v) on every refresh and the samples between held once holding again; got %v", tc.from, rate, bad)
		}
	}
}
