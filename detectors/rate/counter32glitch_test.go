package rate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// counter32 returns n values of a Counter32 (its count modulo 2^32)
// counting rate per second from start, read every dt ns with 5 % noise on
// each interval's increase.
func counter32(n int, start, rate float64, dt int64, seed uint64) []timedValue {
	rng := rand.New(rand.NewPCG(seed, 7))
	total := start
	s := make([]timedValue, n)
	for i := range s {
		if i > 0 {
			total += rate * float64(dt) / 1e9 * (1 + 0.05*rng.NormFloat64())
		}
		s[i] = timedValue{int64(i+1) * dt, uint64(math.Mod(total, 1<<32))}
	}
	return s
}

// TestRefreshGlitchCounter32High: a Counter32 (ifInOctets exported raw,
// 30 Mb/s read every 10 s, or 10 Mb/s every 5 minutes, both wrapping
// within the run) that an agent reads once as 2^32-1 (its -1), or as a
// value 2^31 or more above the last, and as its count again on the next
// sample, gives no rate for the bad read (Reset), the counter's rate
// (within 20 %) on every sample after it and no reset; also where it
// wraps between the sample before the bad read and the one after it.
// Before, the read was an increase: a rate of up to 2^32 over one
// interval (10^4 times the counter's at 10 s), kept as the last rate,
// which then took the next sample for a wrap of the same rate or for a
// reset.
func TestRefreshGlitchCounter32High(t *testing.T) {
	var bad []string
	for _, tc := range []struct {
		name string
		rate float64
		dt   int64
	}{{"10 s", 3.75e6, 10e9}, {"5 min", 1.25e6, 300e9}} {
		for _, high := range []string{"2^32-1", "2^31 above"} {
			for at := 20; at < 80; at++ {
				s := counter32(100, 1e9, tc.rate, tc.dt, 3)
				v := uint64(1<<32 - 1)
				if high == "2^31 above" {
					if s[at-1].v >= 1<<31-1e6 {
						continue // no such value below 2^32
					}
					v = s[at-1].v + 1<<31 + 1e6
				}
				s[at].v = v
				var r Refresh
				var c Counter
				for i, p := range s {
					x, res := r.Update(&c, p.ts, p.v)
					switch {
					case i == at && res != Reset:
						bad = append(bad, fmt.Sprintf("%s %s at %d: %v %.3g, want Reset", tc.name, high, at, res, x))
					case i > at && (res != OK || math.Abs(x/tc.rate-1) > 0.2):
						bad = append(bad, fmt.Sprintf("%s %s at %d: sample %d %v %.3g", tc.name, high, at, i, res, x))
					}
				}
				if c.Resets != 0 {
					bad = append(bad, fmt.Sprintf("%s %s at %d: %d resets", tc.name, high, at, c.Resets))
				}
			}
		}
	}
	if len(bad) != 0 {
		t.Errorf("%d off:\n%s", len(bad), strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
}

// TestRefreshCounter32FastSlowPolls: a Counter32 that counts half its
// range or more between two polls (60 Mb/s read every 5 minutes: 2.25e9
// bytes a poll, a wrap about every other poll) gives its rate, within
// 20 %, on every sample from the 20th on, from any start: the last rate
// explains each such increase, so none is taken for a glitch. (A wrap
// before its first rate, with nothing to check it against, is a reset,
// and the sample after it, at or above the one before the wrap, a
// glitch's: rates far too low, for up to 15 samples here.)
func TestRefreshCounter32FastSlowPolls(t *testing.T) {
	const rate = 7.5e6
	for start := range 8 {
		var r Refresh
		var c Counter
		for i, p := range counter32(60, float64(start)*5e8, rate, 300e9, uint64(start)) {
			x, res := r.Update(&c, p.ts, p.v)
			if i >= 20 && (res != OK || math.Abs(x/rate-1) > 0.2) {
				t.Fatalf("start %d: sample %d (%d): %v %.3g, want OK about %.3g", start, i, p.v, res, x, rate)
			}
		}
	}
}

// TestGlitchCounter32High: an error counter (a Counter32's ifInErrors,
// 5 per second from 10^6 or from 3*10^9) that an agent reads once as
// 2^32-1, or as a value 2^31 or more above the last, and as its count
// again on the next sample, gives no rate for the bad read and the
// counter's on every sample after it, with no reset. Before, the read
// was a rate of up to 4.3*10^8 errors per second.
func TestGlitchCounter32High(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start uint64
		high  uint64 // 0: the last value + 2^31 + 10^6
	}{{"2^32-1 from 10^6", 1e6, 1<<32 - 1}, {"2^32-1 from 3e9", 3e9, 1<<32 - 1}, {"2^31 above", 1e6, 0}} {
		var g Glitch
		var c Counter
		var got []string
		for i := range 100 {
			v := tc.start + uint64(i)*50
			if i == 50 {
				v = tc.high
				if v == 0 {
					v = c.Last + 1<<31 + 1e6
				}
			}
			x, res := g.Update(&c, int64(i+1)*10e9, v)
			switch {
			case i == 50 && res != Reset:
				got = append(got, fmt.Sprintf("%d: %v %.3g, want Reset", i, res, x))
			case i > 50 && (res != OK || x != 5):
				got = append(got, fmt.Sprintf("%d: %v %.3g", i, res, x))
			}
		}
		if c.Resets != 0 {
			got = append(got, fmt.Sprintf("%d resets", c.Resets))
		}
		if len(got) != 0 {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
