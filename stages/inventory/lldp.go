package inventory

import (
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// neighborKey is one LLDP neighbour as a device reports it: its local
// port and the neighbour's id (the keys of the LLDP samples).
type neighborKey struct {
	device, port, id string
}

// neighbor is what the LLDP samples of one neighbour said last.
type neighbor struct {
	system, portID     string
	systemAt, portIDAt int64 // event time (ns) of the sample each came from
	seen               int64 // event time (ns) of the latest sample; 0: not yet (seeded from the topic)
}

// lldp is the LLDP neighbours the stage has seen, with the event-time
// clock their expiry runs on. It is not safe for concurrent use.
type lldp struct {
	expiry    int64 // ns
	clock     int64 // the latest LLDP sample's event time
	neighbors map[neighborKey]*neighbor
	reporters map[string]int64 // devices that sent LLDP samples: the event time of the latest
}

func newLLDP(expiry int64) *lldp {
	return &lldp{expiry: expiry, neighbors: map[neighborKey]*neighbor{}, reporters: map[string]int64{}}
}

// observe takes one LLDP sample: metric is MetricLLDPNeighborSystemName or
// MetricLLDPNeighborPortID, value its state value (empty or !ok: the
// neighbour is gone). It reports whether the neighbours changed. Strings
// are cloned before they are kept. A sample older than the latest of its
// neighbour (late, or re-ordered) changes nothing: it neither undoes a
// newer value nor removes a neighbour a newer sample confirmed.
func (l *lldp) observe(ts int64, device, metric, keys, value string, ok bool) (changed bool, valid bool) {
	port, id, good := schemas.ParseLLDPNeighborKeys(keys)
	if !good || device == "" {
		return false, false
	}
	l.clock = max(l.clock, ts)
	k := neighborKey{device, port, id}
	n := l.neighbors[k]
	if n != nil && ts < n.seen && (!ok || value == "") {
		return false, true
	}
	if !ok || value == "" {
		if n != nil {
			delete(l.neighbors, k)
			return true, true
		}
		return false, true
	}
	if n == nil {
		k = neighborKey{strings.Clone(device), strings.Clone(port), strings.Clone(id)}
		n = &neighbor{}
		l.neighbors[k] = n
		changed = true
	}
	if at, ok := l.reporters[device]; !ok {
		l.reporters[strings.Clone(device)] = ts
		changed = true
	} else if ts > at {
		l.reporters[device] = ts
	}
	n.seen = max(n.seen, ts)
	field, at := &n.system, &n.systemAt
	if metric == schemas.MetricLLDPNeighborPortID {
		field, at = &n.portID, &n.portIDAt
	}
	if ts < *at {
		return changed, true
	}
	*at = ts
	if *field != value {
		*field = strings.Clone(value)
		changed = true
	}
	return changed, true
}

// seed adds a link read back from the topic at start as a neighbour of its
// a end, not yet timed: it expires lldp.expiry after the first LLDP sample
// unless a sample confirms the link.
func (l *lldp) seed(link schemas.InvLink) {
	k := neighborKey{link.A.Device, link.A.Interface, "\x00seeded:" + link.B.String()}
	l.neighbors[k] = &neighbor{system: link.B.Device, portID: link.B.Interface}
}

// expire forgets the neighbours, and the reporting devices, not heard of
// for expiry (of event time, by the latest sample: a device renamed leaves
// under its old name) and reports whether any went.
func (l *lldp) expire() bool {
	if l.clock == 0 {
		return false // no sample yet: nothing can be judged stale
	}
	gone := false
	for k, n := range l.neighbors {
		if n.seen == 0 {
			n.seen = l.clock // seeded: the clock starts now
		}
		if l.clock-n.seen > l.expiry {
			delete(l.neighbors, k)
			gone = true
		}
	}
	for d, seen := range l.reporters {
		if l.clock-seen > l.expiry {
			delete(l.reporters, d)
			gone = true
		}
	}
	return gone
}

// links returns the links the neighbours describe, one per cable (both
// ends reporting one cable give one link, a end the lower port), skipping
// ports in taken (the operator's file says what is there). resolve maps an
// LLDP system name to a device name.
func (l *lldp) links(taken map[schemas.Port]bool, resolve func(string) string) []schemas.InvLink {
	seen := map[schemas.InvLink]bool{}
	var out []schemas.InvLink
	for k, n := range l.neighbors {
		if n.system == "" || n.portID == "" {
			continue
		}
		a, b := schemas.Port{Device: k.device, Interface: k.port}, schemas.Port{Device: resolve(n.system), Interface: n.portID}
		if taken[a] || taken[b] || a == b {
			continue
		}
		if comparePort(b, a) < 0 {
			a, b = b, a
		}
		if link := (schemas.InvLink{A: a, B: b}); !seen[link] {
			seen[link] = true
			out = append(out, link)
		}
	}
	slices.SortFunc(out, compareLink)
	return out
}
