package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestLateOperStatus: a port up at minute 10, then an oper-status sample
// of minute 5 saying down (a late or re-ordered sample), stays up, also
// after a restore of the device's state. Before, the late sample replaced
// the newer state: the port was modelled without link and reported as a
// saving (admin up, no link).
func TestLateOperStatus(t *testing.T) {
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	late := func(e *Estimator) {
		e.Observe(at(5), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "DOWN")
	}
	a, _ := New(Config{Window: time.Hour})
	a.Observe(at(10), "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
	a.Observe(at(10), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
	st, _ := a.AppendDeviceState(nil, "d")
	late(a)
	if !a.devices["d"].ports[0].operUp {
		t.Errorf("Ethernet1 down after a down sample of minute 5 that came after its up of minute 10")
	}
	b, _ := New(Config{Window: time.Hour})
	if err := b.RestoreDeviceState("d", st); err != nil {
		t.Fatal(err)
	}
	late(b)
	if !b.devices["d"].ports[0].operUp {
		t.Errorf("restored: Ethernet1 down after a down sample of minute 5 that came after its up of minute 10")
	}
	// A newer sample still moves it.
	b.Observe(at(11), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "DOWN")
	if b.devices["d"].ports[0].operUp {
		t.Errorf("Ethernet1 up after a down sample of minute 11")
	}
}
