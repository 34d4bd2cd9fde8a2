package snmp

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// LLDP-MIB (IEEE 802.1AB-2005, lldpMIB 1.0.8802.1.1.2) columns read with
// mibs: [..., lldp].
//
// lldpRemTable is indexed by lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex;
// each row is one neighbour seen on a local port. lldpLocPortTable, indexed
// by lldpLocPortNum, names the local port.
const (
	oidLLDPRem          = ".1.0.8802.1.1.2.1.4.1.1" // lldpRemEntry
	colLLDPRemChassisST = oidLLDPRem + ".4"         // lldpRemChassisIdSubtype
	colLLDPRemChassisID = oidLLDPRem + ".5"         // lldpRemChassisId
	colLLDPRemPortST    = oidLLDPRem + ".6"         // lldpRemPortIdSubtype
	colLLDPRemPortID    = oidLLDPRem + ".7"         // lldpRemPortId
	colLLDPRemSysName   = oidLLDPRem + ".9"         // lldpRemSysName
	oidLLDPLocPort      = ".1.0.8802.1.1.2.1.3.7.1" // lldpLocPortEntry
	colLLDPLocPortST    = oidLLDPLocPort + ".2"     // lldpLocPortIdSubtype
	colLLDPLocPortID    = oidLLDPLocPort + ".3"     // lldpLocPortId
	colLLDPLocPortDesc  = oidLLDPLocPort + ".4"     // lldpLocPortDesc
)

// Subtypes of LLDP-MIB ids that are not text.
const (
	chassisMAC, chassisNetAddr = 4, 5 // LldpChassisIdSubtype macAddress, networkAddress
	portMAC, portNetAddr       = 3, 4 // LldpPortIdSubtype macAddress, networkAddress
	portInterfaceName          = 5    // LldpPortIdSubtype interfaceName
)

// walkLLDP walks lldpRemTable and, when it has rows, lldpLocPortTable into
// tab. It returns the varbinds received and whether the agent has
// neighbours.
func walkLLDP(g *gosnmp.GoSNMP, tab table) (int, bool, error) {
	n, err := walkColumns(g, []string{colLLDPRemChassisST, colLLDPRemChassisID, colLLDPRemPortST, colLLDPRemPortID, colLLDPRemSysName}, tab)
	if err != nil || len(tab[colLLDPRemChassisID])+len(tab[colLLDPRemPortID])+len(tab[colLLDPRemSysName]) == 0 {
		return n, false, err
	}
	m, err := walkColumns(g, []string{colLLDPLocPortST, colLLDPLocPortID, colLLDPLocPortDesc}, tab)
	return n + m, true, err
}

// appendLLDP appends each LLDP neighbour's system name and port id under
// the OpenConfig names, keyed by schemas.LLDPNeighborKeys(local port,
// neighbour id); it returns how many samples it appended.
//
// The local port is named by lldpLocPortId when its subtype is
// interfaceName, else by lldpLocPortDesc, else by ifName of the ifIndex
// equal to the local port number (as most agents number ports; needs mibs
// if), else "lldpLocPortNum" and the number. A port so named after the
// interface of its number, by a name that repeats on the agent, is named
// as that interface's series are keyed (interfaceNames: "Ethernet
// (ifIndex 2)"). The neighbour id is its chassis id (a MAC address as
// aa:bb:cc:dd:ee:ff), or "lldpRemIndex" and the row's index when the agent
// gives none. A port id that is a MAC or network address is formatted the
// same way.
//
// It then appends each local port's count of neighbours
// (schemas.MetricLLDPNeighbors, keyed like the interface), for every port
// that has had a neighbour since the collector started (st remembers
// them): a port whose neighbours are gone publishes 0, every poll, as
// lldpRemTable has no row to say so.
func appendLLDP(tab table, ts int64, st *state, b *publish.Batch, res *pollResult) int {
	rows := map[string]bool{}
	for _, col := range []string{colLLDPRemChassisID, colLLDPRemPortID, colLLDPRemSysName} {
		for idx := range tab[col] {
			rows[idx] = true
		}
	}
	n := 0
	s := schemas.Sample{TS: ts, Kind: schemas.KindState}
	counts := map[string]int{} // local port → neighbours
	var ifs map[string]ifaceName
	if len(rows) > 0 {
		ifs = interfaceNames(tab, &pollResult{}) // appendInterfaces counted its repairs
	}
	for idx := range rows {
		parts := strings.Split(idx, ".")
		if len(parts) != 3 {
			continue // not TimeMark.LocalPortNum.Index
		}
		port := localPortName(tab, parts[1], res)
		if i, ok := ifs[parts[1]]; ok && i.base == port {
			port = i.unique
		}
		counts[port]++
		id := lldpID(tab[colLLDPRemChassisID][idx], subtype(tab[colLLDPRemChassisST][idx]), chassisMAC, chassisNetAddr, res)
		if id == "" {
			id = "lldpRemIndex" + parts[2]
		}
		s.Keys = schemas.LLDPNeighborKeys(port, id) // escapes them
		for _, v := range []struct{ metric, val string }{
			{schemas.MetricLLDPNeighborSystemName, res.text(tab[colLLDPRemSysName][idx])},
			{schemas.MetricLLDPNeighborPortID, lldpID(tab[colLLDPRemPortID][idx], subtype(tab[colLLDPRemPortST][idx]), portMAC, portNetAddr, res)},
		} {
			if v.val == "" {
				continue // not advertised
			}
			s.Metric, s.Str = v.metric, v.val
			b.Append(&s)
			n++
		}
	}
	return n + appendLLDPCounts(counts, ts, st, b)
}

// appendLLDPCounts appends the neighbour count of every port in counts or
// remembered in st (0 for those not in counts), in port order, and
// remembers the ports of counts.
func appendLLDPCounts(counts map[string]int, ts int64, st *state, b *publish.Batch) int {
	if st.lldpPorts == nil && len(counts) == 0 {
		return 0
	}
	if st.lldpPorts == nil {
		st.lldpPorts = map[string]bool{}
	}
	for p := range counts {
		st.lldpPorts[p] = true
	}
	s := schemas.Sample{TS: ts, Metric: schemas.MetricLLDPNeighbors, Kind: schemas.KindGauge}
	for _, p := range slices.Sorted(maps.Keys(st.lldpPorts)) {
		s.Keys, s.F64 = schemas.LLDPPortKeys(p), float64(counts[p])
		b.Append(&s)
	}
	return len(st.lldpPorts)
}

// localPortName names local port num (see appendLLDP).
func localPortName(tab table, num string, res *pollResult) string {
	if subtype(tab[colLLDPLocPortST][num]) == portInterfaceName {
		if name := res.text(tab[colLLDPLocPortID][num]); name != "" {
			return name
		}
	}
	if desc := res.text(tab[colLLDPLocPortDesc][num]); desc != "" {
		return desc
	}
	if name := res.text(tab[colIfName][num]); name != "" {
		return name
	}
	return "lldpLocPortNum" + num
}

func subtype(v gosnmp.SnmpPDU) int {
	if v.Value == nil {
		return 0
	}
	return int(gosnmp.ToBigInt(v.Value).Int64())
}

// lldpID formats a chassis or port id by its subtype: a MAC address as
// colon-separated hex, a network address (IANA address family, then the
// address) as an IP address, anything else as text.
func lldpID(v gosnmp.SnmpPDU, st, mac, netAddr int, res *pollResult) string {
	raw, _ := v.Value.([]byte)
	switch {
	case st == mac && len(raw) > 0:
		return colonHex(raw)
	case st == netAddr && len(raw) > 1:
		if a, ok := netip.AddrFromSlice(raw[1:]); ok && (raw[0] == 1 || raw[0] == 2) {
			return a.String()
		}
		return colonHex(raw)
	}
	return res.text(v)
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
