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
