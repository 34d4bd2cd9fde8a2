package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestMeasurementOscillationAfterStep: a device measured at 120 W whose
// load then switches between 200 and 280 W every minute (a small box whose
// port watts follow bursty traffic, fans spinning up and down) is measured
// at those minutes that repeat a level within maxStep, at least every
// other one. Before, each of them was more than maxStep off the last one
// taken (120 W) and off the one waiting before it: it replaced that as the
// step and waited, so the device was never measured again while its load
// kept moving, its energy the model's, with nothing but the rows' zero
// samples to tell.
func TestMeasurementOscillationAfterStep(t *testing.T) {
	e, _ := New(Config{Window: time.Minute})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	const minutes = 40
	for m := range minutes + 1 {
		w := 60.0
		switch {
		case m < 8:
		case m%2 == 1:
			w = 140
		default:
			w = 100
		}
		e.Observe(at(m), "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
		for _, psu := range []string{"name=PSU1", "name=PSU2"} {
			e.Observe(at(m), "d", schemas.MetricPSUInPower, psu, schemas.KindGauge, 0, w, "")
		}
	}
	e.Flush(at(minutes + 1))
	measured := 0
	for _, r := range e.Take().Rows {
		if r.Row != schemas.PowerRowDevice || r.WindowStart < at(8) || r.WindowStart >= at(minutes) {
			continue
		}
		if r.Samples == 0 {
			continue
		}
		measured++
		if w := r.MeasuredW; w != 200 && w != 280 {
			t.Errorf("minute %d: measured %v W, want 200 or 280", (r.WindowStart-at(0))/int64(time.Minute), w)
		}
	}
	if want := (minutes-8)/2 - 1; measured < want {
		t.Errorf("%d of the %d minutes of the switching load measured, want %d or more", measured, minutes-8, want)
	}
}
