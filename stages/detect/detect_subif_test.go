package detect

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// subifCounters is the in-octets counter of a subinterface (OpenConfig's
// subinterfaces/subinterface, keys name=IF,index=N).
const subifCounters = "/interfaces/interface/subinterfaces/subinterface/state/counters/in-octets"

// TestDetectSubinterfaceFollowsParent: the traffic of a subinterface
// (name=Ethernet3,index=100), which has no state series of its own, stops
// when its interface goes down: the interface's link_down is the alert,
// and the subinterface's rate is neither learned nor alerted on while it
// is down, as the interface's own counters are. Before, the drop fired a
// level_shift on the subinterface beside the link_down, with nothing
// saying why. A subinterface that stops on its own still fires.
func TestDetectSubinterfaceFollowsParent(t *testing.T) {
	const parent, sub = "name=Ethernet3", "name=Ethernet3,index=100"
	rows := func(parentDown, subStops func(i int) bool) func(i int) []schemas.Sample {
		rng := rand.New(rand.NewPCG(3, 4))
		var p, s uint64 = 1 << 30, 1 << 20
		return func(i int) []schemas.Sample {
			oper := "UP"
			if parentDown(i) {
				oper = "DOWN"
			} else {
				p += uint64(20e6 * (1 + 0.05*rng.NormFloat64()))
				if !subStops(i) {
					s += uint64(8e6 * (1 + 0.05*rng.NormFloat64()))
				}
			}
			return []schemas.Sample{
				stateSample(schemas.MetricOperStatus, parent, oper),
				stateSample(schemas.MetricAdminStatus, parent, "UP"),
				counterSample(schemas.MetricInOctets, parent, p),
				counterSample(subifCounters, sub, s),
			}
		}
	}
	never := func(int) bool { return false }
	window := func(i int) bool { return i >= 400 && i < 460 }
	f := func(name string, r func(i int) []schemas.Sample, want []string) {
		t.Helper()
		var got []string
		for _, s := range summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 600, 60, r))) {
			if strings.HasPrefix(s, "firing ") {
				got = append(got, s)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	f("interface down", rows(window, never), []string{"firing link_down oper-status@400"})
	f("the subinterface alone stops", rows(never, window), []string{"firing level_shift in-octets@401"})
}

func TestSubinterfaceParent(t *testing.T) {
	for keys, want := range map[string]string{
		"name=Ethernet3,index=100":      "name=Ethernet3",
		`name=a\,b,index=0`:             `name=a\,b`,
		"name=Ethernet3":                "",
		"name=Ethernet3,index=":         "",
		"name=Ethernet3,index=1,vlan=2": "",
		"interface-name=Hu0/0/0/1":      "",
		"name=Ethernet3,id=spine-0":     "",
	} {
		if got := subinterfaceParent(keys); got != want {
			t.Errorf("subinterfaceParent(%q) = %q, want %q", keys, got, want)
		}
	}
}
