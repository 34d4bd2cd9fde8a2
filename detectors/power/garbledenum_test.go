package power

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestGarbledEnum: a port speed or transceiver presence that is no value
// of its enumeration (SPEED_?, a DEL byte, empty) changes nothing: the port
// keeps its last speed and transceiver, and a later valid value (an
// OpenConfig speed the model does not know included) is taken. Before,
// one sample of SPEED_? or "\x7f" was taken as a port of unknown speed or
// without a transceiver, which the shared fit learned from.
func TestGarbledEnum(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := speedName(s); got != want {
			t.Errorf("speedName(%q) = %v, want %v", s, got, want)
		}
	}
	f("SPEED_100GB", true)
	f("SPEED_2500MB", true)
	f("SPEED_UNKNOWN", true)
	f("SPEED_?", false)
	f("SPEED_GB", false)
	f("SPEED_1x0GB", false)
	f("SPEED_100TB", false)
	f("\x7f", false)
	f("", false)

	e, _ := New(Config{})
	ts := t0.UnixNano()
	obs := func(metric, keys, v string) {
		ts++
		e.Observe(ts, "d", metric, keys, schemas.KindState, 0, 0, v)
	}
	obs(schemas.MetricPortSpeed, "name=Ethernet1", "SPEED_100GB")
	obs(schemas.MetricOpticPresent, "name=Ethernet1-transceiver", "PRESENT")
	for _, v := range []string{"SPEED_?", "\x7f", ""} {
		obs(schemas.MetricPortSpeed, "name=Ethernet1", v)
		obs(schemas.MetricOpticPresent, "name=Ethernet1-transceiver", v)
		if p := e.devices["d"].ports[0]; p.speed != "SPEED_100GB" || !p.optic {
			t.Errorf("after %q: speed %q, transceiver %v; want SPEED_100GB, present", v, p.speed, p.optic)
		}
	}
	obs(schemas.MetricPortSpeed, "name=Ethernet1", "SPEED_2500MB")
	obs(schemas.MetricOpticPresent, "name=Ethernet1-transceiver", "NOT_PRESENT")
	if p := e.devices["d"].ports[0]; p.speed != "SPEED_2500MB" || p.optic {
		t.Errorf("after valid values: speed %q, transceiver %v; want SPEED_2500MB, none", p.speed, p.optic)
	}
}
