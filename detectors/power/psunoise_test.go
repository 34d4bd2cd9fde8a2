package power

import (
	"math"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestPSUNoiseAtNoLoad: a PSU without load whose input current reads 0 and
// 0.01 A by turns (a sensor's noise, its other PSU carrying the device)
// leaves every minute measured, at the device's watts. Before, each
// reading from 0 was a jump that waited for the next, which was back at 0:
// every other minute was not measured (and its energy was the model's).
func TestPSUNoiseAtNoLoad(t *testing.T) {
	got, _ := jumpRun(t, func(psu, m string, min int, v float64) float64 {
		switch {
		case m != schemas.MetricPSUInCurrent:
			return v
		case psu == "name=PSU1":
			return 2 * v
		case min%2 == 1:
			return 0.01
		}
		return 0
	})
	unmeasured := 0
	for m, w := range got {
		switch {
		case math.IsNaN(w):
			unmeasured++
		case math.Abs(w-115) > 2.5:
			t.Errorf("minute %d: measured %v W, want 115 to 117.3", m, w)
		}
	}
	if unmeasured > 0 {
		t.Errorf("%d of %d minutes not measured, want none", unmeasured, len(got))
	}
}
