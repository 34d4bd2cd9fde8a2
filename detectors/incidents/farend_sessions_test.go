package incidents

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// rrInventory is fabricInventory with a route reflector rr1 that
// every leaf peers with over no link of its own (multi-hop iBGP).
func rrInventory() *schemas.Inventory {
	inv := fabricInventory()
	inv.Devices = append(inv.Devices, schemas.Device{Name: "rr1", Site: "fra1", Role: "rr"})
	for l := 1; l <= 3; l++ {
		inv.Sessions = append(inv.Sessions, schemas.Session{Device: fmt.Sprintf("leaf%d", l), Protocol: schemas.ProtocolBGP, Neighbor: fmt.Sprintf("10.9.%d.0", l), PeerDevice: "rr1"})
	}
	return inv
}

// TestClearTowardsReflector: a clear on a route reflector no
// collector reports (the leaves' sessions to it down within 2 s), alone or
// with an LLDP neighbour lost on a port facing another device, gives the
// incidents it gave before the far-end commits (20d40f4): no device named
// by inference (leaf1's own session joins the LLDP loss by its device, as
// before).
// That the three leaves' sessions are three incidents, not one clear, is
// as before too: the session rule groups them by the cleared device's own
// sessions, which a device no collector reports does not have. A guard:
// it held when the far-end rule came.
func TestClearTowardsReflector(t *testing.T) {
	clear := []schemas.Detection{
		fire(0, "leaf1", mBGP, bgp("10.9.1.0"), "session_down", 0, 1),
		fire(1, "leaf2", mBGP, bgp("10.9.2.0"), "session_down", 0, 1),
		fire(2, "leaf3", mBGP, bgp("10.9.3.0"), "session_down", 0, 1),
	}
	l2 := "session BGP/BFD session reset on leaf2 with no link event (leaf2→10.9.2.0)"
	l3 := "session BGP/BFD session reset on leaf3 with no link event (leaf3→10.9.3.0)"
	want := []string{"session BGP/BFD session reset on leaf1 with no link event (leaf1→10.9.1.0)", l2, l3}
	if got := orderCauses(run(t, rrInventory(), clear...)); !slices.Equal(got, want) {
		t.Errorf("a clear alone: incidents\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	with := append(slices.Clone(clear), lldpLost(10, "leaf1", "e2"))
	want = []string{"link LLDP neighbour lost on leaf1:e2 (link spine2:e1 — leaf1:e2) while the link stays up", l2, l3}
	if got := orderCauses(run(t, rrInventory(), with...)); !slices.Equal(got, want) {
		t.Errorf("with an LLDP loss facing spine2: incidents\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
