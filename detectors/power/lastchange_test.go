package power

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestPSUStampedWithLastChange: PSU2 reports a steady 55 W stamped with its
// last change (minute 0), re-sent every minute beside PSU1's 60 W stamped
// when read; on "steady" PSU2 is re-sent for two hours, on "stopped" it
// stops after the first. Before, PSU2's reading was judged by its own
// stamp: after psu_max_age (5 min) the steady device had no measurement
// at all and, at the component sweep, lost PSU2 though it reported on.
func TestPSUStampedWithLastChange(t *testing.T) {
	e, _ := New(Config{Window: time.Hour})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	for m := range 120 {
		for _, dev := range []string{"steady", "stopped"} {
			e.Observe(at(m), dev, schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
			e.Observe(at(m), dev, schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
			e.Observe(at(m), dev, schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 60, "")
			if dev == "steady" || m < 60 {
				e.Observe(at(0), dev, schemas.MetricPSUInPower, "name=PSU2", schemas.KindGauge, 0, 55, "")
			}
		}
	}
	e.Flush(at(180))
	type win struct {
		dev   string
		start int
	}
	got := map[win]schemas.PowerRow{}
	for _, r := range e.Take().Rows {
		if r.Row == schemas.PowerRowDevice {
			got[win{r.Device, int((r.WindowStart - t0.UnixNano()) / int64(time.Minute))}] = r
		}
	}
	for _, tc := range []struct {
		w       win
		samples uint32
	}{
		{win{"steady", 0}, 60},
		{win{"steady", 60}, 60},
		{win{"stopped", 0}, 60},
		{win{"stopped", 60}, 5}, // PSU2 last seen at minute 59 counts until minute 64
	} {
		r, ok := got[tc.w]
		if !ok {
			t.Errorf("%s, window at minute %d: no row", tc.w.dev, tc.w.start)
			continue
		}
		if r.Samples != tc.samples || math.Abs(r.MeasuredW-115) > 1e-9 {
			t.Errorf("%s, window at minute %d: measured %v W on %d ticks, want 115 W on %d", tc.w.dev, tc.w.start, r.MeasuredW, r.Samples, tc.samples)
		}
	}
	// A sweep at minute 90 keeps the PSU that reports on, whatever its
	// stamp, and drops the one that stopped.
	if _, psus := e.ForgetComponents(at(90)); psus != 1 || len(e.devices["steady"].psus) != 2 || len(e.devices["stopped"].psus) != 1 {
		t.Errorf("the sweep at minute 90 dropped %d PSUs; steady keeps %d, stopped %d, want 1 dropped, 2 and 1 kept",
			psus, len(e.devices["steady"].psus), len(e.devices["stopped"].psus))
	}
}
