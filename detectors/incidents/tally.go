package incidents

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// A long incident is described at every detection that joins it, and
// checked against the incidents near it for a merge, and a pass over its
// members each time made a storm that ends in one incident (a spine's
// thousands of links) quadratic. So an incident of longFrom members or
// more keeps, besides its memo (engine.go), a tally of what describe
// reads of them, its entities in order (rules.go), its candidates for
// a lost target's incident (anyJoinsTarget) and its ports and link states
// (linkMemo), which Add brings up to date with the member it inserts
// (rememberAdded). The tally holds the
// severity, the link states down by device and port (sorted, with their
// far ends, for the link, far-end and target rules), whether they were
// all down at one instant (atOnce), the detection ids (for the evidence
// listed). The rules that read every member only in a rarer shape (a
// shut, an incident with no link down) still go over them. Each is
// current while it counts as many members and the same inventory;
// anything else that adds members (a merge) or turns effects into members
// (reclaim) leaves it to be taken afresh.

// defaultLongFrom is the fewest members of an incident that keeps a
// tally, its entities and its candidates (see Engine.longFrom): a
// storm's thousands of small incidents would hold maps each for little
// gain.
const defaultLongFrom = 64

// longFrom returns the fewest members of an incident that keeps a tally,
// its entities and its candidates: defaultLongFrom, or what a test set
// (Engine.long).
func (e *Engine) longFrom() int {
	if e.long == 0 {
		return defaultLongFrom
	}
	return e.long
}

// tally is what describe reads of an incident's first n members, with
// the inventory generation it was taken with.
type tally struct {
	n, inv int
	sev    int // the highest rank of a member's severity (not effects)
	shuts  int // admin_down members on a port (effects too, as shuts)
	// flapping and targetFlapping are judge's.
	flapping, targetFlapping bool
	// down is judge's: device → interfaces with a link-state member;
	// ports are the same by device then interface, names their String,
	// devs the devices, sorted, wide those of DeviceInterfaces ports or
	// more, sorted.
	down  map[string][]string
	ports []schemas.Port
	names []string
	devs  []string
	wide  []string
	// far counts the ports of down by the device their inventory peer is
	// on; noPeer those with none.
	far    map[string]int
	noPeer int
	// atOnce's: each link-state alert's onset and end; how many alerts
	// have their onset at each event time, the latest of those times; the
	// earliest end, if ended.
	spans  map[string]*span
	onsets map[int64]int
	last   int64
	end    int64
	ended  bool
	ids    map[string]int // the members by detection id
	// Strings the rules join from ports and devs, with the count of
	// ports (and, for but, target devices) they were taken at; -1: never.
	listN, devsN, linksN int
	list, devList        string
	links                string
	nLinks               int
	bothEnds             bool
	butN, butT, butCount int
	but                  string
}

// span is one link-state alert's onset (its first firing, in
// memberOrder) and end (its first resolution after that), as atOnce
// takes them; early are its resolutions before its first firing.
type span struct {
	first, end       spanKey
	hasFirst, hasEnd bool
	early            []spanKey
}

// spanKey is where a member of one alert stands in memberOrder.
type spanKey struct {
	t      int64
	firing bool
	id     string
}

// less reports whether a comes before b in memberOrder (one alert).
func (a spanKey) less(b spanKey) bool {
	switch {
	case a.t != b.t:
		return a.t < b.t
	case a.firing != b.firing:
		return a.firing
	}
	return a.id < b.id
}

// tallied returns in's tally, taken afresh when it is not current, or
// nil when in is shorter than longFrom.
func (e *Engine) tallied(in *incident) *tally {
	if len(in.Members) < e.longFrom() {
		return nil
	}
	t := in.memo.tal
	if t == nil || t.n != len(in.Members) || t.inv != e.invGen {
		t = &tally{inv: e.invGen, down: map[string][]string{}, far: map[string]int{}, spans: map[string]*span{},
			onsets: map[int64]int{}, ids: map[string]int{}, listN: -1, devsN: -1, linksN: -1, butN: -1}
		for i := range in.Members {
			e.tallyAdd(t, &in.Members[i])
		}
		t.n = len(in.Members)
		in.memo.tal = t
	}
	return t
}

// tallyAdd adds member m to t.
func (e *Engine) tallyAdd(t *tally, m *member) {
	t.ids[m.ID]++
	if m.Class == classLink && m.Detector == adminDown && m.Port != "" {
		t.shuts++
	}
	if m.Effect {
		return
	}
	t.sev = max(t.sev, rank(m.Severity))
	switch {
	case m.isTarget():
		t.targetFlapping = t.targetFlapping || m.Detector == "flapping"
	case m.linkState():
		t.flapping = t.flapping || m.Detector == "flapping"
		e.tallyDown(t, schemas.Port{Device: m.Device, Interface: m.Port})
		t.addSpan(m)
	}
}

// portOrder orders ports by device, then interface.
func portOrder(a, b schemas.Port) int {
	if c := strings.Compare(a.Device, b.Device); c != 0 {
		return c
	}
	return strings.Compare(a.Interface, b.Interface)
}

// tallyDown adds port p, of a link-state member, to t's ports down.
func (e *Engine) tallyDown(t *tally, p schemas.Port) {
	i, ok := slices.BinarySearchFunc(t.ports, p, portOrder)
	if ok {
		return
	}
	t.ports = slices.Insert(t.ports, i, p)
	t.names = slices.Insert(t.names, i, p.String())
	t.down[p.Device] = append(t.down[p.Device], p.Interface)
	if n := len(t.down[p.Device]); n == 1 {
		j, _ := slices.BinarySearch(t.devs, p.Device)
		t.devs = slices.Insert(t.devs, j, p.Device)
	}
	if n := len(t.down[p.Device]); n == e.cfg.DeviceInterfaces {
		j, _ := slices.BinarySearch(t.wide, p.Device)
		t.wide = slices.Insert(t.wide, j, p.Device)
	}
	if q, ok := e.inv.Peer(p); ok {
		t.far[q.Device]++
	} else {
		t.noPeer++
	}
}

// addSpan adds link-state member m (not an effect) to its alert's span,
// and the span's onset and end to t's.
func (t *tally) addSpan(m *member) {
	s := t.spans[m.Fingerprint]
	if s == nil {
		s = &span{}
		t.spans[m.Fingerprint] = s
	}
	k := spanKey{t: m.Time, firing: m.Firing, id: m.ID}
	if !m.Firing {
		switch {
		case !s.hasFirst || k.less(s.first):
			s.early = append(s.early, k)
		case !s.hasEnd || k.less(s.end):
			s.end, s.hasEnd = k, true
			t.noteEnd(k.t)
		}
		return
	}
	switch {
	case !s.hasFirst:
		s.first, s.hasFirst = k, true
		t.onsets[k.t]++
		if len(t.onsets) == 1 || k.t > t.last {
			t.last = k.t
		}
	case k.less(s.first):
		old := s.first.t
		s.first = k
		t.onsets[k.t]++
		if t.onsets[old]--; t.onsets[old] == 0 {
			delete(t.onsets, old)
			if old == t.last {
				t.last = math.MinInt64
				for at := range t.onsets {
					t.last = max(t.last, at)
				}
			}
		}
	default:
		return
	}
	// The resolutions before the old onset and after the new one: the
	// first of them is the end now.
	early := s.early[:0]
	for _, r := range s.early {
		if !k.less(r) {
			early = append(early, r)
			continue
		}
		if !s.hasEnd || r.less(s.end) {
			s.end, s.hasEnd = r, true
			t.noteEnd(r.t)
		}
	}
	s.early = early
}

// noteEnd notes an alert's end at event time at.
func (t *tally) noteEnd(at int64) {
	if !t.ended || at < t.end {
		t.end, t.ended = at, true
	}
}

// atOnce is atOnce of the incident t counts.
func (t *tally) atOnce() bool {
	last := int64(math.MinInt64)
	if len(t.onsets) > 0 {
		last = t.last
	}
	return !t.ended || t.end >= last
}

// judgeLong is judge from t, in's tally, when in names a lost target or
// has a link down and no shut; false otherwise (the rules that go over
// the members decide).
func (e *Engine) judgeLong(in *incident, t *tally) (verdict, bool) {
	if devs := in.targetDevices(); len(devs) > 0 {
		n, links := t.portsBut(devs)
		return e.targetVerdict(devs, n, links, t.targetFlapping), true
	}
	if len(t.down) == 0 || t.shuts > 0 {
		return verdict{}, false
	}
	if far, ok := e.farEndLong(in, t); ok {
		if t.listN != len(t.ports) {
			t.list, t.listN = strings.Join(t.names, ", "), len(t.ports)
		}
		if t.devsN != len(t.devs) {
			t.devList, t.devsN = strings.Join(t.devs, ", "), len(t.devs)
		}
		return e.farEndVerdict(far, len(t.ports), t.list, t.devList, t.flapping), true
	}
	if len(t.wide) > 0 {
		return deviceVerdict(t.wide[0], t.down[t.wide[0]]), true
	}
	if t.linksN != len(t.ports) {
		t.nLinks, t.links, t.bothEnds = e.links(t.down, t.ports)
		t.linksN = len(t.ports)
	}
	return linkVerdict(t.nLinks, t.links, t.bothEnds, t.flapping), true
}

// farEndLong is farEnd from t.
func (e *Engine) farEndLong(in *incident, t *tally) (string, bool) {
	if len(t.down) < e.cfg.FarEndDevices || !t.atOnce() || t.noPeer > 0 || len(t.far) != 1 {
		return "", false
	}
	far := ""
	for d := range t.far {
		far = d
	}
	if own, _ := e.devices(in); far == "" || own[far] || 2*len(t.down) < e.neighbours[far] {
		return "", false
	}
	return far, true
}

// portsBut returns how many of t's ports down are not on a device of
// devs (sorted), and those, listed.
func (t *tally) portsBut(devs []string) (int, string) {
	if t.butN != len(t.ports) || t.butT != len(devs) {
		var b strings.Builder
		n := 0
		for i, p := range t.ports {
			if _, on := slices.BinarySearch(devs, p.Device); on {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.names[i])
			n++
		}
		t.but, t.butCount, t.butN, t.butT = b.String(), n, len(t.ports), len(devs)
	}
	return t.butCount, t.but
}

// entityKey is where an entity is named first: its member's place in
// memberOrder, then sub, the entity's place among that member's.
type entityKey struct {
	t      int64
	fp     string
	firing bool
	id     string
	sub    uint8
}

// compare orders entity keys as entities describes them.
func (a entityKey) compare(b entityKey) int {
	switch {
	case a.t != b.t:
		return cmp.Compare(a.t, b.t)
	case a.fp != b.fp:
		return strings.Compare(a.fp, b.fp)
	case a.firing != b.firing:
		if a.firing {
			return -1
		}
		return 1
	case a.id != b.id:
		return strings.Compare(a.id, b.id)
	}
	return cmp.Compare(a.sub, b.sub)
}

// candidates files the firing members (not effects) of an incident's
// first n members, taken with inventory generation inv, by what a lost
// target's incident reads of them to take them (joins, with the class
// target): the target states; by device, and by the device of their
// inventory peer (peerDevice), those that are not hardware
// (touchesTarget); the link, session and traffic members with a port by
// the device of its inventory peer, or, for a port with none, by their
// own device (hasPort); the sessions by device (involves). So the merge
// check of two lost targets' incidents, which share every neighbour,
// does not go over all of their members at every detection.
type candidates struct {
	n, inv   int
	ms       []member
	targets  []int32
	onDevice map[string][]int32
	onPeer   map[string][]int32
	portPeer map[string][]int32
	noPeer   map[string][]int32
	sessions map[string][]int32
}

// candidatesOf returns in's candidates, taken afresh when they are not
// current.
func (e *Engine) candidatesOf(in *incident) *candidates {
	c := in.memo.cand
	if c == nil || c.n != len(in.Members) || c.inv != e.invGen {
		c = &candidates{inv: e.invGen, onDevice: map[string][]int32{}, onPeer: map[string][]int32{},
			portPeer: map[string][]int32{}, noPeer: map[string][]int32{}, sessions: map[string][]int32{}}
		for i := range in.Members {
			e.candidatesAdd(c, &in.Members[i])
		}
		c.n = len(in.Members)
		in.memo.cand = c
	}
	return c
}

// candidatesAdd files member m in c.
func (e *Engine) candidatesAdd(c *candidates, m *member) {
	if !m.Firing || m.Effect {
		return
	}
	j := int32(len(c.ms))
	c.ms = append(c.ms, *m)
	if m.isTarget() {
		c.targets = append(c.targets, j)
	}
	if m.Class != classHardware {
		c.onDevice[m.Device] = append(c.onDevice[m.Device], j)
		if pd := e.peerDevice(m); pd != "" {
			c.onPeer[pd] = append(c.onPeer[pd], j)
		}
	}
	if (m.Class == classLink || m.Class == classSession || m.Class == classTraffic) && m.Port != "" {
		if q, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok {
			c.portPeer[q.Device] = append(c.portPeer[q.Device], j)
		} else {
			c.noPeer[m.Device] = append(c.noPeer[m.Device], j)
		}
	}
	if m.Class == classSession {
		c.sessions[m.Device] = append(c.sessions[m.Device], j)
	}
}

// anyJoinsTarget is anyJoins of a, a lost target's incident, and b, by
// b's candidates: a member of b joins a only as a target state whose
// device a involves (targetJoins); on or facing a device a lost
// (touchesTarget); on a port of a or the inventory peer of one (hasPort:
// a port's peer is on a device of a, or faces the same device as one of
// a's ports; a port with no peer is on a device of a); or as a session on
// a device a involves. No other rule takes a member into a lost target's
// incident.
func (e *Engine) anyJoinsTarget(a, b *incident) bool {
	c := e.candidatesOf(b)
	try := func(js []int32) bool {
		for _, j := range js {
			if e.joins(a, &c.ms[j]) {
				return true
			}
		}
		return false
	}
	if try(c.targets) {
		return true
	}
	for _, t := range a.targetDevices() {
		if try(c.onDevice[t]) || try(c.onPeer[t]) {
			return true
		}
	}
	own, near := e.devices(a)
	return tryUnder(c.portPeer, own, try) || tryUnder(c.portPeer, e.portPeers(a), try) ||
		tryUnder(c.noPeer, own, try) || tryUnder(c.sessions, near, try)
}

// portPeers returns the devices of the inventory peers of the ports of
// in's members (not effects): its links' for a long incident, else taken
// by a pass over the members.
func (e *Engine) portPeers(in *incident) map[string]bool {
	if l := e.linksOf(in); l != nil {
		return l.portPeer
	}
	out := map[string]bool{}
	for i := range in.Members {
		if p := &in.Members[i]; !p.Effect && p.Port != "" {
			if q, ok := e.inv.Peer(schemas.Port{Device: p.Device, Interface: p.Port}); ok {
				out[q.Device] = true
			}
		}
	}
	return out
}

// linkMemo is, for an incident's first n members taken with inventory
// generation inv, the ports of the members (not effects; hasPort) and
// the devices of their inventory peers (anyJoinsTarget), the event times
// of each device's link-state members (effects too; recentLinkDown) and,
// by the device their inventory peer is on, the firing link-state
// members (not effects) in event-time order (farEndJoins). A shorter
// incident than longFrom keeps none, and those rules go over its
// members: a storm's thousands of small incidents held four maps each,
// half again the heap of each (BenchmarkSmallIncidents).
type linkMemo struct {
	n, inv   int
	ports    map[schemas.Port]bool
	portPeer map[string]bool
	linkAt   map[string][]int64
	facing   map[string][]farLink
}

// linksOf returns in's links, taken afresh when they are not current, or
// nil when in is shorter than longFrom.
func (e *Engine) linksOf(in *incident) *linkMemo {
	if len(in.Members) < e.longFrom() {
		return nil
	}
	l := in.memo.links
	if l == nil || l.n != len(in.Members) || l.inv != e.invGen {
		l = &linkMemo{inv: e.invGen, ports: map[schemas.Port]bool{}, portPeer: map[string]bool{},
			linkAt: map[string][]int64{}, facing: map[string][]farLink{}}
		for i := range in.Members {
			e.linksAdd(l, &in.Members[i])
		}
		l.n = len(in.Members)
		in.memo.links = l
	}
	return l
}

// linksAdd adds member m to l.
func (e *Engine) linksAdd(l *linkMemo, m *member) {
	if m.linkState() {
		l.linkAt[m.Device] = append(l.linkAt[m.Device], m.Time)
	}
	if m.Effect {
		return
	}
	p := schemas.Port{Device: m.Device, Interface: m.Port}
	if m.Port != "" {
		l.ports[p] = true
		if q, ok := e.inv.Peer(p); ok {
			l.portPeer[q.Device] = true
		}
	}
	if m.Firing && m.linkState() {
		if q, ok := e.inv.Peer(p); ok {
			fs := l.facing[q.Device]
			i, _ := slices.BinarySearchFunc(fs, m.Time, func(f farLink, t int64) int { return cmp.Compare(f.t, t) })
			l.facing[q.Device] = slices.Insert(fs, i, farLink{t: m.Time, device: m.Device})
		}
	}
}

// tryUnder reports whether try is true of the members filed in by under
// a device of devs, going over the smaller of the two.
func tryUnder(by map[string][]int32, devs map[string]bool, try func([]int32) bool) bool {
	if len(by) <= len(devs) {
		for d, js := range by {
			if devs[d] && try(js) {
				return true
			}
		}
		return false
	}
	for d := range devs {
		if try(by[d]) {
			return true
		}
	}
	return false
}
