package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectIETFOperStatus: an interface of ietf-interfaces, as the gNMI
// collector publishes a JSON_IETF tree (collectors/gnmi
// TestIETFInterfaceGoesDown: /interfaces/interface/oper-status in lower
// case, keyed name=eth0, beside its statistics), going down at tick 60 and
// up at 70 is one link_down alert on its oper-status, fired at 60 and
// resolved at 70. Before the collector took oper-status for a key, such
// a device never published the series this alert reads.
func TestDetectIETFOperStatus(t *testing.T) {
	const (
		n       = 200
		oper    = "/interfaces/interface/oper-status"
		octets  = "/interfaces/interface/statistics/in-octets"
		ietfKey = "name=eth0"
	)
	down := func(i int) bool { return i >= 60 && i < 70 }
	counts := byteCounts(n, down)
	rows := func(_ string, i int) []schemas.Sample {
		st := "up"
		if down(i) {
			st = "down"
		}
		return []schemas.Sample{stateSample(oper, ietfKey, st), counterSample(octets, ietfKey, counts[i])}
	}
	d := newTestDetect(t, Config{})
	dets := process(t, d, skewRecords(t, n, skewDevice{name: "ietf1", shift: noShift, rows: rows}))
	var fired, resolved []int
	for _, det := range dets {
		if det.Device != "ietf1" || det.Metric != oper || det.Detector != "link_down" {
			continue
		}
		if det.Keys != ietfKey {
			t.Errorf("link_down keyed %q, want %q", det.Keys, ietfKey)
		}
		tick := int(det.EventTime.Sub(t0) / (10 * time.Second))
		switch det.State {
		case schemas.StateFiring:
			fired = append(fired, tick)
		case schemas.StateResolved:
			resolved = append(resolved, tick)
		}
	}
	if !slices.Equal(fired, []int{60}) || !slices.Equal(resolved, []int{70}) {
		t.Errorf("link_down on %s fired at ticks %v, resolved at %v; want 60 and 70", oper, fired, resolved)
	}
}
