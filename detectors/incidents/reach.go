package incidents

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// The engine checks a detection against the incidents it may concern, not
// against every incident held: in a storm (a site losing power, hundreds
// of devices each with its own incident) that was quadratic. Every rule by
// which a member joins an incident, is its effect, finds its alert's
// incident or merges two incidents looks only at the devices of the
// member, of its ports' and sessions' inventory peers and of the
// incident's members and their peers, or at the member's fingerprint; the
// one exception is a session of a device the inventory does not know,
// which joins a session incident by time alone. So each incident is filed
// under reach keys: "d"+device for every device reach names of its members,
// "f"+fingerprint of each member, "s" while it is a session incident and
// "u" when it holds a session member of a device the inventory does not
// know; a detection is checked against the incidents filed under its own
// keys, in the order the engine holds them (by Seq), so the first that
// fits is the one a check of every incident finds. Keys are only added
// while an incident grows (one left over after its class changes costs a
// check, never a miss); a new inventory changes the peers, so it refiles
// every incident.
//
// Under a device key the rules need less than every incident filed: a
// member reaches a device as its own, or as the peer of its port or
// session, and a member that only faces a device joins an incident by it
// when that incident has a member on it (hasPort, touchesTarget), when
// both face it by link states (farEndJoins) or, as traffic, as an effect
// of any incident it is near (effectOf); every other rule reads the
// member's own device, or its fingerprint. So each device key of an
// incident carries the roles by which its members reach the device
// (roleOwn, roleLink, roleTraffic; effects too, and kept once added, so a
// role is never missed when members change roles), and under a wide key
// (see reach.shared: a spine's, under which every leaf's incident is
// filed) a detection or a merge looks only at the incidents that may
// concern it by their roles and its own (reach.mayMeet): a hung spine's
// leaves, each with a session and an LLDP loss facing it, are no longer
// checked against one another.
//
// And where neither has a member on the device, they meet by time: link
// states facing it join by one another within Window (farEndJoins),
// traffic facing it is an effect of an incident within Window of its
// opening (effectOf), and every other rule reads a member's own device.
// So under a wide key a detection, or an incident, with no member on the
// device looks only at the incidents with one, or with a member, or their
// opening, within Window of its time (its members' span): leaves losing
// their uplinks to one spine minutes apart are no longer checked against
// one another. A wide key holds those it filters so by their times
// (timeIndex), so such a detection finds those of its span by bisection
// rather than by a look at each.

// reach files the engine's incidents under their keys.
type reach struct {
	of   map[string]map[*incident]struct{} // key → incidents filed under it
	keys map[*incident]map[string]uint8    // incident → its keys, with the roles of a device key
	// A merge looks at the incidents filed under an incident's device
	// keys (nearIncident), and a long incident has thousands of them (a
	// lost spine's, one per leaf, each shared with the other spines'):
	// shared counts, for each incident, the device keys it shares with
	// each other incident, over the keys under which no more than
	// narrowKey incidents were ever filed at once; past that a key is
	// wide (a spine's, under which every leaf's session incident is
	// filed), and listed, for each incident filed under it, in wide.
	shared  map[*incident]map[*incident]int
	wide    map[*incident]map[string]struct{}
	wideKey map[string]bool
	roles   map[string]*keyRoles // wide key → the incidents filed under it by role
	// filedAt is the span at which each incident filed under a wide key
	// is held in its keyRoles' time indexes: its times when last filed
	// (they change only as it takes members, and file follows).
	filedAt map[*incident]when
}

// narrowKey is the most incidents filed under a device key whose sharing
// reach counts pair by pair (see reach.shared).
const narrowKey = 8

// The roles by which a member reaches the device of a device key (see
// reachKeys): the device is its own; the inventory peer of its port, and
// it is a link state (linkState); the peer of its port, and it is
// traffic. A peer reached otherwise (a session's, an LLDP loss's) has no
// role.
const (
	roleOwn uint8 = 1 << iota
	roleLink
	roleTraffic
)

// keyRoles are the incidents filed under a wide device key: those with a
// member on its device, and by their times every one, those with link
// states facing it and those with traffic facing it (see mayMeet).
type keyRoles struct {
	own                map[*incident]struct{}
	all, link, traffic timeIndex
}

// keyNarrow returns the most incidents filed under a device key whose
// sharing reach counts pair by pair: narrowKey, or what a test set
// (Engine.narrow).
func (e *Engine) keyNarrow() int {
	if e.narrow == 0 {
		return narrowKey
	}
	return e.narrow
}

// reachKeys calls add with each key under which an incident holding m is
// filed: its devices (m's own and the inventory peers of its port and
// session; see joins, effectOf, touchesTarget), with the roles by which m
// reaches each (a device may come twice), its fingerprint (byAlert) and
// "u" for a session member of a device the inventory does not know; the
// keys that are not a device's have no role.
func (e *Engine) reachKeys(m *member, add func(k string, how uint8)) {
	add("d"+m.Device, roleOwn)
	if m.Port != "" {
		if p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok && p.Device != "" {
			var how uint8
			switch {
			case m.linkState():
				how = roleLink
			case m.Class == classTraffic:
				how = roleTraffic
			}
			add("d"+p.Device, how)
		}
	}
	if m.Neighbor != "" {
		// A session to a peer the inventory does not name (an external
		// one) has none: under "d" it would share a key with every such
		// session's incident.
		if s, ok := e.inv.Session(m.Device, m.Neighbor); ok && s.PeerDevice != "" {
			add("d"+s.PeerDevice, 0)
		}
	}
	add("f"+m.Fingerprint, 0)
	if m.Class == classSession {
		if _, known := e.inv.Device(m.Device); !known {
			add("u", 0)
		}
	}
}

// file adds in's keys for members (some or all of its own) and its class.
func (e *Engine) file(in *incident, members []member) {
	r := e.reachIndex()
	ks := r.keys[in]
	if ks == nil {
		ks = map[string]uint8{}
		r.keys[in] = ks
	}
	narrow := e.keyNarrow()
	add := func(k string, how uint8) {
		if had, ok := ks[k]; ok {
			if how&^had != 0 {
				ks[k] = had | how
				if r.wideKey[k] {
					r.role(in, k, how&^had)
				}
			}
			return
		}
		ks[k] = how
		set := r.of[k]
		if set == nil {
			set = map[*incident]struct{}{}
			r.of[k] = set
		}
		set[in] = struct{}{}
		switch {
		case k[0] != 'd':
		case r.wideKey[k]:
			r.widen(in, k, how)
		case len(set) > narrow:
			r.wideKey[k] = true
			for o := range set {
				for p := range set {
					if o != p && o != in && p != in {
						r.share(o, p, -1)
					}
				}
				r.widen(o, k, r.keys[o][k])
			}
		default:
			for o := range set {
				if o != in {
					r.share(in, o, 1)
					r.share(o, in, 1)
				}
			}
		}
	}
	for i := range members {
		e.reachKeys(&members[i], add)
	}
	if in.class() == classSession {
		add("s", 0)
	}
	r.retime(in)
}

// unfile removes in from the index.
func (e *Engine) unfile(in *incident) {
	r := e.reach
	if r == nil {
		return
	}
	for k := range r.keys[in] {
		if set := r.of[k]; set != nil {
			delete(set, in)
			if k[0] == 'd' && !r.wideKey[k] {
				for o := range set {
					r.share(o, in, -1)
				}
			}
			if kr := r.roles[k]; kr != nil {
				delete(kr.own, in)
				w := r.filedAt[in]
				for _, x := range []*timeIndex{&kr.all, &kr.link, &kr.traffic} {
					x.remove(in, w)
				}
			}
			if len(set) == 0 {
				delete(r.of, k)
				delete(r.wideKey, k)
				delete(r.roles, k)
			}
		}
	}
	delete(r.keys, in)
	delete(r.shared, in)
	delete(r.wide, in)
	delete(r.filedAt, in)
}

// share adds d to the count of device keys in shares with o.
func (r *reach) share(in, o *incident, d int) {
	s := r.shared[in]
	if s == nil {
		s = map[*incident]int{}
		r.shared[in] = s
	}
	if s[o] += d; s[o] == 0 {
		delete(s, o)
	}
}

// widen lists wide device key k among in's, and in under k by its roles
// how.
func (r *reach) widen(in *incident, k string, how uint8) {
	s := r.wide[in]
	if s == nil {
		s = map[string]struct{}{}
		r.wide[in] = s
		lo, hi := in.times()
		r.filedAt[in] = when{lo, hi}
	}
	s[k] = struct{}{}
	kr := r.roles[k]
	if kr == nil {
		kr = &keyRoles{}
		r.roles[k] = kr
	}
	kr.all.add(in, r.filedAt[in])
	r.role(in, k, how)
}

// role files in under wide device key k by its roles how.
func (r *reach) role(in *incident, k string, how uint8) {
	kr := r.roles[k]
	if how&roleOwn != 0 {
		if kr.own == nil {
			kr.own = map[*incident]struct{}{}
		}
		kr.own[in] = struct{}{}
	}
	if how&roleLink != 0 {
		kr.link.add(in, r.filedAt[in])
	}
	if how&roleTraffic != 0 {
		kr.traffic.add(in, r.filedAt[in])
	}
}

// retime moves in to its times in the time indexes of its wide keys
// when a member it took changed them.
func (r *reach) retime(in *incident) {
	was, ok := r.filedAt[in]
	if !ok {
		return
	}
	lo, hi := in.times()
	now := when{lo, hi}
	if now == was {
		return
	}
	for k := range r.wide[in] {
		kr, has := r.roles[k], r.keys[in][k]
		kr.all.move(in, was, now)
		if has&roleLink != 0 {
			kr.link.move(in, was, now)
		}
		if has&roleTraffic != 0 {
			kr.traffic.move(in, was, now)
		}
	}
	r.filedAt[in] = now
}

// mayMeet calls f with the incidents filed under key k that a member or
// an incident reaching it by roles how, at the times of at (see around),
// may join, or take members of, as a symptom or an effect (see reach):
// under a wide device key, with a member on its device, every incident;
// with traffic facing it, those with a member on it and those of a time
// in at; with neither, those with a member on it, and those with traffic
// facing it, or with link states facing it when it has some, of a time in
// at; every incident filed under any other key, and, with all, under a
// wide one (the engine before roles and times, for tests).
func (r *reach) mayMeet(k string, how uint8, at when, all bool, f func(*incident)) {
	if all || !r.wideKey[k] || how&roleOwn != 0 {
		for in := range r.of[k] {
			f(in)
		}
		return
	}
	kr := r.roles[k]
	if kr == nil {
		return
	}
	for in := range kr.own {
		f(in)
	}
	if how&roleTraffic != 0 {
		// Its traffic may be an effect of any incident near the device
		// (a session facing it has no role), within Window of its opening.
		kr.all.meeting(at, f)
		return
	}
	kr.traffic.meeting(at, f)
	if how&roleLink != 0 {
		kr.link.meeting(at, f) // link states facing it meet only link states facing it (farEndJoins)
	}
}

// timeIndex holds incidents by their times: those spanning no more than
// longSpan by their earliest time (then Seq), so that those meeting a
// span are found by bisection, and the others, few, beside.
type timeIndex struct {
	short []timed
	long  map[*incident]when
}

// timed is an incident of a timeIndex, at its times lo to hi.
type timed struct {
	lo, hi int64
	in     *incident
}

// longSpan is the longest span of an incident that a timeIndex holds by
// its earliest time: a querier looks at those from longSpan before its
// span.
const longSpan = int64(10 * time.Minute)

// short reports whether w spans no more than longSpan (hi-lo wraps
// below 0 past math.MaxInt64).
func (w when) short() bool {
	d := w.hi - w.lo
	return d >= 0 && d <= longSpan
}

// add holds in at times w.
func (x *timeIndex) add(in *incident, w when) {
	if !w.short() {
		if x.long == nil {
			x.long = map[*incident]when{}
		}
		x.long[in] = w
		return
	}
	x.short = slices.Insert(x.short, x.search(in, w), timed{w.lo, w.hi, in})
}

// search returns where in, at times w, is or goes among x.short.
func (x *timeIndex) search(in *incident, w when) int {
	i, _ := slices.BinarySearchFunc(x.short, timed{lo: w.lo, in: in}, func(a, b timed) int {
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		return cmp.Compare(a.in.Seq, b.in.Seq)
	})
	return i
}

// find returns where in, held at times w among x.short, is.
func (x *timeIndex) find(in *incident, w when) (int, bool) {
	for i := x.search(in, w); i < len(x.short) && x.short[i].lo == w.lo && x.short[i].in.Seq == in.Seq; i++ {
		if x.short[i].in == in {
			return i, true
		}
	}
	return 0, false
}

// remove drops in, if held at times w.
func (x *timeIndex) remove(in *incident, w when) {
	if _, ok := x.long[in]; ok {
		delete(x.long, in)
	} else if i, ok := x.find(in, w); ok {
		x.short = slices.Delete(x.short, i, i+1)
	}
}

// move holds in, held at times was, at times now: in place when only its
// latest time grew (a member joined at its end).
func (x *timeIndex) move(in *incident, was, now when) {
	if now.lo == was.lo && now.short() {
		if i, ok := x.find(in, was); ok {
			x.short[i].hi = now.hi
			return
		}
	}
	x.remove(in, was)
	x.add(in, now)
}

// meeting calls f with each incident held that has a time in at (see
// when.meets).
func (x *timeIndex) meeting(at when, f func(*incident)) {
	from := at.lo - longSpan
	if at.lo < math.MinInt64+longSpan {
		from = math.MinInt64
	}
	i, _ := slices.BinarySearchFunc(x.short, from, func(a timed, t int64) int { return cmp.Compare(a.lo, t) })
	for ; i < len(x.short) && x.short[i].lo <= at.hi; i++ {
		if x.short[i].hi >= at.lo {
			f(x.short[i].in)
		}
	}
	for in, w := range x.long {
		if w.hi >= at.lo && w.lo <= at.hi {
			f(in)
		}
	}
}

// when is a span of event times, Unix ns, both ends included.
type when struct{ lo, hi int64 }

// always is every time: a querier whose time does not bound what it
// meets.
var always = when{math.MinInt64, math.MaxInt64}

// meets reports whether in has a member, or its opening, in w.
func (w when) meets(in *incident) bool {
	lo, hi := in.times()
	return hi >= w.lo && lo <= w.hi
}

// times returns the earliest and the latest event time of in's members
// (in memberOrder: by event time first) and its opening.
func (in *incident) times() (lo, hi int64) {
	lo, hi = in.Opened, in.Opened
	if n := len(in.Members); n > 0 {
		lo, hi = min(lo, in.Members[0].Time), max(hi, in.Members[n-1].Time)
	}
	return lo, hi
}

// around returns the times within Window of lo to hi, the span of
// what meets by time under a wide key: a firing member's event time
// (nearMember; a resolution finds its incident by its alert, at any
// time), an incident's members and opening (nearIncident).
func (e *Engine) around(lo, hi int64) when {
	w := int64(e.cfg.Window)
	out := when{lo - w, hi + w}
	if lo < math.MinInt64+w {
		out.lo = math.MinInt64
	}
	if hi > math.MaxInt64-w {
		out.hi = math.MaxInt64
	}
	return out
}

// reachIndex returns the index, filing every incident held when there is
// none (after a restore or a new inventory).
func (e *Engine) reachIndex() *reach {
	if e.reach == nil {
		e.reach = &reach{of: map[string]map[*incident]struct{}{}, keys: map[*incident]map[string]uint8{},
			shared: map[*incident]map[*incident]int{}, wide: map[*incident]map[string]struct{}{}, wideKey: map[string]bool{},
			roles: map[string]*keyRoles{}, filedAt: map[*incident]when{}}
		for _, in := range e.incs {
			e.file(in, in.Members)
		}
	}
	return e.reach
}

// filed returns the incidents filed under any of keys, but skip, by Seq:
// under a wide device key, those that may concern one reaching it by the
// roles given at the times of at (see mayMeet). With e.scanAll it returns
// every incident held (the reference the index is tested against).
func (e *Engine) filed(skip *incident, at when, keys func(add func(k string, how uint8))) []*incident {
	if e.scanAll {
		return e.incs
	}
	r := e.reachIndex()
	seen := map[*incident]struct{}{}
	var out []*incident
	keys(func(k string, how uint8) {
		r.mayMeet(k, how, at, e.wideAll, func(in *incident) {
			if _, ok := seen[in]; !ok && in != skip {
				seen[in] = struct{}{}
				out = append(out, in)
			}
		})
	})
	slices.SortFunc(out, func(a, b *incident) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// nearMember returns the incidents m may join, be an effect of or belong
// to by its alert (see reach), by Seq.
func (e *Engine) nearMember(m *member) []*incident {
	at := always
	if m.Firing {
		at = e.around(m.Time, m.Time)
	}
	return e.filed(nil, at, func(add func(string, uint8)) {
		e.reachKeys(m, func(k string, how uint8) {
			if k == "u" {
				k = "s" // a session of an unknown device joins session incidents by time
			}
			add(k, how)
		})
	})
}

// nearIncident returns the incidents but in that a merge may pair with in
// (see reach), by Seq: those filed under its device keys (those it shares
// a narrow key with, and those under its wide keys that its roles may
// meet), under "s" if it has "u", under "u" if it has "s".
func (e *Engine) nearIncident(in *incident) []*incident {
	if e.scanAll {
		return e.incs
	}
	r := e.reachIndex()
	keys := r.keys[in]
	out := make([]*incident, 0, len(r.shared[in]))
	for o := range r.shared[in] {
		out = append(out, o)
	}
	seen := map[*incident]struct{}{}
	take := func(o *incident) {
		if _, ok := seen[o]; !ok && o != in {
			seen[o] = struct{}{}
			if _, ok := r.shared[in][o]; !ok {
				out = append(out, o)
			}
		}
	}
	at := e.spanOf(in)
	for k := range r.wide[in] {
		r.mayMeet(k, keys[k], at, e.wideAll, take)
	}
	if _, ok := keys["u"]; ok {
		r.mayMeet("s", 0, at, e.wideAll, take)
	}
	if _, ok := keys["s"]; ok {
		r.mayMeet("u", 0, at, e.wideAll, take)
	}
	slices.SortFunc(out, func(a, b *incident) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// spanOf returns the times within Window of in's members and opening
// (see around).
func (e *Engine) spanOf(in *incident) when { return e.around(in.times()) }
