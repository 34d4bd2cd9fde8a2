package incidents

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// mTarget is the collector's view of a target.
const mTarget = schemas.MetricTargetState

// spine1Lost is spine1 (fabricInventory) going silent at 0: the collector's
// target_down on it, every leaf's link to it down from the far end
// (leafL:e1), their sessions to it and neighbour counts, the traffic on
// those ports falling and traffic moved to leaf1's other uplink.
func spine1Lost() []schemas.Detection {
	return []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(0, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf3", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1),
		fire(1, "leaf2", mNbrs, "name=default", "neighbors_down", 1, 2),
		fire(2, "spine1", mTarget, "", "target_down", 0, 1),
		fire(10, "leaf3", mIn, "name=e1", "ewma", 0, 5e8),
		fire(10, "leaf1", mOut, "name=e2", "ewma", 9e8, 5e8),
	}
}

// TestTargetLost: a device the collector lost is one device incident that
// holds its neighbours' symptoms, whatever they are, in any arrival order.
func TestTargetLost(t *testing.T) {
	type want struct {
		rule, cause string
		evidence    int // evidence of the first incident
		effects     int
	}
	f := func(name string, dets []schemas.Detection, w ...want) {
		t.Helper()
		incs := run(t, fabricInventory(), dets...)
		if len(incs) != len(w) {
			t.Errorf("%s: %d incidents, want %d:\n%s", name, len(incs), len(w), strings.Join(signature(incs), "\n"))
			return
		}
		for i, in := range incs {
			effects := 0
			for _, ev := range in.Evidence {
				if ev.Role == schemas.EvidenceEffect {
					effects++
				}
			}
			if in.Rule != w[i].rule || !strings.Contains(in.Cause, w[i].cause) || (i == 0 && (len(in.Evidence) != w[i].evidence || effects != w[i].effects)) {
				t.Errorf("%s: incident %d: %s %q, %d evidence (%d effects); want %s %q, %d (%d)", name, i, in.Rule, in.Cause,
					len(in.Evidence), effects, w[i].rule, w[i].cause, w[i].evidence, w[i].effects)
			}
			if _, err := schemas.MarshalIncident(in); err != nil {
				t.Errorf("%s: the incident breaks its contract: %v", name, err)
			}
		}
	}
	lost := "device spine1 unreachable from the collector; 3 links to it down (leaf1:e1, leaf2:e1, leaf3:e1)"
	f("spine1 lost", spine1Lost(), want{schemas.RuleDevice, lost, 8, 1})
	f("the target first", append([]schemas.Detection{fire(0, "spine1", mTarget, "", "target_down", 0, 1)}, spine1Lost()[:5]...),
		want{schemas.RuleDevice, lost, 6, 0})
	f("alone", []schemas.Detection{fire(0, "spine1", mTarget, "", "target_down", 0, 1)},
		want{schemas.RuleDevice, "device spine1 unreachable from the collector", 1, 0})
	f("unknown to the inventory", []schemas.Detection{fire(0, "ghost", mTarget, "", "target_down", 0, 1)},
		want{schemas.RuleDevice, "device ghost unreachable from the collector", 1, 0})
	f("flapping", []schemas.Detection{fire(0, "spine1", mTarget, "", "flapping", 0, 1)},
		want{schemas.RuleDevice, "device spine1 flapping: the collector keeps losing and regaining it", 1, 0})
	f("hardware elsewhere stays apart", append(spine1Lost(), fire(5, "leaf2", mTemp, "name=CPU", "robust_z", 80, 50)),
		want{schemas.RuleDevice, lost, 8, 1}, want{schemas.RuleHardware, "CPU on leaf2", 1, 0})
	f("a link down ten minutes later is its own", append(spine1Lost(), fire(600, "leaf2", mOper, "name=e2", "link_down", 0, 1)),
		want{schemas.RuleDevice, lost, 8, 1}, want{schemas.RuleLink, "link spine2:e2 — leaf2:e2 down", 1, 0})
	f("another device's target is another incident", append(spine1Lost(), fire(600, "leaf3", mTarget, "", "target_down", 0, 1)),
		want{schemas.RuleDevice, lost, 8, 1}, want{schemas.RuleDevice, "device leaf3 unreachable", 1, 0})
}

// TestTargetLostOrder: any arrival order within a few seconds (as in
// TestArrivalOrder) gives the
// same incident as event-time order.
func TestTargetLostOrder(t *testing.T) {
	dets := spine1Lost()
	want := signature(run(t, fabricInventory(), dets...))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		order := shuffleWithin(rng, dets, 1+i%5)
		if got := signature(run(t, fabricInventory(), order...)); !slices.Equal(got, want) {
			t.Fatalf("order %d gives\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestTargetBack: the incident resolves when the target is back and its
// neighbours' alerts are resolved, and the target lost again within Reopen
// reopens it under the same id.
func TestTargetBack(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "spine1", mTarget, "", "target_down", 0, 1),
		fire(1, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		det(120, schemas.StateResolved, "spine1", mTarget, "", "target_down", 1, 1),
		det(121, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
	}
	in := one(t, run(t, fabricInventory(), dets...), schemas.RuleDevice, "device spine1 unreachable")
	if in.State != schemas.IncidentResolved || in.Severity != schemas.SeverityCritical || !strings.Contains(in.Action, "power and management reachability") {
		t.Errorf("state %s severity %s action %q", in.State, in.Severity, in.Action)
	}
	again := one(t, run(t, fabricInventory(), append(dets, fire(200, "spine1", mTarget, "", "target_down", 0, 1))...), schemas.RuleDevice, "spine1")
	if again.ID != in.ID || again.State != schemas.IncidentOpen {
		t.Errorf("lost again: id %s state %s, want %s open", again.ID, again.State, in.ID)
	}
}

// TestTargetLostLLDP: a device the collector lost whose links stay up (a
// hung control plane, a reload before the ports drop) shows on its
// neighbours as LLDP neighbours lost on the ports facing it, once their
// LLDP hold time (typically 120 s) has passed: later than Window after the
// target's loss. They are part of the device's incident, in either
// arrival order, not one LLDP incident per neighbour port.
func TestTargetLostLLDP(t *testing.T) {
	lost := func(sec int, leaf string) schemas.Detection {
		d := fire(sec, leaf, schemas.MetricLLDPNeighbors, "name=e1", "lldp_neighbor_lost", 0, 1)
		d.Severity = schemas.SeverityWarning
		return d
	}
	target := fire(0, "spine1", mTarget, "", "target_down", 0, 1)
	for name, dets := range map[string][]schemas.Detection{
		"target first": {target, lost(120, "leaf1"), lost(125, "leaf2")},
		"target last":  {lost(120, "leaf1"), lost(125, "leaf2"), target},
	} {
		incs := run(t, fabricInventory(), dets...)
		if len(incs) != 1 || incs[0].Rule != schemas.RuleDevice || len(incs[0].Evidence) != 3 {
			t.Errorf("%s: %d incidents, want spine1's device incident with 3 evidence:\n%s", name, len(incs), strings.Join(signature(incs), "\n"))
		}
	}
}
