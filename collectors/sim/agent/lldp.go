package agent

import (
	"bytes"
	"slices"
	"strings"

	"github.com/gosnmp/gosnmp"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/schemas"
)

// LLDP neighbours come and go with their links (collectors/sim): the fleet
// gives a vanished neighbour's leaves an empty value (sim.Fleet.NextFixed),
// and the agent sends no update for them but, once, a gNMI delete of the
// neighbour's list entry
// (/lldp/interfaces/interface[name]/neighbors/neighbor[id]), in the
// notification of the step it vanished, whatever the subscription mode
// (none with Config.NoDeletes); the entry's leaves are updated again when
// the link is back.

// entryPath returns, for a leaf that may vanish, the encoded path of its
// list entry relative to the group's prefix (rel is the leaf's path
// relative to it); nil for any other leaf.
func entryPath(metric string, rel []*pb.PathElem) []byte {
	if metric != schemas.MetricLLDPNeighborSystemName && metric != schemas.MetricLLDPNeighborPortID {
		return nil
	}
	// The leaf is neighbor[id]/state/LEAF: the entry ends two elements up.
	b, err := proto.Marshal(&pb.Path{Elem: rel[:len(rel)-2]})
	if err != nil {
		panic(err) // cannot happen with plain elements
	}
	return b
}

// vanishedSample reports whether s is a vanished LLDP neighbour's leaf (an empty
// value; see sim.Fleet.NextFixed).
func vanishedSample(s *schemas.Sample) bool {
	return s.Str == "" && (s.Metric == schemas.MetricLLDPNeighborSystemName || s.Metric == schemas.MetricLLDPNeighborPortID)
}

// vanished reports whether v says the leaf's list entry is gone (an empty
// value of a leaf that may vanish). The first time after the entry was
// sent with a value, it adds the entry's delete to dels (once per entry).
func (e *entry) vanished(l *leaf, v *value, seq int64, dels *[][]byte) bool {
	if l.del == nil || v.s != "" {
		return false
	}
	if e.sent && e.last.s != "" && !slices.ContainsFunc(*dels, func(d []byte) bool { return bytes.Equal(d, l.del) }) {
		*dels = append(*dels, l.del)
	}
	e.last, e.lastSeq, e.sent = *v, seq, true
	return true
}

// LLDP-MIB (IEEE 802.1AB) tables of the SNMP responder.
const (
	oidLLDPLocPortEntry = "1.0.8802.1.1.2.1.3.7.1"
	oidLLDPRemEntry     = "1.0.8802.1.1.2.1.4.1.1"
)

// addLLDP adds LLDP-MIB: per cabled port, a lldpLocPortTable row (the
// port number is the ifIndex; lldpLocPortId is the interface name, subtype
// interfaceName) and, while its neighbour is there, a lldpRemTable row
// (time mark 0, remote index 1) with the peer's name as the chassis id
// (subtype local, so the SNMP collector's keys are the gNMI ones), the
// peer's interface as the port id (subtype interfaceName) and the peer's
// name as lldpRemSysName. A vanished neighbour has no lldpRemTable row.
func (b *mibBuilder) addLLDP() {
	for i, s := range b.series {
		if s.Metric != schemas.MetricLLDPNeighborSystemName {
			continue
		}
		port, id, _ := schemas.ParseLLDPNeighborKeys(s.Keys)
		num := strings.TrimPrefix(port, "Ethernet")
		b.add(oidLLDPLocPortEntry+".2."+num, gosnmp.Integer, 5)
		b.add(oidLLDPLocPortEntry+".3."+num, gosnmp.OctetString, []byte(port))
		sysName, portID := b.vals[i].s, b.find(schemas.MetricLLDPNeighborPortID, s.Keys)
		if sysName == "" || portID == nil {
			continue
		}
		row := ".0." + num + ".1"
		b.add(oidLLDPRemEntry+".4"+row, gosnmp.Integer, 7)
		b.add(oidLLDPRemEntry+".5"+row, gosnmp.OctetString, []byte(id))
		b.add(oidLLDPRemEntry+".6"+row, gosnmp.Integer, 5)
		b.add(oidLLDPRemEntry+".7"+row, gosnmp.OctetString, []byte(portID.s))
		b.add(oidLLDPRemEntry+".9"+row, gosnmp.OctetString, []byte(sysName))
	}
}
