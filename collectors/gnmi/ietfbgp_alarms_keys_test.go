package gnmi

import (
	"fmt"
	"testing"

	pb "github.com/openconfig/gnmi/proto/gnmi"
)

// bgpNeighbors is the neighbors container of an ietf-bgp instance in RFC
// 7951 JSON, one neighbour in session state state.
func bgpNeighbors(state string) string {
	return `{"neighbors":{"neighbor":[{"remote-address":"192.0.2.1","local-address":"192.0.2.2","peer-as":65001,` +
		`"session-state":"` + state + `","timers":{"hold-time":90},"statistics":{"established-transitions":"3"}}]}}`
}

// TestIETFBGPNeighborKeys: an ietf-bgp neighbour (draft-ietf-idr-bgp-model,
// its NMDA versions: the list keyed by remote-address, in the bgp
// container that augments an ietf-routing control-plane protocol, or sent
// from that container down as a tree of its own) is keyed by its remote
// address, so its session state is published under one series as it
// changes. Before, every scalar of the entry was a key: the session state
// and the local address among them, so each state was a new series. A
// neighbour of the older, OpenConfig-shaped versions (keyed by
// neighbor-address, with config and state containers) keeps its key.
func TestIETFBGPNeighborKeys(t *testing.T) {
	const proto = "/ietf-routing:routing/control-plane-protocols/control-plane-protocol[type=ietf-bgp:bgp][name=BGP]/ietf-bgp:bgp"
	for _, c := range []struct{ path, metric, keys string }{
		{proto, "/routing/control-plane-protocols/control-plane-protocol/bgp/neighbors/neighbor",
			"name=BGP,type=ietf-bgp:bgp,remote-address=192.0.2.1"},
		{"/ietf-bgp:bgp", "/bgp/neighbors/neighbor", "remote-address=192.0.2.1"},
	} {
		out, _ := decodeAll(t, DecoderConfig{},
			notif(t, ts1, "", upd(t, c.path, jsonv(bgpNeighbors("established")))),
			notif(t, ts1+1, "", upd(t, c.path, jsonv(bgpNeighbors("idle")))))
		if keys, state := keysOf(out, c.metric+"/session-state"); fmt.Sprint(keys) != fmt.Sprint([]string{c.keys, c.keys}) ||
			fmt.Sprint(state) != "[established idle]" {
			t.Errorf("%s: session state %q keyed %q, want established then idle keyed %q", c.path, state, keys, c.keys)
		}
		checkKeys(t, out, c.metric+"/statistics/established-transitions", c.keys, c.keys)
		checkKeys(t, out, c.metric+"/local-address", c.keys, c.keys)
	}
	out, _ := decodeAll(t, DecoderConfig{}, notif(t, ts1, "", upd(t, "/ietf-bgp:bgp",
		jsonv(`{"neighbors":{"neighbor":[{"neighbor-address":"192.0.2.1","state":{"session-state":"ESTABLISHED","peer-as":65001}}]}}`))))
	checkKeys(t, out, "/bgp/neighbors/neighbor/state/session-state", "neighbor-address=192.0.2.1")
}

// alarmList is an ietf-alarms alarm list in RFC 7951 JSON: two alarms of
// one resource, told apart by their type, the first one cleared or not.
func alarmList(cleared bool, severity string) *pb.TypedValue {
	return jsonv(fmt.Sprintf(`{"alarm-list":{"number-of-alarms":2,"alarm":[`+
		`{"resource":"/ietf-interfaces:interfaces/interface[name='eth0']","alarm-type-id":"acme-alarms:link-down",`+
		`"alarm-type-qualifier":"","time-created":"2026-12-07T10:00:00Z","is-cleared":%v,"perceived-severity":"%s","alarm-text":"link down"},`+
		`{"resource":"/ietf-interfaces:interfaces/interface[name='eth0']","alarm-type-id":"acme-alarms:high-errors",`+
		`"alarm-type-qualifier":"fcs","time-created":"2026-12-07T10:00:00Z","is-cleared":false,"perceived-severity":"minor","alarm-text":"FCS errors"}]}}`,
		cleared, severity))
}

// TestIETFAlarmKeys: an ietf-alarms (RFC 8632) alarm is keyed by resource,
// alarm-type-id and alarm-type-qualifier, so an alarm keeps its series when
// it clears and two alarms of one resource stay two. Before, an alarm (an
// entry of scalars only) was dropped as unsupported: no alarm's state was
// published.
func TestIETFAlarmKeys(t *testing.T) {
	out, d := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/ietf-alarms:alarms", alarmList(false, "major"))),
		notif(t, ts1+1, "", upd(t, "/ietf-alarms:alarms", alarmList(true, "cleared"))))
	const res = `resource=/ietf-interfaces:interfaces/interface[name\='eth0']`
	down, errs := "alarm-type-id=acme-alarms:link-down,alarm-type-qualifier=,"+res, "alarm-type-id=acme-alarms:high-errors,alarm-type-qualifier=fcs,"+res
	if keys, sev := keysOf(out, "/alarms/alarm-list/alarm/perceived-severity"); fmt.Sprint(keys) != fmt.Sprint([]string{down, errs, down, errs}) ||
		fmt.Sprint(sev) != "[major minor cleared minor]" {
		t.Errorf("perceived-severity %q keyed\n%q\nwant major, minor, cleared, minor keyed %q and %q", sev, keys, down, errs)
	}
	checkKeys(t, out, "/alarms/alarm-list/alarm/is-cleared", down, errs, down, errs)
	if st := d.Stats(); st.DroppedFor(DropUnsupported) != 0 {
		t.Errorf("%d dropped as unsupported, want 0", st.DroppedFor(DropUnsupported))
	}
}
