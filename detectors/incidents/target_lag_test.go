package incidents

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestTargetLostLate: the collector reports a device lost minutes after its
// neighbours saw their links to it go down (an SNMP target is DOWN only
// after its third failed poll in a row: about 3 minutes at the default
// 60 s interval; a gNMI stream of a device that lost power breaks only
// when TCP notices). While those links are still down, the device's loss
// explains them: one device incident holding every neighbour's link and
// session, in event-time order and with the target's detection first (a
// partition ahead of the others). A link that went down long before the
// device was lost stays an incident of its own. Before, the target's
// detection, more than Window after the links' incidents opened, opened
// an incident of its own beside one link incident per neighbour.
func TestTargetLostLate(t *testing.T) {
	links := []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(2, "leaf3", mOper, "name=e1", "link_down", 0, 1),
		fire(2, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1),
		fire(3, "leaf2", mBGP, bgp("10.1.2.0"), "session_down", 0, 1),
	}
	lost := fire(185, "spine1", mTarget, "", "target_down", 0, 1)
	cause := "device spine1 unreachable from the collector; 3 links to it down (leaf1:e1, leaf2:e1, leaf3:e1)"
	for name, dets := range map[string][]schemas.Detection{
		"event-time order": append(append([]schemas.Detection{}, links...), lost),
		"target first":     append([]schemas.Detection{lost}, links...),
	} {
		incs := run(t, fabricInventory(), dets...)
		if len(incs) != 1 || incs[0].Rule != schemas.RuleDevice || !strings.Contains(incs[0].Cause, cause) || len(incs[0].Evidence) != len(dets) {
			t.Errorf("%s: %d incidents, want one device incident %q with %d evidence:\n%s", name, len(incs), cause, len(dets), strings.Join(signature(incs), "\n"))
		}
	}

	// leaf3's link went down an hour before spine1 was lost: its own fault.
	old := []schemas.Detection{fire(-3600, "leaf3", mOper, "name=e1", "link_down", 0, 1)}
	old = append(old, links[:2]...)
	old = append(old, lost)
	incs := run(t, fabricInventory(), old...)
	if len(incs) != 2 {
		t.Fatalf("a link down an hour before the loss: %d incidents, want 2:\n%s", len(incs), strings.Join(signature(incs), "\n"))
	}
	for _, in := range incs {
		if strings.Contains(in.Cause, "leaf3") == strings.Contains(in.Cause, "unreachable") {
			t.Errorf("a link down an hour before the loss: %s %q", in.Rule, in.Cause)
		}
	}
}
