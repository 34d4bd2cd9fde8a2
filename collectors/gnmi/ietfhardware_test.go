package gnmi

import "testing"

// ietfComponent is an ietf-hardware (RFC 8348) component in RFC 7951
// JSON: leaves beside the key name, a state container and sensor data.
func ietfComponent(firmware string) string {
	return `{"ietf-hardware:hardware":{"component":[{"name":"psu1","class":"iana-hardware:power-supply",` +
		`"physical-index":3,"description":"PSU 1","serial-num":"X123","firmware-rev":"` + firmware + `",` +
		`"state":{"oper-state":"enabled"},"sensor-data":{"value":512,"oper-status":"ok"}}]}}`
}

// TestIETFHardwareComponentKeys: an ietf-hardware component is keyed by
// its name, as knownListKeys says, though it has a state container, and
// its sensor value keeps its series across a firmware upgrade. Before,
// the state container made it an OpenConfig entry: class, description,
// serial number and firmware revision were keys too, never published, and
// the sensor series changed when the firmware did.
func TestIETFHardwareComponentKeys(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/", jsonv(ietfComponent("4.28.1F")))),
		notif(t, ts1+1, "", upd(t, "/", jsonv(ietfComponent("4.30.2F")))))
	var firmware []string
	for _, s := range out {
		if s.Keys != "name=psu1" {
			t.Errorf("%s {%s}, want keys name=psu1", s.Metric, s.Keys)
		}
		if s.Metric == "/hardware/component/firmware-rev" {
			firmware = append(firmware, s.Str)
		}
	}
	if len(firmware) != 2 || firmware[0] != "4.28.1F" || firmware[1] != "4.30.2F" {
		t.Errorf("firmware-rev samples %q, want 4.28.1F then 4.30.2F", firmware)
	}
}
