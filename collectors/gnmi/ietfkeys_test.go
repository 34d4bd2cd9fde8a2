package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// ietfInterface is an ietf-interfaces interface entry in RFC 7951 JSON,
// with the given oper-status.
func ietfInterface(oper string) string {
	return `{"ietf-interfaces:interface":[{"name":"eth0","type":"iana-if-type:ethernetCsmacd","enabled":true,` +
		`"admin-status":"up","oper-status":"` + oper + `","if-index":3,"speed":"1000000000",` +
		`"statistics":{"in-octets":"123","out-octets":"456"}}]}`
}

// TestIETFInterfaceGoesDown: an ietf-interfaces tree (JSON_IETF, keys
// beside leaves, no config or state container) sent twice, the interface
// up and then down, keeps its series keyed name=eth0 and publishes
// oper-status as a series of its own. Before, every scalar of the entry
// (enabled, oper-status, speed…) was taken for a key: oper-status was
// never published and the statistics changed series when the interface
// went down, so the interface going down was never seen.
func TestIETFInterfaceGoesDown(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/interfaces", jsonv(ietfInterface("up")))),
		notif(t, ts1+1, "", upd(t, "/interfaces", jsonv(ietfInterface("down")))))
	var oper []string
	for _, s := range out {
		if s.Keys != "name=eth0" {
			t.Errorf("%s {%s}, want keys name=eth0", s.Metric, s.Keys)
		}
		if s.Metric == "/interfaces/interface/oper-status" {
			if s.Kind != schemas.KindState {
				t.Errorf("oper-status is a %v, want a state", s.Kind)
			}
			oper = append(oper, s.Str)
		}
		if s.Metric == "/interfaces/interface/statistics/in-octets" && (s.Kind != schemas.KindCounter || s.U64 != 123) {
			t.Errorf("in-octets %+v, want the counter 123", s)
		}
	}
	if len(oper) != 2 || oper[0] != "up" || oper[1] != "down" {
		t.Errorf("oper-status samples %q, want up then down", oper)
	}
	// type, enabled, admin-status, oper-status, if-index, speed and the
	// two statistics, twice over (the unchanged values too: a new
	// timestamp).
	if len(out) != 2*8 {
		t.Errorf("%d samples, want 16: %+v", len(out), out)
	}
}
