package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestIdentityrefKeysLoseTheirModule: a BGP neighbour's session state
// sent as a JSON_IETF subtree, where RFC 7951 writes the protocol list's
// identityref key as "openconfig-policy-types:BGP", or with that form in
// the path's keys, gets the keys the PROTO encoding and the SNMP
// collector give it (schemas.BGPInstanceKeys followed by the neighbour),
// as a state value of that form loses its module already. Before, its
// keys read "identifier=openconfig-policy-types:BGP", a series apart from
// the device's SNMP one and from what the stages look for.
func TestIdentityrefKeysLoseTheirModule(t *testing.T) {
	const want = schemas.BGPInstanceKeys + ",neighbor-address=10.0.0.1"
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "/network-instances/network-instance[name=default]/protocols",
			upd(t, "", jsonv(`{"openconfig-network-instance:protocol":[{"identifier":"openconfig-policy-types:BGP","name":"BGP",`+
				`"bgp":{"neighbors":{"neighbor":[{"neighbor-address":"10.0.0.1","state":{"session-state":"ESTABLISHED"}}]}}}]}`))),
		notif(t, ts1+1, "",
			upd(t, "/network-instances/network-instance[name=default]/protocols/protocol[identifier=openconfig-policy-types:BGP][name=BGP]"+
				"/bgp/neighbors/neighbor[neighbor-address=10.0.0.1]/state/session-state", strv("IDLE"))))
	if len(out) != 2 {
		t.Fatalf("%d samples, want 2", len(out))
	}
	for _, s := range out {
		if s.Metric != schemas.MetricBGPSessionState || s.Keys != want {
			t.Errorf("%s {%s}, want %s {%s}", s.Metric, s.Keys, schemas.MetricBGPSessionState, want)
		}
	}
}
