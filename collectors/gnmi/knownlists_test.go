package gnmi

import (
	"fmt"
	"testing"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// keysOf returns the keys of the samples of metric, in order, and the
// values of its state samples.
func keysOf(out []schemas.Sample, metric string) (keys, strs []string) {
	for _, s := range out {
		if s.Metric == metric {
			keys = append(keys, s.Keys)
			if s.Kind == schemas.KindState {
				strs = append(strs, s.Str)
			}
		}
	}
	return keys, strs
}

func checkKeys(t *testing.T, out []schemas.Sample, metric string, want ...string) {
	t.Helper()
	if got, _ := keysOf(out, metric); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: keys\n got %q\nwant %q", metric, got, want)
	}
}

// ieeeLLDP is an ieee802-dot1ab-lldp tree in RFC 7951 JSON: port eth0
// with two agents (nearest bridge and nearest customer bridge), the first
// with a neighbour whose system description is desc.
func ieeeLLDP(desc string) string {
	return `{"ieee802-dot1ab-lldp:lldp":{"port":[` +
		`{"name":"eth0","dest-mac-address":"01-80-C2-00-00-0E","admin-status":"tx-and-rx","port-id-subtype":"interface-name","port-id":"eth0",` +
		`"rx-statistics":{"total-frames":"10"},"remote-systems-data":[{"time-mark":1234,"remote-index":1,` +
		`"chassis-id-subtype":"mac-address","chassis-id":"00-11-22-33-44-55","port-id-subtype":"interface-name","port-id":"Ethernet7",` +
		`"system-name":"spine1","system-description":"` + desc + `"}]},` +
		`{"name":"eth0","dest-mac-address":"01-80-C2-00-00-00","admin-status":"disabled","port-id-subtype":"interface-name","port-id":"eth0",` +
		`"rx-statistics":{"total-frames":"0"}}]}}`
}

// TestIEEELLDPKeys: an IEEE 802.1AB LLDP port is keyed by name and
// dest-mac-address, a neighbour (remote-systems-data) by time-mark and
// remote-index, so two agents of one port stay two series and the
// neighbour's system name is published under the same keys when its
// description changes. Before, a port was keyed by name alone (the second
// agent's counters were dropped as duplicates of the first's) and every
// scalar of a neighbour was a key: its system name was never published
// and its series moved when its description did.
func TestIEEELLDPKeys(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/", jsonv(ieeeLLDP("EOS 4.28")))),
		notif(t, ts1+1, "", upd(t, "/", jsonv(ieeeLLDP("EOS 4.30")))))
	const near, customer = "dest-mac-address=01-80-C2-00-00-0E,name=eth0", "dest-mac-address=01-80-C2-00-00-00,name=eth0"
	checkKeys(t, out, "/lldp/port/rx-statistics/total-frames", near, customer, near, customer)
	checkKeys(t, out, "/lldp/port/admin-status", near, customer, near, customer)
	remote := near + ",remote-index=1,time-mark=1234"
	checkKeys(t, out, "/lldp/port/remote-systems-data/system-name", remote, remote)
	if _, desc := keysOf(out, "/lldp/port/remote-systems-data/system-description"); fmt.Sprint(desc) != "[EOS 4.28 EOS 4.30]" {
		t.Errorf("system-description samples %q, want EOS 4.28 then EOS 4.30", desc)
	}
}

// ospfTree is an ietf-ospf (RFC 9129) instance in RFC 7951 JSON, sent for
// its ospf container: area 0 with interface eth0 and one neighbour, whose
// dead timer reads dead.
func ospfTree(areaType string, dead int) *pb.Update {
	return &pb.Update{Path: &pb.Path{Elem: []*pb.PathElem{{Name: "ietf-routing:routing"}, {Name: "control-plane-protocols"},
		{Name: "control-plane-protocol", Key: map[string]string{"type": "ietf-ospf:ospfv2", "name": "1"}}, {Name: "ietf-ospf:ospf"}}},
		Val: jsonv(fmt.Sprintf(`{"router-id":"10.0.0.1","areas":{"area":[{"area-id":"0.0.0.0","area-type":"%s",`+
			`"statistics":{"spf-runs-count":3},"interfaces":{"interface":[{"name":"eth0","interface-type":"broadcast","cost":10,"state":"dr",`+
			`"statistics":{"if-event-count":5},"neighbors":{"neighbor":[{"neighbor-router-id":"10.0.0.2","address":"10.1.0.2",`+
			`"dr-router-id":"10.0.0.1","state":"full","dead-timer":%d,"statistics":{"nbr-event-count":6}}]}}]}}]}}`, areaType, dead))}
}

// TestOSPFKeys: an ietf-ospf area is keyed by area-id and a neighbour by
// neighbor-router-id, so the neighbour's state keeps its series while its
// dead timer counts down and the area's statistics keep theirs when the
// area type changes. Before, every scalar of both was a key: the dead
// timer (a new neighbour series every sample, its state never published)
// and the area type.
func TestOSPFKeys(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", ospfTree("ietf-ospf:normal-area", 35)),
		notif(t, ts1+1, "", ospfTree("ietf-ospf:stub-area", 32)))
	const ospf = "/routing/control-plane-protocols/control-plane-protocol/ospf/areas/area"
	area := "name=1,type=ietf-ospf:ospfv2,area-id=0.0.0.0"
	checkKeys(t, out, ospf+"/statistics/spf-runs-count", area, area)
	nbr := area + ",interface.name=eth0,neighbor-router-id=10.0.0.2"
	checkKeys(t, out, ospf+"/interfaces/interface/neighbors/neighbor/statistics/nbr-event-count", nbr, nbr)
	if keys, state := keysOf(out, ospf+"/interfaces/interface/neighbors/neighbor/state"); fmt.Sprint(keys) != fmt.Sprint([]string{nbr, nbr}) ||
		fmt.Sprint(state) != "[full full]" {
		t.Errorf("neighbour state %q keyed %q, want full twice keyed %q", state, keys, nbr)
	}
	checkKeys(t, out, ospf+"/interfaces/interface/neighbors/neighbor/dead-timer", nbr, nbr)
}

// TestIETFACLStatisticsKeys: the per-interface ACE counters of
// ietf-access-control-list (RFC 8519), entries of scalars only, are keyed
// by the ACE's name and published beside the ACL's own. Before, they were dropped as
// unsupported: an entry of scalars only whose keys were not known.
func TestIETFACLStatisticsKeys(t *testing.T) {
	out, d := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/ietf-access-control-list:acls",
			jsonv(`{"acl":[{"name":"acl1","type":"ipv4-acl-type","aces":{"ace":[{"name":"ace10","statistics":{"matched-packets":"5"}}]}}],`+
				`"attachment-points":{"interface":[{"interface-id":"eth0","ingress":{"acl-sets":{"acl-set":[{"name":"acl1","ace-statistics":[`+
				`{"name":"ace10","matched-packets":"5","matched-octets":"500"},{"name":"ace20","matched-packets":"1","matched-octets":"60"}]}]}},`+
				`"egress":{"acl-sets":{"acl-set":[{"name":"acl2","ace-statistics":[{"name":"ace10","matched-packets":"9","matched-octets":"900"}]}]}}}]}}`))))
	checkKeys(t, out, "/acls/acl/aces/ace/statistics/matched-packets", "name=acl1,ace.name=ace10")
	const sets = "/acls/attachment-points/interface/%s/acl-sets/acl-set/ace-statistics/matched-packets"
	checkKeys(t, out, fmt.Sprintf(sets, "ingress"),
		"interface-id=eth0,name=acl1,ace-statistics.name=ace10", "interface-id=eth0,name=acl1,ace-statistics.name=ace20")
	checkKeys(t, out, fmt.Sprintf(sets, "egress"), "interface-id=eth0,name=acl2,ace-statistics.name=ace10")
	if st := d.Stats(); st.DroppedFor(DropUnsupported) != 0 {
		t.Errorf("%d dropped as unsupported, want 0", st.DroppedFor(DropUnsupported))
	}
}

// TestIETFIPNeighborKeys: the ARP and neighbour-discovery caches of ietf-ip
// (RFC 8344), in the interfaces tree and the deprecated interfaces-state
// one, and the addresses of the latter, are keyed by ip: a neighbour whose
// state goes from reachable to stale keeps its series. Before, none was
// published: the entries of scalars only were dropped as unsupported, and
// an IPv6 router neighbour (an empty is-router beside its scalars) had
// every scalar taken for a key, its state among them.
func TestIETFIPNeighborKeys(t *testing.T) {
	for _, tree := range []string{"interfaces", "interfaces-state"} {
		ipv4 := `{"ietf-ip:ipv4":{"address":[{"ip":"10.1.0.1","prefix-length":24,"origin":"static"}],` +
			`"neighbor":[{"ip":"10.1.0.2","link-layer-address":"00:11:22:33:44:55","origin":"dynamic"}]}}`
		ipv6 := func(state string) string {
			return `{"ietf-ip:ipv6":{"neighbor":[{"ip":"fe80::2","link-layer-address":"00:11:22:33:44:55","origin":"dynamic",` +
				`"is-router":[null],"state":"` + state + `"}]}}`
		}
		path := "/ietf-interfaces:" + tree + "/interface[name=eth0]"
		out, _ := decodeAll(t, DecoderConfig{},
			notif(t, ts1, "", upd(t, path, jsonv(ipv4))),
			notif(t, ts1, "", upd(t, path, jsonv(ipv6("reachable")))),
			notif(t, ts1+1, "", upd(t, path, jsonv(ipv6("stale")))))
		base := "/" + tree + "/interface"
		checkKeys(t, out, base+"/ipv4/address/prefix-length", "name=eth0,ip=10.1.0.1")
		checkKeys(t, out, base+"/ipv4/neighbor/link-layer-address", "name=eth0,ip=10.1.0.2")
		if keys, state := keysOf(out, base+"/ipv6/neighbor/state"); fmt.Sprint(keys) != "[name=eth0,ip=fe80::2 name=eth0,ip=fe80::2]" ||
			fmt.Sprint(state) != "[reachable stale]" {
			t.Errorf("%s: IPv6 neighbour state %q keyed %q, want reachable then stale keyed name=eth0,ip=fe80::2", tree, state, keys)
		}
	}
}

// TestRoutingStateProtocolKeys: a control-plane protocol of the deprecated
// ietf-routing state tree (RFC 8349 appendix A) is keyed by type and name
// like the routing tree's, so OSPFv2 and OSPFv3 instances of one name stay
// two series. Before, it was keyed by name alone: the second instance's
// leaves were dropped as duplicates of the first's.
func TestRoutingStateProtocolKeys(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/ietf-routing:routing-state/control-plane-protocols",
			jsonv(`{"control-plane-protocol":[{"type":"ietf-ospf:ospfv2","name":"1","ietf-ospf:ospf":{"router-id":"10.0.0.1"}},`+
				`{"type":"ietf-ospf:ospfv3","name":"1","ietf-ospf:ospf":{"router-id":"10.0.0.1"}}]}`))))
	checkKeys(t, out, "/routing-state/control-plane-protocols/control-plane-protocol/ospf/router-id",
		"name=1,type=ietf-ospf:ospfv2", "name=1,type=ietf-ospf:ospfv3")
}
