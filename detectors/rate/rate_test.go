package rate

import (
	"math"
	"testing"
)

func TestCounter(t *testing.T) {
	const s = int64(1e9)
	type step struct {
		ts   int64
		v    uint64
		rate float64
		res  Result
	}
	f := func(name string, steps []step) {
		t.Helper()
		var c Counter
		for i, st := range steps {
			r, res := c.Update(st.ts, st.v)
			if res != st.res || r != st.rate {
				t.Errorf("%s: step %d: got (%v, %v), want (%v, %v)", name, i, r, res, st.rate, st.res)
			}
		}
	}
	f("steady", []step{{10 * s, 100, 0, First}, {20 * s, 1100, 100, OK}, {30 * s, 1100, 0, OK}})
	f("reset is a new baseline, not a spike", []step{{10 * s, 5000, 0, First}, {20 * s, 10, 0, Reset}, {30 * s, 110, 10, OK}})
	f("repeat and out of order ignored", []step{{10 * s, 100, 0, First}, {10 * s, 100, 0, Stale}, {5 * s, 50, 0, Stale}, {20 * s, 200, 10, OK}})
	// Near the top of uint64 a float64 difference would be off by thousands.
	f("full precision", []step{{1 * s, math.MaxUint64 - 4096, 0, First}, {2 * s, math.MaxUint64, 4096, OK}})
}

func BenchmarkCounter(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(16)
	var c Counter
	for i := 0; i < b.N; i++ {
		c.Update(int64(i+1)*1e9, uint64(i)*1000)
	}
}

func TestUpdateWidth(t *testing.T) {
	const s = int64(1e9)
	var c Counter
	c.UpdateWidth(1*s, 1<<32-100, 32)
	if r, res := c.UpdateWidth(2*s, 50, 32); res != OK || r != 150 {
		t.Errorf("32-bit wrap: (%v, %v), want (150, OK)", r, res)
	}
	// A large drop is a reset (device reboot), not a wrap: no spike.
	c = Counter{}
	c.UpdateWidth(1*s, 1000, 32)
	if r, res := c.UpdateWidth(2*s, 10, 32); res != Reset || r != 0 {
		t.Errorf("reset of a 32-bit counter: (%v, %v), want (0, Reset)", r, res)
	}
	if r, res := c.UpdateWidth(3*s, 20, 32); res != OK || r != 10 {
		t.Errorf("after a reset: (%v, %v), want (10, OK)", r, res)
	}
	// 64-bit counters never wrap in practice: a decrease is a reset.
	c = Counter{}
	c.UpdateWidth(1*s, math.MaxUint64-10, 64)
	if _, res := c.UpdateWidth(2*s, 5, 64); res != Reset {
		t.Errorf("64-bit decrease: %v, want Reset", res)
	}
}
