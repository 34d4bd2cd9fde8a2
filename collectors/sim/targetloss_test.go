package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestTargetUnreachable: a leaf the collector loses for a minute sends
// nothing in its window; the fleet emits its target state UP at the first
// tick, DOWN at the window's first tick and UP after it (with reasons);
// the spine sees its port to the leaf DOWN and its BGP session to it
// Idle; the labels name the leaf's target state and the link's series on
// both ends.
func TestTargetUnreachable(t *testing.T) {
	f, err := New(Config{Devices: 3, Interfaces: 2, Start: t0, Topology: Topology{Spines: 1},
		Faults: []Fault{{Device: "sim-01", Kind: FaultTargetUnreachable, After: time.Minute, Duration: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	leafRows, spineDown := map[int]int{}, map[int]bool{}
	for tick := range 20 {
		f.Next(func(s *schemas.Sample) {
			switch {
			case strings.HasPrefix(s.Metric, "telekernel:/collector/"):
				if s.Device != "sim-01" || s.TS != t0.Add(time.Duration(tick)*10*time.Second).UnixNano() {
					t.Errorf("tick %d: target state of %s at %d", tick, s.Device, s.TS)
				}
				states = append(states, s.Metric[strings.LastIndexByte(s.Metric, '/')+1:]+"="+s.Str+"@"+time.Duration(tick*10*int(time.Second)).String())
			case s.Device == "sim-01":
				leafRows[tick]++
			case s.Device == "sim-00" && s.Metric == schemas.MetricOperStatus && s.Keys == "name=Ethernet1" && s.Str == "DOWN":
				spineDown[tick] = true
			}
		})
	}
	want := []string{"state=UP@0s", "reason=established@0s", "state=DOWN@1m0s", "reason=stream_lost@1m0s", "state=UP@2m0s", "reason=established@2m0s"}
	if !slices.Equal(states, want) {
		t.Errorf("target states %v, want %v", states, want)
	}
	for tick := range 20 {
		silent := tick >= 6 && tick < 12
		if (leafRows[tick] == 0) != silent || spineDown[tick] != silent {
			t.Errorf("tick %d: %d rows of the leaf, spine port down %v; want silent and down %v", tick, leafRows[tick], spineDown[tick], silent)
		}
	}
	kinds := map[string]int{}
	for _, l := range f.Labels() {
		if l.Kind != FaultTargetUnreachable {
			t.Errorf("label of kind %s", l.Kind)
		}
		kinds[l.Device+" "+l.Metric]++
	}
	if kinds["sim-01 "+schemas.MetricTargetState] != 1 || kinds["sim-00 "+schemas.MetricOperStatus] != 1 || kinds["sim-01 "+schemas.MetricOperStatus] != 1 {
		t.Errorf("labels %v", kinds)
	}
	// A fleet with no such fault emits no target state.
	g, _ := New(Config{Devices: 2, Interfaces: 1, Start: t0, Faults: []Fault{}})
	g.Next(func(s *schemas.Sample) {
		if strings.HasPrefix(s.Metric, "telekernel:/") {
			t.Errorf("target state without the fault: %+v", s)
		}
	})
}
