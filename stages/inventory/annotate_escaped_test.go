package inventory

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestAnnotateEscapedInterface: the collectors escape a comma, equals
// sign or backslash in a key value (schemas.EscapeKeyValue; SNMP's ifDescr
// "Port 1, Slot 2" when a device has no ifName), and the inventory names
// the port as it is. Annotate unescapes the keys, as the incident engine
// and the LLDP keys do, so the detection on that port gets the peer
// annotations of the link the inventory lists. Before, Annotate split
// the keys on the escaped comma and kept the backslash, so the detection
// got no peer annotation although the inventory links the port.
func TestAnnotateEscapedInterface(t *testing.T) {
	const port = "Port 1, Slot 2"
	x := (&schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "sw1", Site: "fra1"}, {Name: "leaf1", Site: "fra1"}},
		Links:   []schemas.InvLink{{A: schemas.Port{Device: "leaf1", Interface: "e1"}, B: schemas.Port{Device: "sw1", Interface: port}}},
	}).Index()
	keys := schemas.SNMPInterfaceKeys("", port, "3") // name=Port 1\, Slot 2
	metric := "/interfaces/interface/state/oper-status"
	l := schemas.AlertLabels("sw1", metric, keys)
	d := &schemas.Detection{Device: "sw1", Metric: metric, Keys: keys, Labels: l, Fingerprint: schemas.Fingerprint(l)}
	Annotate(d, x)
	if d.Annotations[AnnotationPeerDevice] != "leaf1" || d.Annotations[AnnotationPeerInterface] != "e1" {
		t.Errorf("keys %q on a port the inventory links to leaf1:e1: annotations %v, want peer_device leaf1, peer_interface e1", keys, d.Annotations)
	}
}
