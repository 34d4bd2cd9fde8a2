package incidents

import (
	"cmp"
	"slices"

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

// reach files the engine's incidents under their keys.
type reach struct {
	of   map[string]map[*incident]struct{} // key → incidents filed under it
	keys map[*incident]map[string]struct{} // incident → its keys
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
}

// narrowKey is the most incidents filed under a device key whose sharing
// reach counts pair by pair (see reach.shared).
const narrowKey = 8

// reachKeys calls add with each key under which an incident holding m is
// filed: its devices (m's own and the inventory peers of its port and
// session; see joins, effectOf, touchesTarget), its fingerprint (byAlert)
// and "u" for a session member of a device the inventory does not know.
func (e *Engine) reachKeys(m *member, add func(string)) {
	add("d" + m.Device)
	if m.Port != "" {
		if p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok && p.Device != "" {
			add("d" + p.Device)
		}
	}
	if m.Neighbor != "" {
		// A session to a peer the inventory does not name (an external
		// one) has none: under "d" it would share a key with every such
		// session's incident.
		if s, ok := e.inv.Session(m.Device, m.Neighbor); ok && s.PeerDevice != "" {
			add("d" + s.PeerDevice)
		}
	}
	add("f" + m.Fingerprint)
	if m.Class == classSession {
		if _, known := e.inv.Device(m.Device); !known {
			add("u")
		}
	}
}

// file adds in's keys for members (some or all of its own) and its class.
func (e *Engine) file(in *incident, members []member) {
	r := e.reachIndex()
	ks := r.keys[in]
	if ks == nil {
		ks = map[string]struct{}{}
		r.keys[in] = ks
	}
	add := func(k string) {
		if _, ok := ks[k]; ok {
			return
		}
		ks[k] = struct{}{}
		set := r.of[k]
		if set == nil {
			set = map[*incident]struct{}{}
			r.of[k] = set
		}
		set[in] = struct{}{}
		switch {
		case k[0] != 'd':
		case r.wideKey[k]:
			r.widen(in, k)
		case len(set) > narrowKey:
			r.wideKey[k] = true
			for o := range set {
				for p := range set {
					if o != p && o != in && p != in {
						r.share(o, p, -1)
					}
				}
				r.widen(o, k)
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
		add("s")
	}
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
			if len(set) == 0 {
				delete(r.of, k)
				delete(r.wideKey, k)
			}
		}
	}
	delete(r.keys, in)
	delete(r.shared, in)
	delete(r.wide, in)
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

// widen lists wide device key k among in's.
func (r *reach) widen(in *incident, k string) {
	s := r.wide[in]
	if s == nil {
		s = map[string]struct{}{}
		r.wide[in] = s
	}
	s[k] = struct{}{}
}

// reachIndex returns the index, filing every incident held when there is
// none (after a restore or a new inventory).
func (e *Engine) reachIndex() *reach {
	if e.reach == nil {
		e.reach = &reach{of: map[string]map[*incident]struct{}{}, keys: map[*incident]map[string]struct{}{},
			shared: map[*incident]map[*incident]int{}, wide: map[*incident]map[string]struct{}{}, wideKey: map[string]bool{}}
		for _, in := range e.incs {
			e.file(in, in.Members)
		}
	}
	return e.reach
}

// filed returns the incidents filed under any of keys, but skip, by Seq.
// With e.scanAll it returns every incident held (the reference the index
// is tested against).
func (e *Engine) filed(skip *incident, keys func(add func(string))) []*incident {
	if e.scanAll {
		return e.incs
	}
	r := e.reachIndex()
	seen := map[*incident]struct{}{}
	var out []*incident
	keys(func(k string) {
		for in := range r.of[k] {
			if _, ok := seen[in]; !ok && in != skip {
				seen[in] = struct{}{}
				out = append(out, in)
			}
		}
	})
	slices.SortFunc(out, func(a, b *incident) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// nearMember returns the incidents m may join, be an effect of or belong
// to by its alert (see reach), by Seq.
func (e *Engine) nearMember(m *member) []*incident {
	return e.filed(nil, func(add func(string)) {
		e.reachKeys(m, func(k string) {
			if k == "u" {
				k = "s" // a session of an unknown device joins session incidents by time
			}
			add(k)
		})
	})
}

// nearIncident returns the incidents but in that a merge may pair with in
// (see reach), by Seq: those filed under its device keys (those it shares
// a narrow key with, and those under its wide keys), under "s" if it has
// "u", under "u" if it has "s".
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
	under := func(k string) {
		for o := range r.of[k] {
			if _, ok := seen[o]; !ok && o != in {
				seen[o] = struct{}{}
				if _, ok := r.shared[in][o]; !ok {
					out = append(out, o)
				}
			}
		}
	}
	for k := range r.wide[in] {
		under(k)
	}
	if _, ok := keys["u"]; ok {
		under("s")
	}
	if _, ok := keys["s"]; ok {
		under("u")
	}
	slices.SortFunc(out, func(a, b *incident) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}
