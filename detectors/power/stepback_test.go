package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestStateAfterClockStepsBack: a port's oper-status and a PSU reading
// stamped 3 h ahead (a device clock NTP then sets right), or a year ahead
// (one bad stamp), are replaced by the next sample of the right time,
// while a sample 5 minutes late still changes nothing. Before, every
// sample older than the one held was late: the port stayed down and the
// PSU at its old reading until the device's time passed the bad stamp.
func TestStateAfterClockStepsBack(t *testing.T) {
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	for _, ahead := range []time.Duration{3 * time.Hour, 365 * 24 * time.Hour} {
		e, _ := New(Config{})
		e.Observe(at(ahead), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "DOWN")
		e.Observe(at(ahead), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 90, "")
		e.Observe(at(time.Minute), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
		e.Observe(at(time.Minute), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 120, "")
		d := e.devices["d"]
		if !d.ports[0].operUp || d.psus[0].p != 120 {
			t.Errorf("%v ahead, then set right: oper up %v, PSU %v W; want up and 120 W", ahead, d.ports[0].operUp, d.psus[0].p)
		}
		// Late by 5 minutes after the step: no change.
		e.Observe(at(-4*time.Minute), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "DOWN")
		e.Observe(at(-4*time.Minute), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 60, "")
		if !d.ports[0].operUp || d.psus[0].p != 120 {
			t.Errorf("%v ahead: a sample 5 minutes late changed the port (up %v) or the PSU (%v W)", ahead, d.ports[0].operUp, d.psus[0].p)
		}
	}
}
