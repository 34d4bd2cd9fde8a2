package detect

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/peer"
	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// PeerRule is the detector name, and the value of the "rule" label, of
// the detections of the sibling rule (detectors/peer): a fan turning
// slower, or a power supply less efficient, than its siblings on the same
// device, beyond its usual offset from them (a wear the load's daily swing
// hides from each series alone). A fan's detection is on its speed, a
// power supply's on its efficiency (schemas.MetricPSUEfficiency, derived
// from its output and input power); each is apart from the ensemble's
// alerts (the label gives it its own fingerprint).
const PeerRule = "peer"

// peerPrefix starts the metric of a sibling group's changelog record
// (key: device, peerPrefix+kind, no keys).
const peerPrefix = "peer/"

// peerGroupBytes is the memory of a sibling group besides its members,
// and peerMemberBytes of a member with a short name.
const (
	peerGroupBytes  = 96
	peerMemberBytes = peer.MemberBytes + 16
)

// peerKey names a sibling group within a partition.
type peerKey struct {
	device string
	kind   peer.Kind
}

// peerGroup is the sibling group of one kind of component on one device.
type peerGroup struct {
	g     *peer.Group
	key   schemas.SeriesKey // its changelog key
	dirty bool
	bytes int // the memory counted for it
}

// peerState is the sibling rule's state: its configuration and the
// groups of every partition.
type peerState struct {
	rule    *peer.Rule
	parts   map[int32]map[peerKey]*peerGroup
	dirty   []*peerGroup
	dirtyAt []int32 // the partition of each dirty group
	changes []peer.Change
	// gen counts the restores and drops of groups; a series' cached group
	// (seriesState.pg) is valid while its pgGen equals it. It starts at 1,
	// so a series that has cached nothing is never valid.
	gen uint64
}

// initPeer makes the sibling rule.
func (d *Stage) initPeer(cfg peer.Config) error {
	r, err := peer.New(cfg)
	if err != nil {
		return err
	}
	d.peers = peerState{rule: r, parts: map[int32]map[peerKey]*peerGroup{}, gen: 1}
	return nil
}

// peerGroupOf returns partition p's group of kind on device, made on
// first use.
func (d *Stage) peerGroupOf(p int32, device string, kind peer.Kind) *peerGroup {
	gs := d.peers.parts[p]
	if gs == nil {
		gs = map[peerKey]*peerGroup{}
		d.peers.parts[p] = gs
	}
	k := peerKey{device: device, kind: kind}
	pg := gs[k]
	if pg == nil {
		pg = &peerGroup{g: d.peers.rule.Group(kind), key: schemas.SeriesKey{Device: device, Metric: peerPrefix + kind.String()}}
		gs[k] = pg
		d.countPeer(pg)
	}
	return pg
}

// countPeer brings the state bytes counted for pg up to date.
func (d *Stage) countPeer(pg *peerGroup) {
	n := peerGroupBytes + peerMemberBytes*pg.g.Members()
	if n != pg.bytes { // an atomic add per point otherwise, of 0 almost always
		d.stateBytes.Add(int64(n - pg.bytes))
		pg.bytes = n
	}
}

// scorePeer feeds the value x at ts of a fan's or power supply's gauge
// (st, of partition p) to its device's sibling group and emits the
// detections of the alerts that changed; other series pass.
func (d *Stage) scorePeer(p int32, st *seriesState, ts int64, x float64, emit func(*kgo.Record)) error {
	if st.kind != schemas.KindGauge {
		return nil
	}
	pg := st.pg
	if st.pgGen != d.peers.gen {
		// Looked up once per series (and after a restore or drop of
		// groups), not per point: the map's key hashes the device name.
		if kind := peer.Classify(st.key.Metric); kind != peer.None {
			pg = d.peerGroupOf(p, st.key.Device, kind)
		}
		st.pg, st.pgGen = pg, d.peers.gen
	}
	if pg == nil {
		return nil
	}
	kind := pg.g.Kind()
	d.peers.changes = pg.g.AddAt(&st.pgAt, st.key.Keys, st.key.Metric, ts, x, d.peers.changes[:0])
	d.countPeer(pg)
	if !pg.dirty {
		pg.dirty = true
		d.peers.dirty, d.peers.dirtyAt = append(d.peers.dirty, pg), append(d.peers.dirtyAt, p)
	}
	for i := range d.peers.changes {
		if err := d.emitPeer(emit, st.key.Device, kind, &d.peers.changes[i]); err != nil {
			return err
		}
	}
	return nil
}

// emitPeer emits a sibling alert's detection: observed the member's
// reading, expected what its siblings and its usual offset say, the band
// Sigmas deviations of the smoothed departure around it; score 1 on
// firing, severity warning.
func (d *Stage) emitPeer(emit func(*kgo.Record), device string, kind peer.Kind, c *peer.Change) error {
	k := schemas.SeriesKey{Device: device, Metric: kind.Metric(), Keys: c.Member}
	labels := maps.Clone(schemas.AlertLabels(k.Device, k.Metric, k.Keys))
	labels["rule"] = PeerRule
	t := detections.Transition{Series: k, Firing: c.Event == peer.Fired, TS: c.TS, StartsAt: c.Since}
	det := d.det.New(t, labels)
	det.Detector, det.Detectors, det.Severity = PeerRule, []string{PeerRule}, schemas.SeverityWarning
	det.Observed, det.Expected, det.Band = c.Observed, c.Expected, c.Band
	what := map[peer.Kind]string{peer.Fan: "turns slower than its siblings", peer.PSU: "is less efficient than its siblings"}[kind]
	if t.Firing {
		det.Score = 1
		det.Annotations["description"] = fmt.Sprintf("%s: %.4g against %.4g from the siblings' median and its usual offset (%+.2f%%, %.1f σ)",
			what, c.Observed, c.Expected, 100*c.Departure, c.Departure/c.Sigma)
	} else {
		det.Annotations["description"] = "back in line with its siblings (or gone)"
	}
	det.Annotations["summary"] = detections.Summary(PeerRule, det.State, k)
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", PeerRule, "observed", c.Observed, "expected", c.Expected, "severity", det.Severity)
	return d.det.Send(emit, det)
}

// checkpointPeers emits the changelog record of every sibling group
// changed since the last checkpoint.
func (d *Stage) checkpointPeers(emit func(partition int32, key, value []byte)) {
	for i, pg := range d.peers.dirty {
		pg.dirty = false
		v, _ := pg.g.AppendBinary(nil) // cannot fail: plain values
		emit(d.peers.dirtyAt[i], pipeline.StateKey(nil, pg.key), v)
	}
	clear(d.peers.dirty)
	d.peers.dirty, d.peers.dirtyAt = d.peers.dirty[:0], d.peers.dirtyAt[:0]
}

// restorePeer restores (or, for a tombstone, drops) a sibling group of
// partition p. A record of an unknown kind or version is skipped with a
// warning: that group starts cold.
func (d *Stage) restorePeer(p int32, k schemas.SeriesKey, value []byte) error {
	kind := peer.ParseKind(strings.TrimPrefix(k.Metric, peerPrefix))
	gk := peerKey{device: k.Device, kind: kind}
	d.peers.gen++ // the series' cached groups may be replaced
	if old := d.peers.parts[p][gk]; old != nil {
		d.stateBytes.Add(-int64(old.bytes))
		delete(d.peers.parts[p], gk)
	}
	if value == nil {
		return nil
	}
	if kind == peer.None {
		d.log.Warn("unknown sibling group kind; its state is dropped", "group", k.String())
		return nil
	}
	g := d.peers.rule.Group(kind)
	rest, err := g.Decode(value)
	switch {
	case errors.Is(err, binenc.ErrVersion):
		d.log.Warn("cannot restore sibling group state; it starts cold", "group", k.String(), "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("restore %s: %w", k, err)
	case len(rest) != 0 || g.Kind() != kind:
		return fmt.Errorf("restore %s: a %s record with %d unexpected bytes", k, g.Kind(), len(rest))
	}
	pg := d.peerGroupOf(p, k.Device, kind)
	pg.g = g
	d.countPeer(pg)
	return nil
}

// expirePeers drops the sibling groups of device, of partition ps, whose
// last series expired (expire): the alerts that fire are resolved at the
// group's latest reading plus series_expiry, as an expired series' are,
// and the group's changelog record gets a tombstone (ps.exp.gone).
func (d *Stage) expirePeers(ps *partState, device string, emit func(*kgo.Record)) error {
	gs := d.peers.parts[ps.id]
	for _, kind := range [...]peer.Kind{peer.Fan, peer.PSU} {
		k := peerKey{device: device, kind: kind}
		pg := gs[k]
		if pg == nil {
			continue
		}
		d.peers.changes = pg.g.Gone(pg.g.Last()+int64(d.cfg.SeriesExpiry), d.peers.changes[:0])
		for i := range d.peers.changes {
			if err := d.emitPeer(emit, device, kind, &d.peers.changes[i]); err != nil {
				return err
			}
		}
		d.stateBytes.Add(-int64(pg.bytes))
		delete(gs, k)
		d.peers.gen++ // no series caches it (the device has none left); for safety
		if pg.dirty {
			d.peers.undirty(func(o *peerGroup, _ int32) bool { return o == pg })
		}
		ps.exp.gone = append(ps.exp.gone, pg.key)
	}
	return nil
}

// dropPeers forgets partition p's sibling groups.
func (d *Stage) dropPeers(p int32) {
	for _, pg := range d.peers.parts[p] {
		d.stateBytes.Add(-int64(pg.bytes))
	}
	delete(d.peers.parts, p)
	d.peers.gen++ // the series' cached groups may be gone
	d.peers.undirty(func(_ *peerGroup, at int32) bool { return at == p })
}

// undirty takes the groups drop picks (by group and partition) off the
// dirty list: their state is written by no checkpoint.
func (s *peerState) undirty(drop func(*peerGroup, int32) bool) {
	keep := 0
	for i, pg := range s.dirty {
		if !drop(pg, s.dirtyAt[i]) {
			s.dirty[keep], s.dirtyAt[keep] = pg, s.dirtyAt[i]
			keep++
		}
	}
	s.dirty, s.dirtyAt = s.dirty[:keep], s.dirtyAt[:keep]
}

// peerStates adds every sibling group's record to out (SeriesStates).
func (d *Stage) peerStates(out map[schemas.SeriesKey][]byte) {
	for _, gs := range d.peers.parts {
		for _, pg := range gs {
			out[pg.key], _ = pg.g.AppendBinary(nil)
		}
	}
}
