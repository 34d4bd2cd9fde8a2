package rate

import (
	"fmt"
	"math"
	"testing"
)

// TestRefreshResetNearTop: a counter reset to a value near 2^64 (half
// the range or more above its last, which TestRefreshGlitch takes for a
// glitch until the next sample says) that goes on counting from there,
// through the wrap, was reset to it: its next rates count from there.
func TestRefreshResetNearTop(t *testing.T) {
	const base = 1e11
	// Reset to 2^64 - 10^6, and counting on from there (through the wrap).
	var r Refresh
	var c Counter
	for i := range 20 {
		r.Update(&c, int64(i+1)*10e9, uint64(base)+uint64(i)*1000)
	}
	if _, res := r.Update(&c, 210e9, math.MaxUint64-1e6+1); res != Reset {
		t.Fatalf("a reset near 2^64: %v, want Reset", res)
	}
	for i, v := range []uint64{math.MaxUint64 - 1e6 + 1001, math.MaxUint64 - 1e6 + 2001} {
		if x, res := r.Update(&c, int64(22+i)*10e9, v); res != OK || x != 100 {
			t.Fatalf("%d after a reset near 2^64: %v %v, want OK 100", i+1, x, res)
		}
	}
}

// TestGlitchEverySample: a counter read on every sample (an error
// counter, 5 per second from 10^6) that reads 0, a little below its last
// value or 2^64-1 once, and its count again on the next, gives no rate
// for the bad read and the counter's rate over both intervals on the
// next, with no reset counted, also when g and c are restored from their
// records right after the bad read; a clear (back near 0 and counting
// from there) is a reset, and the rate after it counts from it.
func TestGlitchEverySample(t *testing.T) {
	for _, bad := range []uint64{0, 1e6 + 49*50 - 10, math.MaxUint64} {
		for _, restore := range []bool{false, true} {
			var g Glitch
			var c Counter
			var got []string
			for i := range 100 {
				v := uint64(1e6) + uint64(i)*50
				if i == 50 {
					v = bad
				}
				x, res := g.Update(&c, int64(i+1)*10e9, v)
				switch {
				case i == 50 && res != Reset:
					got = append(got, fmt.Sprintf("%d: %v %.3g, want Reset", i, res, x))
				case i > 50 && (res != OK || x != 5):
					got = append(got, fmt.Sprintf("%d: %v %.3g", i, res, x))
				}
				if i == 50 && restore {
					b, _ := g.AppendBinary(nil)
					g = Glitch{}
					if rest, err := g.Decode(b); err != nil || len(rest) != 0 {
						t.Fatalf("decode: %v, %d bytes left", err, len(rest))
					}
				}
			}
			if c.Resets != 0 {
				got = append(got, fmt.Sprintf("%d resets", c.Resets))
			}
			if len(got) != 0 {
				t.Errorf("a read of %d (restored after it: %v): %v", bad, restore, got)
			}
		}
	}
	var g Glitch
	var c Counter
	for i := range 20 {
		g.Update(&c, int64(i+1)*10e9, 1e6+uint64(i)*50)
	}
	if _, res := g.Update(&c, 210e9, 20); res != Reset {
		t.Fatalf("a clear: %v, want Reset", res)
	}
	if x, res := g.Update(&c, 220e9, 70); res != OK || x != 5 || c.Resets != 1 {
		t.Fatalf("after a clear: %v %v, %d resets, want OK 5, 1 reset", x, res, c.Resets)
	}
}

// TestCounterHalfRangeIsReset: Counter.Update (the maintain stage's and
// the power model's rates) takes a value half the 64-bit range or more
// above the last (2^64-1, an agent's -1 read once) for a reset, as a
// decrease, and the count after it starts the rate again. Before, it gave
// a rate of about 3e17 per second.
func TestCounterHalfRangeIsReset(t *testing.T) {
	var c Counter
	c.Update(1e9, 1000)
	if r, res := c.Update(2e9, math.MaxUint64); res != Reset {
		t.Errorf("2^64-1 after 1000: rate %g (%v), want Reset", r, res)
	}
	if r, res := c.Update(3e9, 1100); res != Reset {
		t.Errorf("1100 after 2^64-1: rate %g (%v), want Reset", r, res)
	}
	if r, res := c.Update(4e9, 1200); res != OK || r != 100 {
		t.Errorf("1200 a second after 1100: rate %g (%v), want 100, OK", r, res)
	}
	big := Counter{LastTS: 1e9, Last: 1 << 62}
	if r, res := big.Update(2e9, 1<<62+1<<40); res != OK || r != 1<<40 {
		t.Errorf("a counter near 2^62 counting 2^40 in a second: rate %g (%v), want 2^40, OK", r, res)
	}
}
