package incidents

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestLLDPLossOnAnotherPort: leaf3's link to spine2 (leaf3:e2) goes down
// and, 5 s later, leaf3 stops hearing spine1's LLDP on its port facing
// spine1 (leaf3:e1), whose link stays up: two faults on two ports towards
// two devices, two incidents, in either order. Before, the LLDP loss
// joined the link's incident by its device alone (recentLinkDown took any
// link-class member, not only a link going down), so one incident named
// the link and held spine1's LLDP loss as its evidence.
func TestLLDPLossOnAnotherPort(t *testing.T) {
	dets := []schemas.Detection{
		fire(85, "leaf3", mOper, "name=e2", "link_down", 0, 1),
		lldpLost(90, "leaf3", "e1"),
	}
	for _, order := range [][]schemas.Detection{dets, {dets[1], dets[0]}} {
		incs := run(t, bigFabric(2, 4), order...)
		if len(incs) != 2 {
			var causes []string
			for _, in := range incs {
				causes = append(causes, in.Rule+" "+in.Cause)
			}
			t.Errorf("first %s: %d incidents %q, want 2", order[0].Detector, len(incs), causes)
		}
	}
}
