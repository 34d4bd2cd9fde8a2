package incidents

import (
	"fmt"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestWideKeyKeepsOwn: under a wide device key, the incidents with a
// member on the device are met at any time (reach.mayMeet), because two
// rules tie a leaf's symptom to the device's incident beyond Window: an
// LLDP loss facing a lost target joins it (touchesTarget: it shows after
// the neighbour's hold time), and a lost target reported up to TargetLag
// after a link incident facing it opened is that incident's (targetJoins,
// found by a merge when the target arrived first). With spine1's key wide
// (ten leaves' links to it down half an hour before), spine1's loss and
// leaf11's symptom facing it end in one incident, whether the symptom is
// a detection (the LLDP loss, by its member: no role), or an incident's,
// merged when its link state (role link) or its link state after its
// traffic (roles link and traffic) arrives.
// Before, dropping the own incidents outside the querier's time from
// either branch of mayMeet failed only one detection of one random
// stream (of TestWideKeyLateStreams for the roles, of
// TestWideKeyMatchesAll for traffic), by its index check (checkWide).
func TestWideKeyKeepsOwn(t *testing.T) {
	target := fire(200, "spine1", mTarget, "", "target_down", 0, 1)
	for _, c := range []struct {
		name string
		dets []schemas.Detection
	}{
		{"LLDP loss three minutes after", []schemas.Detection{target, lldpLost(380, "leaf11", "e1")}},
		{"link down before, reported after", []schemas.Detection{target, fire(0, "leaf11", mOper, "name=e1", "link_down", 0, 1)}},
		{"traffic, then link down, before", []schemas.Detection{target, fire(0, "leaf11", mIn, "name=e1", "ewma", 0, 1e9),
			fire(0, "leaf11", mOper, "name=e1", "link_down", 0, 1)}},
	} {
		e, _ := New(Config{}, bigFabric(4, 12))
		for l := 1; l <= 10; l++ {
			e.Add(ptr(fire(-3000+120*l, fmt.Sprintf("leaf%d", l), mOper, "name=e1", "link_down", 0, 1)))
		}
		for i := range c.dets {
			e.Add(&c.dets[i])
		}
		if !e.reachIndex().wideKey["dspine1"] {
			t.Fatalf("%s: spine1's key is not wide", c.name)
		}
		in := incidentOf(e, target.ID)
		for _, d := range c.dets {
			if got := incidentOf(e, d.ID); got != in {
				t.Errorf("%s: %s is in incident %q, spine1's loss in %q; want one", c.name, d.ID, got, in)
			}
		}
	}
}

// incidentOf returns the id of the open incident that holds detection id,
// or "".
func incidentOf(e *Engine, id string) string {
	for _, in := range e.Open() {
		for _, ev := range in.Evidence {
			if ev.DetectionID == id {
				return in.ID
			}
		}
	}
	return ""
}
