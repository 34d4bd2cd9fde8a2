package power

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestBadPSUReadings: a NaN, infinite or negative PSU reading is no
// measurement: it is neither fitted (one NaN made every coefficient of the
// device model NaN, for every device of that model, for good) nor
// averaged into the window's measured power.
func TestBadPSUReadings(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), -50} {
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
