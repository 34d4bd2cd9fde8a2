package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestIEEELLDPNumericPortIDIsText: an ieee802-dot1ab-lldp neighbour's port
// id that reads as a number (a switch that advertises its ifIndex, "527")
// sent in JSON_IETF, where every string is quoted and 64-bit numbers are
// strings too, is published as the text it is, under its own path and
// the vocabulary's name, and so is a system name of digits. Before, the
// first such value made the series a gauge, which the vocabulary's names
// (text, that the inventory reads) could not carry.
func TestIEEELLDPNumericPortIDIsText(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/", jsonv(`{"ieee802-dot1ab-lldp:lldp":{"port":[{"name":"eth0","dest-mac-address":"01-80-C2-00-00-0E",`+
			`"remote-systems-data":[{"time-mark":0,"remote-index":1,"port-id-subtype":"local","port-id":"527","system-name":"1001"}]}]}}`))))
	n := map[string]int{}
	for _, s := range out {
		switch s.Metric {
		case schemas.MetricLLDPNeighborSystemName, schemas.MetricLLDPNeighborPortID, ieeeLLDPEntry + "/port-id", ieeeLLDPEntry + "/system-name":
			n[s.Metric]++
			if s.Kind != schemas.KindState || (s.Str != "527" && s.Str != "1001") {
				t.Errorf("%s {%s}: kind %v %q, want the state 527 or 1001", s.Metric, s.Keys, s.Kind, s.Str)
			}
		}
	}
	if len(n) != 4 {
		t.Errorf("samples by metric %v, want one of each IEEE leaf and vocabulary name", n)
	}
}

// TestOpenConfigLLDPNumericPortIDIsText: the OpenConfig form of the same
// neighbour, a port id and a system name of digits in JSON_IETF, is
// published as text. Before, the port id "527" became a gauge with empty
// text, and the inventory, which reads the text, took the neighbour for
// gone.
func TestOpenConfigLLDPNumericPortIDIsText(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/", jsonv(`{"openconfig-lldp:lldp":{"interfaces":{"interface":[{"name":"eth0","neighbors":{"neighbor":[`+
			`{"id":"n1","state":{"id":"n1","port-id":"527","system-name":"1001"}}]}}]}}}`))))
	n := map[string]int{}
	for _, s := range out {
		switch s.Metric {
		case schemas.MetricLLDPNeighborSystemName, schemas.MetricLLDPNeighborPortID:
			n[s.Metric]++
			if s.Kind != schemas.KindState || (s.Str != "527" && s.Str != "1001") {
				t.Errorf("%s {%s}: kind %v %q, want the state 527 or 1001", s.Metric, s.Keys, s.Kind, s.Str)
			}
		}
	}
	if len(n) != 2 {
		t.Errorf("samples by metric %v, want one of each", n)
	}
}
