package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestStateAfterClockStepsBack: a port's oper-status and a PSU reading
// stamped 3 h ahead (a device clock NTP then sets right), or a year ahead
// (one bad stamp), are replaced by the next sample of the right time once
// the device is taken back to it (StepBack, as stages/power does when the
// step is confirmed), while a sample 5 minutes late still changes
// nothing. Without the step, a sample 15 minutes older than the one held
// (a second source's, late) changes nothing either: the step is the
// stage's to confirm. Before, every sample older than the one held was
// late: the port stayed down and the PSU at its old reading until the
// device's time passed the bad stamp.
func TestStateAfterClockStepsBack(t *testing.T) {
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	obs := func(e *Estimator, ts int64, oper string, w float64) {
		e.Observe(ts, "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, oper)
		e.Observe(ts, "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, w, "")
	}
	for _, ahead := range []time.Duration{3 * time.Hour, 365 * 24 * time.Hour} {
		e, _ := New(Config{})
		obs(e, at(ahead), "DOWN", 90)
		d := e.devices["d"]
		obs(e, at(ahead-15*time.Minute), "UP", 120)
		if d.ports[0].operUp || d.psus[0].p != 90 {
			t.Errorf("%v ahead: a sample 15 minutes older, no step taken, changed the port (up %v) or the PSU (%v W)", ahead, d.ports[0].operUp, d.psus[0].p)
		}
		e.StepBack("d", at(time.Minute))
		obs(e, at(time.Minute), "UP", 120)
		if !d.ports[0].operUp || d.psus[0].p != 120 {
			t.Errorf("%v ahead, then set right: oper up %v, PSU %v W; want up and 120 W", ahead, d.ports[0].operUp, d.psus[0].p)
		}
		// Late by 5 minutes after the step: no change.
		obs(e, at(-4*time.Minute), "DOWN", 60)
		if !d.ports[0].operUp || d.psus[0].p != 120 {
			t.Errorf("%v ahead: a sample 5 minutes late changed the port (up %v) or the PSU (%v W)", ahead, d.ports[0].operUp, d.psus[0].p)
		}
	}
}
