package snmp

import (
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/schemas"
)

// TestExistingInterfaceKeepsKeyWhenDuplicateAppears: an agent without
// ifName has one interface "Tunnel" (ifIndex 1), keyed "name=Tunnel". A
// dynamic interface with the same ifDescr then appears (ifIndex 7: a
// tunnel, a subscriber session): it is keyed "name=Tunnel (ifIndex 7)",
// and the existing interface keeps its keys, so its history, detector
// state and LLDP port key go on. Before, every interface of a repeated
// name was suffixed, the existing one too, at every namesake's coming and
// going.
func TestExistingInterfaceKeepsKeyWhenDuplicateAppears(t *testing.T) {
	objs := []gosnmp.SnmpPDU{ // in OID order
		{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(100000)},
		{Name: colIfDescr + ".1", Type: gosnmp.OctetString, Value: []byte("Tunnel")},
		{Name: oidIfEntry + ".14.1", Type: gosnmp.Counter32, Value: uint(100)},
	}
	a := newFixedAgent(t, objs)
	var st state
	keysOf := func(got []schemas.Sample) map[string]bool {
		out := map[string]bool{}
		for _, s := range got {
			if s.Metric == schemas.MetricInErrors && s.U64 == 100 {
				out[s.Keys] = true
			}
		}
		return out
	}
	if k := keysOf(a.pollOnce(t, &st)); !k["name=Tunnel"] {
		t.Fatalf("setup: first poll keys %v, want name=Tunnel", k)
	}
	a.mu.Lock()
	a.objs = []gosnmp.SnmpPDU{
		{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(100500)},
		{Name: colIfDescr + ".1", Type: gosnmp.OctetString, Value: []byte("Tunnel")},
		{Name: colIfDescr + ".7", Type: gosnmp.OctetString, Value: []byte("Tunnel")}, // appears
		{Name: oidIfEntry + ".14.1", Type: gosnmp.Counter32, Value: uint(100)},
		{Name: oidIfEntry + ".14.7", Type: gosnmp.Counter32, Value: uint(3)},
	}
	a.mu.Unlock()
	if k := keysOf(a.pollOnce(t, &st)); !k["name=Tunnel"] {
		t.Errorf("ifIndex 1's in-errors are now keyed %v, not name=Tunnel: a namesake appearing renamed an existing series", k)
	}
}
