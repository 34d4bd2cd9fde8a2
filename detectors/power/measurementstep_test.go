package power

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestPSUReadingWithinJumpHeld: a device's measurement more than maxStep
// times off the last one taken waits for the next: one reading of a PSU's
// current at twice or half its value (within maxJump, taken by its input)
// leaves its minute unmeasured and the model as the run without it, and
// a draw that steps up for good (a line card inserted) is measured from
// the next minute on, as a step of ten times and more is. Before, the
// reading's minute measured the device 50 % high or 25 % low, and the fit
// took it.
func TestPSUReadingWithinJumpHeld(t *testing.T) {
	const bad = 30
	want, clean := jumpRun(t, nil)
	for _, k := range []float64{2, 0.5} {
		got, e := jumpRun(t, func(psu, m string, min int, v float64) float64 {
			if psu == "name=PSU1" && m == schemas.MetricPSUInCurrent && min == bad {
				return k * v
			}
			return v
		})
		for m := range got {
			switch {
			case m == bad && !math.IsNaN(got[m]):
				t.Errorf("x%g: minute %d, of the bad reading: measured %v W, want not measured", k, m, got[m])
			case m != bad && got[m] != want[m]:
				t.Errorf("x%g: minute %d: measured %v W, want %v", k, m, got[m], want[m])
			}
		}
		wc := clean.DeviceModel("d").Coefficients()
		for i, c := range e.DeviceModel("d").Coefficients() {
			if math.Abs(c.Value-wc[i].Value) > 0.001*math.Max(math.Abs(wc[i].Value), 1) {
				t.Errorf("x%g: coefficient %s %v, want %v", k, c.Name, c.Value, wc[i].Value)
			}
		}
	}
	step, _ := jumpRun(t, func(_, m string, min int, v float64) float64 {
		if m == schemas.MetricPSUInCurrent && min >= bad {
			return 1.6 * v
		}
		return v
	})
	if !math.IsNaN(step[bad]) {
		t.Errorf("step: minute %d measured %v W, want not measured", bad, step[bad])
	}
	for m := bad + 1; m < len(step); m++ {
		if step[m] != 184 {
			t.Fatalf("step: minute %d measured %v W, want 184", m, step[m])
		}
	}
}

// TestMeasurementStepRestored: a measurement that stepped away and waits
// for the next is checkpointed with the last one taken (device state
// version 6): restored, the next confirms it or not as in the estimator
// that wrote it. Before, a version 5 record had neither: restored, a
// glitch's minute was taken as the device's first measurement.
func TestMeasurementStepRestored(t *testing.T) {
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	obs := func(e *Estimator, min int, w float64) {
		e.Observe(at(min), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, w, "")
	}
	for _, next := range []float64{115, 230} {
		e, _ := New(Config{Window: time.Minute})
		for m := range 10 {
			obs(e, m, 115)
		}
		obs(e, 10, 230)
		obs(e, 11, next) // finishes minute 10: a step, waiting
		st, _ := e.AppendDeviceState(nil, "d")
		r, _ := New(Config{Window: time.Minute})
		if err := r.RestoreDeviceState("d", st); err != nil {
			t.Fatal(err)
		}
		if d := r.devices["d"]; d.meas != (pending{115, true}) || d.step != (pending{230, true}) {
			t.Fatalf("restored: last measurement %+v, step %+v; want 115 W, 230 W waiting", d.meas, d.step)
		}
		obs(r, 12, next) // finishes minute 11
		if d := r.devices["d"]; d.meas != (pending{next, true}) || d.step.ok {
			t.Errorf("after %v W: last measurement %+v, step %+v; want %v W, none waiting", next, d.meas, d.step, next)
		}
	}
}
