package power

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestBadPSUReadings: a NaN, infinite, negative or far too large PSU
// reading is no measurement: it is neither fitted (one NaN made every
// coefficient of the device model NaN, for every device of that model, for
// good) nor averaged into the window's measured power.
func TestBadPSUReadings(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), -50, 2 * maxReading} {
		e, _ := New(Config{Window: time.Hour})
		base := t0.UnixNano()
		for i := int64(0); i < 120; i++ {
			ts := base + i*int64(time.Minute)
			e.Observe(ts, "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
			e.Observe(ts, "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
			w := 115.0
			if i == 30 {
				w = bad
			}
			e.Observe(ts, "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, w, "")
		}
		e.Flush(base + 3*int64(time.Hour))
		for _, c := range e.DeviceModel("d").Coefficients() {
			if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
				t.Fatalf("reading %v: coefficient %s is %v", bad, c.Name, c.Value)
			}
		}
		for _, r := range e.Take().Rows {
			if r.Row == schemas.PowerRowDevice && math.Abs(r.MeasuredW-115) > 0.01 {
				t.Errorf("reading %v: window %v measured %v W, want 115", bad, time.Unix(0, r.WindowStart).UTC(), r.MeasuredW)
			}
		}
	}
}

// TestLatePSUReading: a PSU reading older than the one held (a late or
// re-ordered sample) does not replace it.
func TestLatePSUReading(t *testing.T) {
	e, _ := New(Config{Window: time.Hour})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	e.Observe(at(10), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 200, "")
	e.Observe(at(5), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 50, "")
	e.Observe(at(10), "d", schemas.MetricPSUInVoltage, "name=PSU1", schemas.KindGauge, 0, 230, "")
	e.Observe(at(5), "d", schemas.MetricPSUInVoltage, "name=PSU1", schemas.KindGauge, 0, 110, "")
	if p := e.devices["d"].psus[0]; p.p != 200 || p.pTS != at(10) || p.v != 230 || p.vTS != at(10) {
		t.Errorf("PSU1 holds %v W at %v and %v V at %v after late readings, want 200 W and 230 V at minute 10",
			p.p, time.Unix(0, p.pTS).UTC(), p.v, time.Unix(0, p.vTS).UTC())
	}
}

// TestUnwritableWindow: a window whose sums overflow (here a modelled
// energy set infinite, as adding to one near the largest float64 that a
// changelog record held made it) is dropped without rows and counted, the
// rest of its hour is written as a window of its own (its rows count those
// points only), and the state restores; the stage used to stop at the
// window's end, on a row the schema refuses.
func TestUnwritableWindow(t *testing.T) {
	e, _ := New(Config{Window: time.Hour})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	tick := func(min int) {
		e.Observe(at(min), "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
		e.Observe(at(min), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 115, "")
	}
	for m := range 30 {
		tick(m)
	}
	e.devices["d"].energyMod = math.Inf(1)
	for m := 30; m < 130; m++ {
		tick(m)
	}
	e.Flush(at(200))
	out := e.Take()
	if out.Unwritable != 1 {
		t.Errorf("%d windows without rows, want 1", out.Unwritable)
	}
	for _, r := range out.Rows {
		if !finite(r.ModelledW) || !finite(r.EnergyWh) {
			t.Errorf("row %+v is not finite", r)
		}
		if r.WindowStart == t0.UnixNano() && r.Row == schemas.PowerRowDevice && r.Samples != 30 {
			// The rest of the hour is a window of its own.
			t.Errorf("the overflowed window's hour: %d samples, want the 30 after the drop", r.Samples)
		}
	}
	st, _ := e.AppendDeviceState(nil, "d")
	again, _ := New(Config{Window: time.Hour})
	if err := again.RestoreDeviceState("d", st); err != nil {
		t.Fatalf("the state written after the overflow: %v", err)
	}
}

// TestImpossibleLiveState: a device record whose live state Observe could
// not have built is refused with what is wrong, not restored into a window
// that would stop the stage or a fit it would throw out.
func TestImpossibleLiveState(t *testing.T) {
	for _, tc := range []struct {
		d    device
		want string
	}{
		{device{win: 10, winEnd: 5}, "window ends"},
		{device{modSum: math.NaN()}, "sum that is not finite"},
		{device{ports: []*port{{wW: math.Inf(-1)}}}, "sum that is not finite"},
		{device{ports: []*port{{inR: math.Inf(1)}}}, "rate of +Inf"},
		{device{measN: -1}, "counts -1 points"},
		{device{psus: []*psu{{p: 2 * maxReading}}}, "PSU reading"},
		{device{psus: []*psu{{v: -1}}}, "PSU reading"},
	} {
		if err := tc.d.liveErr(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.d, err, tc.want)
		}
	}
	if err := (&device{win: 0, winEnd: 3600}).liveErr(); err != nil {
		t.Errorf("a valid window: %v", err)
	}
}
