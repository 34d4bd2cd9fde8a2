package gnmi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// nearestCustomerBridge is the destination MAC address of the nearest
// customer bridge's LLDP agent, as ieee802-dot1ab-lldp writes it.
const nearestCustomerBridge = "01-80-C2-00-00-00"

// ieeeAgentEntry is the path of an ieee802-dot1ab-lldp neighbour's entry
// of the LLDP agent of destination MAC address agent on port.
func ieeeAgentEntry(port, agent string, index int) string {
	return fmt.Sprintf("/ieee802-dot1ab-lldp:lldp/port[name=%s][dest-mac-address=%s]/remote-systems-data[time-mark=0][remote-index=%d]",
		port, agent, index)
}

// ieeeNeighbor returns the updates of an ieee802-dot1ab-lldp neighbour's
// entry: its system name, chassis id and port id.
func ieeeNeighbor(t *testing.T, entry, system, chassis, port string) []*pb.Update {
	return []*pb.Update{upd(t, entry+"/system-name", strv(system)), upd(t, entry+"/chassis-id", strv(chassis)),
		upd(t, entry+"/port-id", strv(port))}
}

// TestDeleteSomeKeysLLDP: a delete naming some keys of an LLDP list entry
// forgets every neighbour those keys match, the keys it leaves out being
// wildcards: an IEEE port by its name alone (both its agents), an agent
// of every port by its MAC address alone, an OpenConfig neighbour id on
// any port. The ports' counts drop, and the neighbours' leaves' series
// are forgotten, as on any delete. Before, a delete of /lldp/port[name=eth0] (and
// of neighbor[id] without its interface) forgot nothing: its canonical
// keys "name=eth0" were matched as a prefix of the entries'
// "dest-mac-address=…,name=eth0,…".
func TestDeleteSomeKeysLLDP(t *testing.T) {
	const sec = int64(1e9)
	nb0, ncb0 := ieeeAgentEntry("eth0", nearestBridge, 1), ieeeAgentEntry("eth0", nearestCustomerBridge, 2)
	nb1, nb2 := ieeeAgentEntry("eth1", nearestBridge, 3), ieeeAgentEntry("eth2", nearestBridge, 4)
	ieee := func(ts int64) *pb.SubscribeResponse {
		var us []*pb.Update
		us = append(us, ieeeNeighbor(t, nb0, "spine1", "00:11:22:33:44:01", "Ethernet1")...)
		us = append(us, ieeeNeighbor(t, ncb0, "edge1", "00:11:22:33:44:09", "ge-0/0/1")...)
		us = append(us, ieeeNeighbor(t, nb1, "spine2", "00:11:22:33:44:02", "Ethernet1")...)
		us = append(us, ieeeNeighbor(t, nb2, "spine3", "00:11:22:33:44:03", "Ethernet1")...)
		return notif(t, ts, "", us...)
	}
	oc := func(ts int64) *pb.SubscribeResponse {
		var us []*pb.Update
		for _, port := range []string{"Ethernet1", "Ethernet2"} {
			us = append(us, upd(t, "/lldp/interfaces/interface[name="+port+"]/neighbors/neighbor[id=spine-01]/state/system-name", strv("spine-01")))
		}
		us = append(us, upd(t, "/lldp/interfaces/interface[name=Ethernet3]/neighbors/neighbor[id=spine-02]/state/system-name", strv("spine-02")))
		return notif(t, ts, "", us...)
	}
	out, d := decodeAll(t, DecoderConfig{},
		ieee(ts1), oc(ts1),
		deleteAt(t, ts1+10*sec, "/ieee802-dot1ab-lldp:lldp/port[name=eth0]"),
		deleteAt(t, ts1+20*sec, "/ieee802-dot1ab-lldp:lldp/port[dest-mac-address="+nearestBridge+"]"),
		deleteAt(t, ts1+30*sec, "/lldp/interfaces/interface/neighbors/neighbor[id=spine-01]"))
	got := lldpCounts(t, out)
	want := []lldpCount{{0, "Ethernet1", 1}, {0, "Ethernet2", 1}, {0, "Ethernet3", 1},
		{0, "eth0", 2}, {0, "eth1", 1}, {0, "eth2", 1},
		{10, "eth0", 0}, {20, "eth1", 0}, {20, "eth2", 0}, {30, "Ethernet1", 0}, {30, "Ethernet2", 0}}
	slices.SortFunc(got, func(a, b lldpCount) int { return cmp.Or(cmp.Compare(a.sec, b.sec), strings.Compare(a.port, b.port)) })
	if !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count)\n%v, want\n%v", got, want)
	}
	// Every neighbour but spine-02 is forgotten with its leaves' series.
	var kept []string
	for _, se := range d.canon {
		kept = append(kept, se.metric+" "+se.keys)
	}
	if want := "/lldp/interfaces/interface/neighbors/neighbor/state/system-name name=Ethernet3,id=spine-02"; len(kept) != 1 || kept[0] != want {
		t.Errorf("series kept %q, want only %q", kept, want)
	}
}

// TestDeleteSomeKeysSeries: a delete naming some keys of a list entry
// forgets the series of every entry those keys match, whichever keys it
// leaves out (a subinterface of any interface, a BGP neighbour of any
// network instance, an ietf-routing protocol by type alone), and no
// other: a key of a list is told from a key of the same name of a list
// above it (protocol[name=default] is not network-instance[name=default]).
// A forgotten series' sample sent again is published again; a kept one's
// is a duplicate. Values escaped in the canonical keys (a comma, an equals
// sign, a backslash) are read whole. Before, only a delete whose canonical
// keys were a prefix of the series' forgot it: the first three forgot
// nothing, and protocol[name=default] forgot network instance default's
// BGP neighbour.
func TestDeleteSomeKeysSeries(t *testing.T) {
	const (
		sub = "/interfaces/interface[name=%s]/subinterfaces/subinterface[index=%d]/state/counters/in-octets"
		bgp = "/network-instances/network-instance[name=%s]/protocols/protocol[identifier=BGP][name=bgp]/bgp/neighbors/neighbor[neighbor-address=10.0.0.1]/state/session-state"
		rt  = "/ietf-routing:routing/control-plane-protocols/control-plane-protocol[type=%s][name=1]/ospf/areas/area[area-id=0.0.0.0]/state"
	)
	paths := []string{
		fmt.Sprintf(sub, "Ethernet1", 0), fmt.Sprintf(sub, "Ethernet2", 0), fmt.Sprintf(sub, "Ethernet1", 1),
		fmt.Sprintf(bgp, "default"), fmt.Sprintf(bgp, "vrf1"),
		fmt.Sprintf(rt, "ospfv2"), fmt.Sprintf(rt, "static"),
		// Values escaped in the canonical keys: `name=x\,index\=0,index=1`
		// and `name=y\\,index=0`.
		fmt.Sprintf(sub, "x,index=0", 1), fmt.Sprintf(sub, `y\\`, 0),
	}
	for _, tc := range []struct {
		del  string
		gone []int // indexes in paths
	}{
		{"/interfaces/interface/subinterfaces/subinterface[index=0]", []int{0, 1, 8}},
		{"/network-instances/network-instance/protocols/protocol[name=bgp]/bgp/neighbors/neighbor[neighbor-address=10.0.0.1]", []int{3, 4}},
		{"/ietf-routing:routing/control-plane-protocols/control-plane-protocol[type=ospfv2]", []int{5}},
		{"/network-instances/network-instance/protocols/protocol[name=default]", nil},
		{"/interfaces/interface[name=Ethernet1]", []int{0, 2}}, // every key: as before
		{"/interfaces/interface[name=x,index=0]", []int{7}},
		{`/interfaces/interface[name=y\\]/subinterfaces/subinterface`, []int{8}},
	} {
		t.Run(strings.ReplaceAll(tc.del, "/", "_"), func(t *testing.T) {
			cycle := func(ts int64) *pb.SubscribeResponse {
				var us []*pb.Update
				for _, p := range paths {
					v := strv("UP")
					if strings.HasSuffix(p, "in-octets") {
						v = u64v(7)
					}
					us = append(us, upd(t, p, v))
				}
				return notif(t, ts, "", us...)
			}
			out, _ := decodeAll(t, DecoderConfig{}, cycle(ts1), deleteAt(t, ts1+1, tc.del), cycle(ts1))
			if again := republished(out[len(paths):], paths); !slices.Equal(again, tc.gone) {
				t.Errorf("published again (forgotten): %v, want %v", again, tc.gone)
			}
		})
	}
}

// TestDeleteSomeKeysTeachesNoKeys: a delete naming one key of the IEEE
// LLDP port list, the first path of the list the stream sends, does not
// make that key the list's for the JSON_IETF trees that follow: their
// ports keep both keys, so their neighbours are counted. Before, the
// delete taught the list the key name alone (learnKeys): the agents'
// entries of a port merged and no neighbour was counted.
func TestDeleteSomeKeysTeachesNoKeys(t *testing.T) {
	a := lldpNbr{"eth0", "00:11:22:33:44:01", "spine1", "Ethernet7", 1}
	ieeeJSON := lldpForms[1]
	if ieeeJSON.name != "ieee-json" {
		t.Fatalf("lldpForms[1] is %s", ieeeJSON.name)
	}
	out, _ := decodeAll(t, DecoderConfig{},
		deleteAt(t, ts1, "/ieee802-dot1ab-lldp:lldp/port[name=eth9]"),
		ieeeJSON.cycle(t, ts1+1e9, []lldpNbr{a}))
	if got, want := lldpCounts(t, out), []lldpCount{{1, "eth0", 1}}; !slices.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// republished returns, sorted, the indexes in paths of the series that
// out publishes: after a delete, those it forgot.
func republished(out []schemas.Sample, paths []string) []int {
	var again []int
	for _, s := range out {
		for i, p := range paths {
			if m, k, _, err := Series(p); err == nil && m == s.Metric && k == s.Keys {
				again = append(again, i)
			}
		}
	}
	slices.Sort(again)
	return again
}
