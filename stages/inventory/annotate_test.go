package inventory

import (
	"maps"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestAnnotate: site, role and the peer of an interface's link or of a BGP
// session are added as annotations; labels and fingerprint stay; a device
// the inventory does not know gets nothing.
func TestAnnotate(t *testing.T) {
	x := (&schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1", Site: "fra1"}},
		Links:   []schemas.InvLink{{A: schemas.Port{Device: "spine1", Interface: "e3"}, B: schemas.Port{Device: "leaf1", Interface: "e1"}}},
		Sessions: []schemas.Session{{Device: "leaf1", Protocol: schemas.ProtocolBGP, Neighbor: "10.0.0.0", Interface: "e1",
			PeerDevice: "spine1"}},
	}).Index()
	f := func(device, metric, keys string, want map[string]string) {
		t.Helper()
		l := schemas.AlertLabels(device, metric, keys)
		d := &schemas.Detection{Device: device, Metric: metric, Keys: keys, Labels: l, Fingerprint: schemas.Fingerprint(l)}
		added := Annotate(d, x)
		if added != (want != nil) || !maps.Equal(d.Annotations, want) || !maps.Equal(d.Labels, schemas.AlertLabels(device, metric, keys)) {
			t.Errorf("%s %s %s: added %v, annotations %v, want %v", device, metric, keys, added, d.Annotations, want)
		}
	}
	f("spine1", "/interfaces/interface/state/oper-status", "name=e3",
		map[string]string{"site": "fra1", "role": "spine", "peer_device": "leaf1", "peer_interface": "e1"})
	f("spine1", "/interfaces/interface/state/counters/in-octets", "name=e9", map[string]string{"site": "fra1", "role": "spine"})
	f("leaf1", "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state",
		"name=default,identifier=BGP,protocol.name=BGP,neighbor-address=10.0.0.0",
		map[string]string{"site": "fra1", "peer_device": "spine1", "peer_interface": "e3"})
	f("leaf9", "/interfaces/interface/state/oper-status", "name=e1", nil)
}
