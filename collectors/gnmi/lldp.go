package gnmi

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// LLDP neighbour counts. A device publishes an LLDP neighbour's leaves
// (lldpNeighborEntry, keyed name=LOCALPORT,id=NEIGHBOR) while it has the
// neighbour, and a delete of its list entry (or of a subtree above it)
// when the neighbour is gone: no leaf says "gone". The decoder keeps, per
// local port, the set of neighbour ids it has seen, and when the set
// changes within a notification it publishes the port's count
// (schemas.MetricLLDPNeighbors, keyed like the interface) at the
// notification's time, after its updates and deletes. Only LLDP leaves and
// deletes under /lldp do this work. A target that sends no delete (some
// do not in SAMPLE mode) never shows a count drop: its losses are not
// seen.

// lldpNeighbor is the local port and id of an LLDP neighbour's leaf.
type lldpNeighbor struct{ port, id string }

// newLLDPNeighbor returns the neighbour of canonical keys, nil when they
// are not "name=PORT,id=ID" (a list below the neighbour's).
func newLLDPNeighbor(keys string) *lldpNeighbor {
	port, id, ok := schemas.ParseLLDPNeighborKeys(keys)
	if !ok {
		return nil
	}
	return &lldpNeighbor{port: port, id: id}
}

// lldpPort is the neighbours the decoder has seen on one local port.
type lldpPort struct {
	ids   map[string]struct{}
	count *series // its schemas.MetricLLDPNeighbors series
	dirty bool    // in d.lldpDirty
}

// noteLLDP records that a leaf of neighbour n came: a new id changes its
// port's count.
func (d *Decoder) noteLLDP(n *lldpNeighbor) {
	p := d.lldp[n.port]
	if p == nil {
		if d.lldp == nil {
			d.lldp = map[string]*lldpPort{}
		}
		keys := schemas.LLDPPortKeys(n.port)
		p = &lldpPort{ids: map[string]struct{}{},
			count: &series{metric: schemas.MetricLLDPNeighbors, keys: keys, kind: schemas.KindGauge,
				info: leafInfo{kind: schemas.KindGauge}, lastTS: sentinelTS}}
		d.lldp[n.port] = p
		d.cacheBytes += len(n.port) + len(keys) + seriesEntryBytes
	}
	if _, ok := p.ids[n.id]; ok {
		return
	}
	p.ids[n.id] = struct{}{}
	d.cacheBytes += len(n.id) + cacheEntryBytes
	d.changedLLDP(p)
}

func (d *Decoder) changedLLDP(p *lldpPort) {
	if !p.dirty {
		p.dirty = true
		d.lldpDirty = append(d.lldpDirty, p)
	}
}

// deleteLLDP forgets the neighbours under a deleted path (canonical metric
// and keys under /lldp): a neighbour's entry (or its state container), or
// any subtree above it, down to the whole of /lldp.
func (d *Decoder) deleteLLDP(metric, keys string) {
	if metric != lldpNeighborEntry && metric != lldpNeighborEntry+"/state" &&
		!strings.HasPrefix(lldpNeighborEntry, metric+"/") {
		return
	}
	for port, p := range d.lldp {
		for id := range p.ids {
			if keysWithin(schemas.LLDPNeighborKeys(port, id), keys) {
				delete(p.ids, id)
				d.changedLLDP(p)
			}
		}
	}
}

// countLLDP publishes the count of every port whose neighbours changed in
// the notification, at ts (or just after the port's previous count, so that
// a change is never dropped as a duplicate).
func (d *Decoder) countLLDP(ts int64) int {
	n := 0
	for _, p := range d.lldpDirty {
		p.dirty = false
		d.s.F64 = float64(len(p.ids))
		n += d.emit(p.count, max(ts, p.count.lastTS+1))
	}
	d.lldpDirty = d.lldpDirty[:0]
	return n
}
