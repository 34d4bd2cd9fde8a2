package snmp

import (
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/schemas"
)

// TestHCCounterMissingForAPollKeepsSeriesMonotonic: an interface whose
// ifHCInOctets is missing from one walk (a hole in ifXTable: a subagent
// that did not answer, a row not filled yet after a reload) is published
// from the 32-bit ifInOctets for that poll, and the published in-octets
// series never goes down nor jumps by the size of the 64-bit counter,
// whichever column each poll reads. Before, both columns shared one
// counter state: the 32-bit value after the 64-bit one was taken for a
// wrap, and the published counter fell by about the 64-bit value (or,
// 32-bit first, rose by it at once).
func TestHCCounterMissingForAPollKeepsSeriesMonotonic(t *testing.T) {
	const hc = uint64(5_000_000_000_000) // 5 TB since boot: far beyond 2^32
	row := func(hcOctets uint64, withHC bool) table {
		tab := table{
			colIfName:          {"1": {Type: gosnmp.OctetString, Value: []byte("Ethernet1")}},
			oidIfEntry + ".10": {"1": {Type: gosnmp.Counter32, Value: uint(uint32(hcOctets))}},
		}
		if withHC {
			tab[oidIfXEntry+".6"] = map[string]gosnmp.SnmpPDU{"1": {Type: gosnmp.Counter64, Value: hcOctets}}
		}
		return tab
	}
	for _, c := range []struct {
		name  string
		withs []bool
	}{
		{"64-bit, then a poll without it, then 64-bit again", []bool{true, true, false, true, true}},
		{"32-bit first, then 64-bit", []bool{false, false, true, true}},
	} {
		st := &state{counters: map[string]*counter{}, discon: map[string]uint64{}}
		var last uint64
		var published int
		for i, with := range c.withs {
			v := hc + uint64(i)*1_000_000 // 1 MB a poll
			for _, s := range appendTable(t, row(v, with), st, int64(i+1)) {
				if s.Metric != schemas.MetricInOctets {
					continue
				}
				if published > 0 && (s.U64 < last || s.U64-last > 1_000_000) {
					t.Errorf("%s: poll %d: in-octets %d after %d, want a rise of at most 1 MB", c.name, i, s.U64, last)
				}
				last = s.U64
				published++
			}
		}
		if published < len(c.withs)-2 {
			t.Errorf("%s: %d in-octets samples in %d polls", c.name, published, len(c.withs))
		}
	}
}
