package gnmi

import (
	"slices"
	"testing"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"
)

// TestLLDPDistinctNeighborsTwoAgents: a port's two LLDP agents (nearest
// bridge and nearest customer bridge, ieee802-dot1ab-lldp) both list
// spine1 (one chassis id and port id), and the nearest bridge spine2 too,
// sampled every 10 s. The port counts 2 neighbours; when the customer
// bridge agent stops reporting spine1 (its entry ages out at 70 s) the
// count does not move, and when spine2 goes (its last sample at 70 s) it
// drops to 1 at 110 s. Before, spine1 counted twice: 3, then a drop to 2
// at 70 s (a lost neighbour that was still there), then 1.
func TestLLDPDistinctNeighborsTwoAgents(t *testing.T) {
	const sec = int64(1e9)
	nb1, ncb1 := ieeeAgentEntry("eth0", nearestBridge, 1), ieeeAgentEntry("eth0", nearestCustomerBridge, 1)
	nb2 := ieeeAgentEntry("eth0", nearestBridge, 2)
	var rs []*pb.SubscribeResponse
	for i := range int64(16) {
		var us []*pb.Update
		us = append(us, ieeeNeighbor(t, nb1, "spine1", "00:11:22:33:44:01", "Ethernet1")...)
		if i <= 3 {
			us = append(us, ieeeNeighbor(t, ncb1, "spine1", "00:11:22:33:44:01", "Ethernet1")...)
		}
		if i <= 7 {
			us = append(us, ieeeNeighbor(t, nb2, "spine2", "00:11:22:33:44:02", "Ethernet1")...)
		}
		rs = append(rs, notif(t, ts1+i*10*sec, "", us...))
	}
	out, d := decodeAll(t, DecoderConfig{ResendInterval: 10 * time.Second}, rs...)
	if got, want := lldpCounts(t, out), []lldpCount{{0, "eth0", 2}, {110, "eth0", 1}}; !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count) %v, want %v", got, want)
	}
	if st := d.Stats(); st.LLDPAged != 2 {
		t.Errorf("%d entries aged out, want 2", st.LLDPAged)
	}
}

// TestLLDPDistinctNeighborsBothModels: a device streams its neighbour
// spine-01 in both models, openconfig-lldp and ieee802-dot1ab-lldp. Its
// port counts 1 neighbour, which the delete of one model's entry leaves
// and the delete of the other's takes away. Before, it counted 2, and
// the first delete dropped it to 1.
func TestLLDPDistinctNeighborsBothModels(t *testing.T) {
	const sec = int64(1e9)
	oc := "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-01]"
	ieee := ieeeAgentEntry("Ethernet1", nearestBridge, 1)
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, oc+"/state", upd(t, "system-name", strv("spine-01")), upd(t, "chassis-id", strv("00:1c:73:aa:bb:01")),
			upd(t, "port-id", strv("Ethernet7"))),
		notif(t, ts1, "", ieeeNeighbor(t, ieee, "spine-01", "00:1c:73:aa:bb:01", "Ethernet7")...),
		deleteAt(t, ts1+10*sec, oc),
		deleteAt(t, ts1+20*sec, ieee))
	if got, want := lldpCounts(t, out), []lldpCount{{0, "Ethernet1", 1}, {20, "Ethernet1", 0}}; !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count) %v, want %v", got, want)
	}
}

// TestLLDPDistinctNeighborsLateIdentity: the customer bridge agent's
// entry of spine1 comes first without its chassis id and port id (a
// target sending them in a later notification): it counts as a
// neighbour of its own, and its chassis id and port id coming after,
// the same as the nearest bridge's entry, do not drop the count (it
// would read as a lost neighbour); the entry goes on counting by its id.
// Before, every entry counted by its id, as this one still does; a count
// of distinct chassis and port ids taken whenever they come would drop
// to 1 at 6 s here, and this test guards against it.
func TestLLDPDistinctNeighborsLateIdentity(t *testing.T) {
	const sec = int64(1e9)
	nb1, ncb1 := ieeeAgentEntry("eth0", nearestBridge, 1), ieeeAgentEntry("eth0", nearestCustomerBridge, 1)
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", ieeeNeighbor(t, nb1, "spine1", "00:11:22:33:44:01", "Ethernet1")...),
		notif(t, ts1+5*sec, "", upd(t, ncb1+"/system-name", strv("spine1"))),
		notif(t, ts1+6*sec, "", upd(t, ncb1+"/chassis-id", strv("00:11:22:33:44:01")), upd(t, ncb1+"/port-id", strv("Ethernet1"))),
		deleteAt(t, ts1+10*sec, ncb1),
		deleteAt(t, ts1+20*sec, nb1))
	want := []lldpCount{{0, "eth0", 1}, {5, "eth0", 2}, {10, "eth0", 1}, {20, "eth0", 0}}
	if got := lldpCounts(t, out); !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count) %v, want %v", got, want)
	}
}
