package gnmi

import (
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// LLDP neighbour counts. A device publishes an LLDP neighbour's leaves
// (lldpNeighborEntry, keyed name=LOCALPORT,id=NEIGHBOR) while it has the
// neighbour, and a delete of its list entry (or of a subtree above it)
// when the neighbour is gone: no leaf says "gone". A delete may name only
// some keys (neighbor[id=X] of any interface): the others are wildcards
// (keyMatch in decode.go). The decoder keeps, per local port, the
// neighbour entries it has seen, and when the number of distinct
// neighbours among them changes within a notification it publishes the
// port's count (schemas.MetricLLDPNeighbors, keyed like the interface) at
// the notification's time, after its updates and deletes. Only LLDP
// leaves and deletes under /lldp do this work.
//
// Distinct neighbours. The count's drop is what the detect stage reads
// as a lost neighbour (lldp_neighbor_lost), so one neighbour's entries
// count once: a neighbour is its chassis id and port id when both came
// in the notification that brought its entry (lldpWho), else its entry
// id. An entry keeps what it was told: chassis and port ids coming in a
// later notification would merge two entries and drop the count with no
// neighbour lost, so such an entry counts on its own: with a target that
// sends them apart from an entry's first leaves, a neighbour of two
// agents counts twice, and one of its agents aging out reads as a loss.
// So do chassis and port ids that are not text (a chassis id of digits in
// JSON_IETF, read as a gauge).
//
// IEEE 802.1AB. A device that streams ieee802-dot1ab-lldp instead
// (ieeeLLDPEntry: /lldp/port[name][dest-mac-address]/
// remote-systems-data[time-mark][remote-index]) has its neighbours counted
// the same way, each one's id being its agent's destination MAC address,
// time mark and remote index ("01-80-C2-00-00-0E/0/1"): its list entry's
// keys less the local port. Its system-name and port-id are published
// under the vocabulary's names too (schemas.MetricLLDPNeighborSystemName
// and PortID, keyed schemas.LLDPNeighborKeys of the port and that id),
// besides their own paths, as the SNMP collector maps LLDP-MIB: the
// inventory makes its links of those, so the same neighbours give the
// same links and counts in either model. A neighbour seen by two agents
// of one port (nearest bridge and nearest customer bridge) is two entries
// of the model, and one of a device streaming both models one entry of
// each: they count once (see above), and the count stays while one of
// them is left. A delete of /lldp/port[name=P] is every agent of port P.
//
// Aging. Many targets send no delete in SAMPLE mode: a neighbour that
// goes simply stops being sampled. When the stream's resend interval is
// known (DecoderConfig.ResendInterval: a SAMPLE subscription's sample
// interval, ONCE and POLL's interval between requests), a neighbour that
// is not sent again is aged out:
//
//   - Each neighbour keeps the device timestamp of its last sample. Once
//     it has been sampled twice with timestamps at least half an interval
//     apart (proof that the target stamps samples with the sample time,
//     not with the neighbour's last change), it may age.
//   - At the end of a notification of the stream (a sample cycle of the
//     subscription goes on), at most once per half interval of device
//     time, every neighbour that may age and whose last sample is more
//     than the hold time older than the notification is dropped; its
//     port's count is published at the notification's time, the first
//     the stream showed that proves it stale. Any notification does: one
//     of LLDP neighbour leaves, or of the target's other leaves (its
//     counters), so a target whose last neighbour goes, and with it every
//     LLDP sample, still ages it out. A notification without LLDP leaves
//     that is behind the stream's latest (a last-change stamp resent, a
//     line card whose clock is behind) says nothing of the present and
//     ages nothing; when the LLDP leaves came more than minClockStep
//     behind the stream's clock, one ages on their clock (see ageIdle).
//   - The hold time is 3 × the larger of the resend interval and the
//     median gap between a neighbour's samples over the last
//     lldpCadenceGaps gaps the stream saw, and at least lldpMinHold: a
//     target that samples slower than asked (many clamp LLDP to their own
//     minimum) or skips a cycle stretches it, so a neighbour still there
//     is not dropped. Timestamp jitter within a cycle is far below it.
//   - A resubscription (Reconnected) starts the hold over: no neighbour
//     ages before a hold time has passed since the new subscription's
//     first LLDP sample, so its first cycle, however spread, re-learns
//     the neighbours still there, and those lost meanwhile age out after.
//     When the new subscription sends no LLDP sample at all (its last
//     neighbour went while the stream was away), the hold starts at its
//     first notification. So does an LLDP sample more than a hold time
//     after the stream's latest one, which the collector cannot see: the
//     device's clock stepped forward, or the target paused its sampling
//     (likewise any notification more than a hold time after the
//     stream's latest); and one more than a hold time before it (the
//     clock stepped back, also seen by deduplication: dedup.go), which
//     also brings the neighbours' last samples back to its time, so aging
//     goes on without waiting for the clock to catch up.
//
// Why time and not cycle boundaries: a sync_response only ends the
// initial snapshot (gNMI sends none per sample cycle, and some targets
// none at all), and targets split a cycle into one notification per
// neighbour, per port or per device, with timestamps that may differ
// within a cycle; the device clock and the resend interval are what every
// vendor gives. Without a resend interval (ON_CHANGE, TARGET_DEFINED,
// suppress_redundant: the target sends a neighbour once, deletes it when
// it goes, and never re-sends it unchanged) nothing ages.
//
// Limits: aging needs notifications to keep coming on the stream, so on a
// subscription of LLDP neighbours alone a target whose last neighbour
// goes sends nothing more and shows no drop (subscribe LLDP with the
// target's other leaves, as the default subscription does); a target that
// stops sampling LLDP while it samples the rest (LLDP disabled) has its
// neighbours aged out; a target that stamps neighbours with their last
// change never ages them (its losses are seen only through deletes); a
// neighbour sampled once and gone before the next cycle is not aged.

// lldpCadenceGaps is how many recent gaps between a neighbour's samples
// the stream keeps for the median cadence.
const lldpCadenceGaps = 16

// lldpMinHold is the least hold time, whatever the resend interval:
// 10 s, like the least stall timeout.
const lldpMinHold = int64(10e9)

// lldpNeighbor is the local port and id of an LLDP neighbour's leaf, and
// the metric and canonical keys of the neighbour's list entry, which its
// deletes and aging forget; part tells the leaves that say who the
// neighbour is (its chassis id and port id).
type lldpNeighbor struct {
	port, id, entry, keys string
	part                  uint8 // lldpChassisID, lldpPortID, 0 for the other leaves
}

// Values of lldpNeighbor.part.
const (
	lldpChassisID = 1 + iota
	lldpPortID
)

// lldpPart returns the lldpNeighbor.part of a leaf below an entry.
func lldpPart(leaf string) uint8 {
	switch leaf {
	case "/chassis-id", "/state/chassis-id":
		return lldpChassisID
	case "/port-id", "/state/port-id":
		return lldpPortID
	}
	return 0
}

// newLLDPNeighbor returns the neighbour of an LLDP neighbour's leaf of
// metric and canonical keys, nil when the keys are not its entry's
// ("name=PORT,id=ID", or the IEEE form's four keys): a list below the
// neighbour's.
func newLLDPNeighbor(metric, keys string) *lldpNeighbor {
	if strings.HasPrefix(metric, ieeeLLDPEntry+"/") {
		agent, port := schemas.KeyValue(keys, "dest-mac-address"), schemas.KeyValue(keys, "name")
		tm, idx := schemas.KeyValue(keys, "time-mark"), schemas.KeyValue(keys, "remote-index")
		if keys != "dest-mac-address="+schemas.EscapeKeyValue(agent)+",name="+schemas.EscapeKeyValue(port)+
			",remote-index="+schemas.EscapeKeyValue(idx)+",time-mark="+schemas.EscapeKeyValue(tm) {
			return nil
		}
		return &lldpNeighbor{port: port, id: agent + "/" + tm + "/" + idx, entry: ieeeLLDPEntry, keys: keys,
			part: lldpPart(metric[len(ieeeLLDPEntry):])}
	}
	port, id, ok := schemas.ParseLLDPNeighborKeys(keys)
	if !ok {
		return nil
	}
	return &lldpNeighbor{port: port, id: id, entry: lldpNeighborEntry, keys: keys,
		part: lldpPart(strings.TrimPrefix(metric, lldpNeighborEntry))}
}

// lldpAlias returns the vocabulary's series that an ieee802-dot1ab-lldp
// neighbour's leaf (metric, of neighbour n) is published under too: its
// system-name and port-id, which the inventory reads; nil for the others.
func lldpAlias(metric string, n *lldpNeighbor) *series {
	var name string
	switch metric {
	case ieeeLLDPEntry + "/system-name":
		name = schemas.MetricLLDPNeighborSystemName
	case ieeeLLDPEntry + "/port-id":
		name = schemas.MetricLLDPNeighborPortID
	default:
		return nil
	}
	return &series{metric: name, keys: schemas.LLDPNeighborKeys(n.port, n.id), kind: schemas.KindState,
		info: leafInfo{kind: schemas.KindState}, lastTS: sentinelTS}
}

// lldpPort is the neighbours the decoder has seen on one local port.
type lldpPort struct {
	ids   map[string]lldpSeen // by entry id
	count *series             // its schemas.MetricLLDPNeighbors series
	at    int64               // time of its last published count
	n     int                 // its last published count; -1 before (countLLDP)
	dirty bool                // in d.lldpDirty
}

// lldpSeen is what the decoder knows of one neighbour's entry.
type lldpSeen struct {
	last    int64         // device time of its latest sample
	sampled bool          // sampled again at least half an interval later: may age
	nbr     *lldpNeighbor // its entry
	// who is the neighbour it counts as (told, at the end of the
	// notification that brought the entry): its chassis and port ids
	// when both came in that notification, which chassis and portID
	// gather till then, else its id (lldpWho).
	who, chassis, portID string
	told                 bool
}

// lldpAging is a stream's aging state (see above); zero resend: none.
type lldpAging struct {
	resend   int64 // ns; 0: the target sends changes only, nothing ages
	start    int64 // first LLDP sample of the subscription; sentinelTS before
	since    int64 // start, or the sample after a jump, or the subscription's first notification; sentinelTS before
	clock    int64 // latest LLDP sample since start
	lastHold int64 // hold time of the last aging pass
	lastPass int64 // device time of the last aging pass
	gaps     [lldpCadenceGaps]int64
	ngaps    int // gaps filled
	next     int // next gap to overwrite
	// lag is how far the latest notification of LLDP neighbour leaves was
	// behind the stream's clock (Decoder.clock): the LLDP leaves stamped
	// by a clock behind the one of the target's other leaves (see ageIdle).
	lag int64
}

func newLLDPAging(resend int64) lldpAging {
	return lldpAging{resend: resend, start: sentinelTS, since: sentinelTS, lastPass: sentinelTS,
		lastHold: max(3*resend, lldpMinHold)}
}

// hold returns the hold time: 3 × the larger of the resend interval and
// the median recent gap, at least lldpMinHold.
func (a *lldpAging) hold() int64 {
	iv := a.resend
	if a.ngaps > 0 {
		var g [lldpCadenceGaps]int64
		n := copy(g[:], a.gaps[:a.ngaps])
		slices.Sort(g[:n])
		iv = max(iv, g[n/2])
	}
	return max(3*iv, lldpMinHold)
}

// noteLLDP records that a leaf of neighbour n came at ts, of text value
// v ("" if it is not text): a new id may change its port's count.
func (d *Decoder) noteLLDP(n *lldpNeighbor, ts int64, v string) {
	d.lldpSeen = true
	a := &d.lldpAge
	if a.resend > 0 {
		switch {
		case a.start == sentinelTS: // a new subscription
			a.start, a.since, a.clock = ts, ts, ts
		case ts-a.clock > a.lastHold: // the clock stepped, or the target paused
			a.since = ts
		case a.clock-ts > a.lastHold: // the clock stepped back
			d.clockStepsBack(ts)
		}
		a.clock = max(a.clock, ts)
	}
	p := d.lldp[n.port]
	if p == nil {
		if d.lldp == nil {
			d.lldp = map[string]*lldpPort{}
		}
		keys := schemas.LLDPPortKeys(n.port)
		p = &lldpPort{ids: map[string]lldpSeen{}, n: -1,
			count: &series{metric: schemas.MetricLLDPNeighbors, keys: keys, kind: schemas.KindGauge,
				info: leafInfo{kind: schemas.KindGauge}, lastTS: sentinelTS}}
		d.lldp[n.port] = p
		d.cacheBytes += len(n.port) + len(keys) + seriesEntryBytes
	}
	s, ok := p.ids[n.id]
	if !ok {
		s = lldpSeen{last: ts, nbr: n}
		d.cacheBytes += len(n.id) + cacheEntryBytes
		d.notePart(&s, n.part, v)
		p.ids[n.id] = s
		d.changedLLDP(p)
		return
	}
	if !s.told && n.part != 0 { // a new entry's chassis or port id
		d.notePart(&s, n.part, v)
		p.ids[n.id] = s
	}
	if a.resend == 0 || ts <= s.last {
		return // the same sample's other leaves, or a stamp not newer
	}
	// A gap across a resubscription (s.last before start) says nothing of
	// the cadence; one across a jump stretches the hold a while, which is
	// safe, and teaches it the cadence of a target far slower than asked.
	if gap := ts - s.last; gap >= a.resend/2 && s.last >= a.start {
		a.gaps[a.next] = gap
		a.next = (a.next + 1) % lldpCadenceGaps
		a.ngaps = min(a.ngaps+1, lldpCadenceGaps)
		s.sampled = true
	}
	s.last = ts
	p.ids[n.id] = s
}

// clockStepsBack starts the hold over at ts, an LLDP sample more than a
// hold time before the stream's latest, like a resubscription: the aging
// pass, the stream's clock and every neighbour's last sample, which are
// ahead of the device's clock now, are brought back to ts, so aging goes
// on at once instead of when the clock catches up. Rare: it loops over
// every neighbour.
func (d *Decoder) clockStepsBack(ts int64) {
	a := &d.lldpAge
	a.start, a.since, a.clock, a.lastPass = ts, ts, ts, sentinelTS
	for _, p := range d.lldp {
		for id, s := range p.ids {
			if s.last > ts {
				s.last = ts
				p.ids[id] = s
			}
		}
	}
}

// notePart keeps v, the chassis id or port id (part) of entry s, until
// lldpWho tells who s is.
func (d *Decoder) notePart(s *lldpSeen, part uint8, v string) {
	dst := &s.chassis
	switch part {
	case 0:
		return
	case lldpPortID:
		dst = &s.portID
	}
	if *dst != v {
		d.cacheBytes += len(v) - len(*dst)
		*dst = strings.Clone(v) // v may alias the response
	}
}

func (d *Decoder) changedLLDP(p *lldpPort) {
	if !p.dirty {
		p.dirty = true
		d.lldpDirty = append(d.lldpDirty, p)
	}
}

// forgetLLDP drops neighbour id, s, of port p.
func (d *Decoder) forgetLLDP(p *lldpPort, id string, s lldpSeen) {
	delete(p.ids, id)
	d.cacheBytes -= len(id) + len(s.who) + len(s.chassis) + len(s.portID) + cacheEntryBytes
	d.changedLLDP(p)
}

// deleteLLDP forgets the neighbours under a deleted path (canonical metric
// and keys under /lldp): a neighbour's entry (or its state container), or
// any subtree above it, down to the whole of /lldp, whose keys within
// accepts (keyMatch).
func (d *Decoder) deleteLLDP(metric string, within func(metric, keys string) bool) {
	for _, p := range d.lldp {
		for id, s := range p.ids {
			e := s.nbr.entry
			if (metric == e || strings.HasPrefix(metric, e) && metric[len(e):] == "/state" ||
				len(e) > len(metric) && e[len(metric)] == '/' && strings.HasPrefix(e, metric)) && within(e, s.nbr.keys) {
				d.forgetLLDP(p, id, s)
			}
		}
	}
}

// ageIdle runs the aging pass at ts, a notification without LLDP
// neighbour leaves; prev is the stream's clock before it (Decoder.clock).
// One behind prev ages nothing; a new subscription's first notification
// starts its hold, and so does one more than a hold time after prev (the
// clock stepped forward, or the stream was quiet), as an LLDP sample
// would. When the LLDP leaves came more than minClockStep behind the
// stream's clock (a line card stamping the other leaves runs ahead of the
// clock that stamps LLDP), the pass runs at ts moved back by that lag, on
// the LLDP leaves' clock: else every neighbour sampled twice would age
// out at each pass and come back at its next sample.
func (d *Decoder) ageIdle(ts, prev int64) {
	a := &d.lldpAge
	at := ts
	if a.lag > minClockStep {
		at -= a.lag
	}
	switch {
	case prev != sentinelTS && ts < prev:
		return
	case a.since == sentinelTS:
		a.since = at
	case prev != sentinelTS && ts-prev > a.lastHold:
		a.since = at
	}
	d.ageLLDP(at)
}

// ageLLDP drops the neighbours not sampled for a hold time before ts, the
// time of a notification of the stream, with their
// leaves' series (as a delete of their entry would), and forgets the
// ports that have had no neighbour for a hold time (their 0 long
// published), so ports and neighbours that go leave no state.
func (d *Decoder) ageLLDP(ts int64) {
	a := &d.lldpAge
	if a.resend == 0 || (a.lastPass != sentinelTS && ts-a.lastPass < a.resend/2) {
		return
	}
	a.lastPass = ts
	hold := a.hold()
	a.lastHold = hold
	if ts-a.since <= hold {
		return // a new subscription's first cycles: still re-learning
	}
	var aged map[string][]string // by entry, the keys of the neighbours aged out (rare: allocates)
	for port, p := range d.lldp {
		for id, s := range p.ids {
			if s.sampled && ts-max(s.last, a.since) > hold {
				d.forgetLLDP(p, id, s)
				if aged == nil {
					aged = map[string][]string{}
				}
				aged[s.nbr.entry] = append(aged[s.nbr.entry], s.nbr.keys)
				d.stats.LLDPAged++
			}
		}
		if len(p.ids) == 0 && !p.dirty && ts-p.at > hold {
			delete(d.lldp, port)
			d.cacheBytes -= len(port) + len(p.count.keys) + seriesEntryBytes
		}
	}
	for entry, keys := range aged {
		// Their leaves' series, in one scan per model.
		d.forget(entry, func(_, k string) bool {
			return slices.ContainsFunc(keys, func(e string) bool { return keysWithin(k, e) })
		})
	}
}

// Reconnected tells the decoder that its stream subscribes again after a
// failure: the target's first cycle re-learns the neighbours, so none is
// aged out before a hold time of the new subscription has passed. The
// collector calls it; a decoder used on one subscription need not.
func (d *Decoder) Reconnected() {
	d.lldpAge.start = sentinelTS
	d.lldpAge.since = sentinelTS
	d.lldpAge.lastPass = sentinelTS
}

// countLLDP publishes the count of every port whose neighbours changed in
// the notification, when it changed, at ts (or just after the port's
// previous count, so that a change is never dropped as a duplicate; not
// after a count from before the device's clock stepped back, which is
// ahead of ts). The count is of distinct neighbours (lldpWho).
func (d *Decoder) countLLDP(ts int64) int {
	n := 0
	for _, p := range d.lldpDirty {
		p.dirty = false
		c := d.lldpWho(p)
		if c == p.n {
			continue // one of a neighbour's entries went or came
		}
		d.s.F64 = float64(c)
		p.at = ts
		if last := p.count.lastTS; ts == last || ts < last && !d.afterStep(p.count, ts) {
			p.at = last + 1
		}
		// The last count published: one dropped with its notification
		// (a timestamp out of bounds) is not, and the next change is
		// compared with the one before it.
		if k := d.emit(p.count, p.at); k > 0 {
			p.n = c
			n += k
		}
	}
	d.lldpDirty = d.lldpDirty[:0]
	return n
}

// lldpWho tells who the new entries of port p are, and returns the
// number of distinct neighbours among its entries. A neighbour is its
// chassis id and port id, which the entries of one neighbour share: those
// of the port's two LLDP agents (nearest bridge, nearest customer
// bridge), those of the two models on a device streaming both. An entry
// is told who it is at the end of the notification that brought it, from
// the chassis and port ids that came with it, else by its id, and keeps
// that: ids that came later would merge it into another entry's
// neighbour, and the count's drop would read as a lost neighbour.
func (d *Decoder) lldpWho(p *lldpPort) int {
	for id, s := range p.ids {
		if s.told {
			continue
		}
		size := len(s.chassis) + len(s.portID)
		if s.chassis != "" && s.portID != "" {
			s.who = s.chassis + "\x00" + s.portID
		} else {
			s.who = id
		}
		s.chassis, s.portID, s.told = "", "", true
		d.cacheBytes += len(s.who) - size
		p.ids[id] = s
	}
	if len(p.ids) < 2 {
		return len(p.ids)
	}
	if d.lldpWhos == nil {
		d.lldpWhos = map[string]struct{}{}
	}
	clear(d.lldpWhos)
	for _, s := range p.ids {
		d.lldpWhos[s.who] = struct{}{}
	}
	return len(d.lldpWhos)
}
