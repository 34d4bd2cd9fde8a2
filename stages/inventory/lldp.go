package inventory

import (
	"cmp"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// neighborKey is one LLDP neighbour as a device reports it: its local
// port and the neighbour's id (the keys of the LLDP samples).
type neighborKey struct {
	device, port, id string
}

// neighbor is what the LLDP samples of one neighbour said last. Both
// fields empty: a sample said it is gone; it is kept (until it expires like
// a neighbour) so a late sample from before it went does not bring it back.
// Times are on the lldp clock (see reporter).
type neighbor struct {
	system, portID     string
	systemAt, portIDAt int64 // time of the sample each came from
	seen               int64 // time of the latest sample; 0: not yet (seeded from the topic)
}

// gone reports whether a sample said the neighbour went.
func (n *neighbor) gone() bool { return n.system == "" && n.portID == "" }

// reporter is a device that sent LLDP samples. Its samples are moved onto
// the lldp clock by offset, taken at its first sample (that sample is
// "now"), so a device whose clock is set far ahead or behind the others (a
// wrong timezone) neither expires their neighbours nor has its own
// expired: each clock is only trusted to advance.
type reporter struct {
	offset int64 // added to the device's sample times
	latest int64 // its latest sample, on the lldp clock
}

// lldp is the LLDP neighbours the stage has seen, with the clock their
// expiry runs on: event time, each device's moved onto it by its reporter
// offset. It is not safe for concurrent use.
type lldp struct {
	expiry    int64 // ns
	now       int64 // the latest sample of any reporter, on the lldp clock; 0: no sample yet
	neighbors map[neighborKey]*neighbor
	reporters map[string]*reporter
}

func newLLDP(expiry int64) *lldp {
	return &lldp{expiry: expiry, neighbors: map[neighborKey]*neighbor{}, reporters: map[string]*reporter{}}
}

// observe takes one LLDP sample: metric is MetricLLDPNeighborSystemName or
// MetricLLDPNeighborPortID, value its state value (empty or !ok: the
// neighbour is gone). It reports whether the neighbours or reporters
// changed. Strings are cloned before they are kept. A sample older than
// the latest of its neighbour (late, or re-ordered) changes nothing: it
// neither undoes a newer value, nor removes a neighbour a newer sample
// confirmed, nor brings back one a newer sample said is gone.
func (l *lldp) observe(ts int64, device, metric, keys, value string, ok bool) (changed bool, valid bool) {
	port, id, good := schemas.ParseLLDPNeighborKeys(keys)
	if !good || device == "" {
		return false, false
	}
	r := l.reporters[device]
	if r == nil {
		r = &reporter{}
		if l.now != 0 {
			r.offset = l.now - ts
		}
		l.reporters[strings.Clone(device)] = r
		changed = true
	}
	ts += r.offset
	r.latest = max(r.latest, ts)
	l.now = max(l.now, ts)
	k := neighborKey{device, port, id}
	n := l.neighbors[k]
	if n == nil {
		n = &neighbor{}
		l.neighbors[neighborKey{strings.Clone(device), strings.Clone(port), strings.Clone(id)}] = n
	}
	if !ok || value == "" {
		if ts < n.seen {
			return changed, true
		}
		changed = changed || !n.gone()
		n.system, n.portID = "", ""
		n.systemAt, n.portIDAt, n.seen = ts, ts, ts
		return changed, true
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

// expire forgets the reporting devices silent for expiry on the lldp clock
// (a device renamed leaves under its old name), then the neighbours their
// device has not named for expiry of its own samples' time (so another
// device's clock jumping ahead expires none of them) or, for a device no
// longer reporting (seeded, or silent), of the lldp clock. It reports
// whether any reporter or neighbour that was not gone went.
func (l *lldp) expire() bool {
	if l.now == 0 {
		return false // no sample yet: nothing can be judged stale
	}
	changed := false
	for d, r := range l.reporters {
		if l.now-r.latest > l.expiry {
			delete(l.reporters, d)
			changed = true
		}
	}
	for k, n := range l.neighbors {
		if n.seen == 0 {
			n.seen = l.now // seeded: the clock starts now
		}
		ref := l.now
		if r := l.reporters[k.device]; r != nil {
			ref = r.latest
		}
		if ref-n.seen > l.expiry {
			delete(l.neighbors, k)
			changed = changed || !n.gone()
		}
	}
	return changed
}

// links returns the links the neighbours describe, one per cable (both
// ends reporting one cable give one link, a end the lower port), skipping
// ports in taken (the operator's file says what is there). resolve maps an
// LLDP system name to a device name. A port id is the port as the
// neighbour's LLDP agent names it, often short (Gi0/0/0/3); where the
// neighbour reports neighbours too, an id that is not one of the ports it
// reports them on but abbreviates exactly one (portOf) is that port, as
// its samples name it.
func (l *lldp) links(taken map[schemas.Port]bool, resolve func(string) string) []schemas.InvLink {
	ports := map[string][]string{} // by device, the ports it reports neighbours on
	for k, n := range l.neighbors {
		if !n.gone() {
			ports[k.device] = append(ports[k.device], k.port)
		}
	}
	seen := map[schemas.InvLink]bool{}
	var out []schemas.InvLink
	for k, n := range l.neighbors {
		if n.system == "" || n.portID == "" {
			continue
		}
		dev := resolve(n.system)
		a, b := schemas.Port{Device: k.device, Interface: k.port}, schemas.Port{Device: dev, Interface: portOf(ports[dev], n.portID)}
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

// portOf returns the one of ports that id names: id itself when it is one
// of them, else the one port id abbreviates (or that abbreviates id), else
// id. A name is a prefix of letters (and hyphens) and the rest (the
// numbers); two names are one port when the rests are equal and one
// prefix abbreviates the other (abbreviates).
func portOf(ports []string, id string) string {
	if slices.Contains(ports, id) {
		return id
	}
	found := ""
	for _, p := range ports {
		if abbreviates(id, p) || abbreviates(p, id) {
			if found != "" {
				return id // two ports: which one is not known
			}
			found = p
		}
	}
	return cmp.Or(found, id)
}

// abbreviates reports whether short is an abbreviation of long: the same
// numbers after a letter prefix, and short's prefix taken from long's in
// order, each letter either the one after the previous or the first of a
// later word (a capital after a small letter, or a letter after a hyphen),
// case aside: Gi of GigabitEthernet, Et of Ethernet, BE of Bundle-Ether,
// Hu of HundredGigE, Po of Port-Channel.
func abbreviates(short, long string) bool {
	sp, sr := splitPort(short)
	lp, lr := splitPort(long)
	sp = strings.ReplaceAll(sp, "-", "")
	if sr != lr || sr == "" || sp == "" || len(sp) >= len(lp) {
		return false
	}
	return abbrevFrom(strings.ToLower(sp), lp, 0)
}

// abbrevFrom reports whether s (lower case) can be taken from long's
// letters starting at long[i], which s[0] must match: the next letter
// of s is long's next letter, or the first letter of a later word.
func abbrevFrom(s, long string, i int) bool {
	if lower(long[i]) != s[0] {
		return false
	}
	if len(s) == 1 {
		return true
	}
	for j := i + 1; j < len(long); j++ {
		if long[j] == '-' {
			continue
		}
		next := j == i+1 || long[j-1] == '-' || isUpper(long[j]) && !isUpper(long[j-1])
		if next && abbrevFrom(s[1:], long, j) {
			return true
		}
	}
	return false
}

// splitPort splits an interface name into its prefix of ASCII letters and
// hyphens and the rest.
func splitPort(name string) (prefix, rest string) {
	i := 0
	for i < len(name) && (name[i] == '-' || lower(name[i]) >= 'a' && lower(name[i]) <= 'z') {
		i++
	}
	return name[:i], name[i:]
}

func lower(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
