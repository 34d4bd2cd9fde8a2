package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestLateStateSamples: a port's admin-status, port-speed, aggregate-id and
// transceiver presence, and the chassis part-no, set at minute 10 and then
// sent with another value stamped minute 5 (a late or re-ordered sample),
// keep the value of minute 10, also after a restore of the device's state;
// a sample of minute 11 still moves them. Before, the late sample replaced
// the newer state, as it did for oper-status (TestLateOperStatus): an up
// port was taken for shut down, modelled at another speed, out of its LAG
// or without its transceiver, and the device fitted in another model.
func TestLateStateSamples(t *testing.T) {
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	port := func(e *Estimator) *port { return e.devices["d"].ports[0] }
	yes := func(b bool) string {
		if b {
			return "true"
		}
		return "false"
	}
	for _, tc := range []struct {
		name, metric, keys         string
		newer, late, newest, want3 string // the samples of minutes 10, 5 and 11; what 11 leaves
		get                        func(*Estimator) string
	}{
		{"admin-status", schemas.MetricAdminStatus, "name=Ethernet1", "UP", "DOWN", "DOWN", "false",
			func(e *Estimator) string { return yes(port(e).isAdminUp()) }},
		{"port-speed", schemas.MetricPortSpeed, "name=Ethernet1", "SPEED_100GB", "SPEED_10GB", "SPEED_400GB", "SPEED_400GB",
			func(e *Estimator) string { return port(e).speed }},
		{"aggregate-id", schemas.MetricAggregateID, "name=Ethernet1", "Port-Channel1", "", "Port-Channel2", "Port-Channel2",
			func(e *Estimator) string { return port(e).lag }},
		{"transceiver-present", schemas.MetricOpticPresent, "name=Ethernet1-transceiver", "PRESENT", "NOT_PRESENT", "NOT_PRESENT", "false",
			func(e *Estimator) string { return yes(port(e).optic) }},
		{"part-no", schemas.MetricPartNo, "name=Chassis", "DCS-7050CX3", "DCS-7280SR", "DCS-7060CX", "DCS-7060CX",
			func(e *Estimator) string { return e.devices["d"].model.name }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := func(e *Estimator, min int, v string) {
				e.Observe(at(min), "d", tc.metric, tc.keys, schemas.KindState, 0, 0, v)
			}
			a, _ := New(Config{Window: time.Hour})
			a.Observe(at(10), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
			obs(a, 10, tc.newer)
			want := tc.get(a)
			st, _ := a.AppendDeviceState(nil, "d")
			obs(a, 5, tc.late)
			if got := tc.get(a); got != want {
				t.Errorf("%s after a sample of minute 5 (%s) that came after its sample of minute 10 (%s), want %s", got, tc.late, tc.newer, want)
			}
			b, _ := New(Config{Window: time.Hour})
			if err := b.RestoreDeviceState("d", st); err != nil {
				t.Fatal(err)
			}
			obs(b, 5, tc.late)
			if got := tc.get(b); got != want {
				t.Errorf("restored: %s after a sample of minute 5 (%s) that came after its sample of minute 10 (%s), want %s", got, tc.late, tc.newer, want)
			}
			obs(b, 11, tc.newest)
			if got := tc.get(b); got != tc.want3 {
				t.Errorf("%s after a sample of minute 11 (%s), want %s", got, tc.newest, tc.want3)
			}
		})
	}
}
