package rangebreak

import "testing"

// TestFlatWarmUpTiny checks that a flat warm-up of tiny values (a bit
// error rate of 1e-12, a gauge in units of 1e-9) gets a grid of a
// thousandth of the value, as a flat warm-up at any other scale does: the
// same series scaled by 1e-12 breaks its range where the unscaled one
// does. Before, the grid step was at least 1e-9, a thousand times such a
// value, so a flat 1e-12 that rose fivefold (or a hundredfold) never broke
// the range.
func TestFlatWarmUpTiny(t *testing.T) {
	for _, scale := range []float64{1, 1e-6, 1e-9, 1e-12, 1e-15} {
		d, _ := New(Config{Warm: 5})
		for range 5 {
			d.Update(100 * scale)
		}
		if s := d.Update(100.05 * scale); s.Break {
			t.Errorf("scale %g: 100.05 after a flat 100 broke the range: %+v", scale, s)
		}
		if s := d.Update(100.2 * scale); !s.Break {
			t.Errorf("scale %g: 100.2 after a flat 100 did not break the range: %+v", scale, s)
		}
		if s := d.Update(500 * scale); !s.Break {
			t.Errorf("scale %g: 500 after a flat 100 did not break the range: %+v", scale, s)
		}
	}
	// A flat warm-up at 0 keeps its grid of 1e-9.
	d, _ := New(Config{Warm: 5})
	for range 5 {
		d.Update(0)
	}
	if s := d.Update(5e-10); s.Break {
		t.Errorf("5e-10 after a flat 0 broke the range: %+v", s)
	}
	if s := d.Update(2e-9); !s.Break {
		t.Errorf("2e-9 after a flat 0 did not break the range: %+v", s)
	}
}
