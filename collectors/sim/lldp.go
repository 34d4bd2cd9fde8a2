package sim

import "github.com/telekernel/telekernel/schemas"

// LLDP neighbours of a fleet with a topology (Config.Topology).
//
// Every cabled port sees its peer as an LLDP neighbour
// (openconfig-lldp /lldp/interfaces/interface[name]/neighbors/neighbor[id]):
// schemas.MetricLLDPNeighborSystemName is the peer device's name and
// schemas.MetricLLDPNeighborPortID the peer's interface name, keyed by
// schemas.LLDPNeighborKeys(local port, peer device name). The neighbour id
// is the peer's name: one neighbour per port, stable across the run. Both
// are state samples, emitted every tick like oper-status, after the
// device's BGP and BFD series, per cabled port in port order.
//
// A port whose link is down (link_down, reroute, a link_flap on a cabled
// port while it holds the link down, or either end shut or without link in
// power mode) has no neighbour: as in OpenConfig, the neighbour entry
// disappears, so Next emits no LLDP sample for it and the series resumes,
// with the same values, on the first tick the link is up again (no
// relearning delay is modelled). The agent serves the vanished entry as a
// gNMI delete of the neighbour's list entry (NextFixed). Faults label no
// LLDP series: a neighbour vanishing is the link fault's symptom, already
// labelled on oper-status.
//
// Next also emits, after each cabled port's two neighbour leaves, what the
// collectors derive from them: the port's neighbour count
// (schemas.MetricLLDPNeighbors, keyed schemas.LLDPPortKeys), a gauge, 1
// while the link is up and 0 while it is down, every tick. It is no leaf
// of the device: NextFixed, which the agent serves, leaves it out
// (DeviceLeaves), and the collectors polling or subscribing to the agent
// derive it themselves.

// lldpPerSession is the number of LLDP leaves per cabled port, and
// lldpCountPerSession the number of derived LLDP series (the count).
const lldpPerSession, lldpCountPerSession = 2, 1

// lldpNeighbor returns the LLDP keys of end e of lk and what that end sees
// of its peer: system name and port id.
func (lk *link) lldpNeighbor(e int) (keys, sysName, portID string) {
	eps := [2]Endpoint{lk.A, lk.B}
	local, peer := eps[e], eps[1-e]
	return schemas.LLDPNeighborKeys(local.Interface, peer.Device), peer.Device, peer.Interface
}

// lldpSeries returns device d's LLDP series, in the order emitLLDP emits
// them in Next (nil without a topology); with leaves, the device's leaves
// only, as NextFixed emits them (no count).
func (f *Fleet) lldpSeries(d int, leaves bool) []Series {
	var out []Series
	for _, lk := range f.devices[d].sessions {
		e, _ := lk.ends(d)
		keys, _, _ := lk.lldpNeighbor(e)
		out = append(out, Series{schemas.MetricLLDPNeighborSystemName, keys, schemas.KindState},
			Series{schemas.MetricLLDPNeighborPortID, keys, schemas.KindState})
		if !leaves {
			out = append(out, Series{schemas.MetricLLDPNeighbors, schemas.LLDPPortKeys(lk.endpoint(e).Interface), schemas.KindGauge})
		}
	}
	return out
}

// endpoint returns end e of lk.
func (lk *link) endpoint(e int) Endpoint { return [2]Endpoint{lk.A, lk.B}[e] }

// lldpUp reports whether both ends of lk see each other at the current
// tick: the link is up and neither port is shut, without link or without
// an optic (power mode).
func (f *Fleet) lldpUp(lk *link) bool {
	if lk.status != "UP" {
		return false
	}
	if !f.cfg.Power {
		return true
	}
	for e := range 2 {
		it := &f.devices[lk.dev[e]].ifaces[lk.port[e]]
		if it.adminDown || it.noLink || !it.optic {
			return false
		}
	}
	return true
}

// emitLLDP emits device d's LLDP neighbours at the current tick: the
// neighbours of its cabled ports whose link is up, and each port's
// neighbour count; with f.lldpFixed, a vanished neighbour too, with an
// empty Str, and no count. It leaves s as it found it:
// the samples emitted after it reuse s and set only the fields of their
// kind, so the other series stay byte-identical to a fleet without LLDP.
func (f *Fleet) emitLLDP(d *device, s *schemas.Sample, emit func(*schemas.Sample)) {
	saved := *s
	defer func() { *s = saved }()
	for _, lk := range d.sessions {
		up := f.lldpUp(lk)
		e, _ := lk.ends(d.index)
		if up || f.lldpFixed {
			keys, sysName, portID := lk.lldpNeighbor(e)
			if !up {
				sysName, portID = "", ""
			}
			s.Kind, s.Keys, s.U64, s.F64 = schemas.KindState, keys, 0, 0
			s.Metric, s.Str = schemas.MetricLLDPNeighborSystemName, sysName
			emit(s)
			s.Metric, s.Str = schemas.MetricLLDPNeighborPortID, portID
			emit(s)
		}
		if !f.lldpFixed {
			s.Kind, s.Keys, s.Metric, s.Str, s.U64, s.F64 = schemas.KindGauge, schemas.LLDPPortKeys(lk.endpoint(e).Interface), schemas.MetricLLDPNeighbors, "", 0, 0
			if up {
				s.F64 = 1
			}
			emit(s)
		}
	}
}

// NextFixed is Next, except that an LLDP neighbour that has vanished (its
// link is down) is still emitted, with an empty Str, and the LLDP
// neighbour counts (the collectors', not the device's) are not, so every
// call yields exactly LeavesPerTick samples, each device's in the order of
// DeviceLeaves. The agent serves from that fixed layout and turns an empty
// neighbour into a gNMI delete.
func (f *Fleet) NextFixed(emit func(s *schemas.Sample)) {
	f.lldpFixed = true
	defer func() { f.lldpFixed = false }()
	f.Next(emit)
}
