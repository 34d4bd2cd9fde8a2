package rate

import "testing"

// TestGlitchCounter32Climb: an error counter below 2^32 that really climbs
// by 2^31 in one interval and keeps counting from there is held once (a
// bad read, maybe), then counted: the sample after the climb gives the
// rate over both intervals, and every one after it the counter's own.
// Before, the sample after the climb was taken for the glitch's end, the
// counter set back to the value before the climb, and the same sample
// held again as a climb of 2^31 from it: no rate ever again.
func TestGlitchCounter32Climb(t *testing.T) {
	const s = int64(10e9)
	var c Counter
	var g Glitch
	v := uint64(1000)
	for i := int64(1); i <= 20; i++ {
		switch {
		case i == 5:
			v += 1 << 31
		case i > 1:
			v += 100
		}
		r, res := g.Update(&c, i*s, v)
		switch {
		case i == 5:
			if res != Reset {
				t.Errorf("sample %d, the climb: %v %v, want it held (Reset)", i, r, res)
			}
		case i == 6:
			if want := float64(1<<31+100) / 20; res != OK || r != want {
				t.Errorf("sample %d, after the climb: %v %v, want %v over both intervals", i, r, res, want)
			}
		case i > 1:
			if res != OK || r != 10 {
				t.Errorf("sample %d: %v %v, want 10 per second", i, r, res)
			}
		}
	}
}
