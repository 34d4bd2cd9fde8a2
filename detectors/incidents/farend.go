package incidents

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// The far-end rule: a device that no collector reports (or whose loss the
// collector has not reported yet) has no target state to name it when it
// dies, but its neighbours see their links to it go down together. Links
// going down within Window whose inventory far ends are one device are
// one incident, and when they are of FarEndDevices or more devices, every
// link down in the incident faces that device and the device reported
// nothing in it, the cause is that device, down by inference. A target
// state of the device, when one comes, makes it a lost target's incident
// as before (target.go).

// farEndJoins reports whether link-state member m goes down within Window
// of a firing link-state member of in whose inventory far end is the same
// device as m's, on another device (links of one device are
// recentLinkDown's). A link coming back up is not one going down with it.
func (e *Engine) farEndJoins(in *incident, m *member) bool {
	if !m.linkState() {
		return false
	}
	q, ok := e.peer(schemas.Port{Device: m.Device, Interface: m.Port})
	if !ok || q.Device == m.Device {
		return false
	}
	if own, near := e.devices(in); !near[q.Device] || own[q.Device] {
		// The far ends of in's ports are among its peers; one that
		// reports in it is alive (a shut of its port, its own ends down).
		return false
	}
	l := e.linksOf(in)
	if l == nil {
		for i := range in.Members {
			p := &in.Members[i]
			if p.Effect || !p.Firing || !p.linkState() || p.Device == m.Device || !e.within(m.Time, p.Time) {
				continue
			}
			if r, ok := e.inv.Peer(schemas.Port{Device: p.Device, Interface: p.Port}); ok && r.Device == q.Device {
				return true
			}
		}
		return false
	}
	// The firing link-state members facing q, by event time: those
	// within Window of m, until one on another device.
	fs := l.facing[q.Device]
	w := int64(e.cfg.Window)
	from := m.Time - w
	if m.Time < math.MinInt64+w {
		from = math.MinInt64
	}
	i, _ := slices.BinarySearchFunc(fs, from, func(f farLink, t int64) int { return cmp.Compare(f.t, t) })
	for ; i < len(fs) && e.within(m.Time, fs[i].t); i++ {
		if fs[i].device != m.Device {
			return true
		}
	}
	return false
}

// farEndOverlaps reports whether a firing link-state symptom of b goes
// down with one of a towards the same far end (farEndJoins): one device
// lost, seen as two link incidents when each neighbour's session to it
// arrived before its link's state and opened an incident of its own.
func (e *Engine) farEndOverlaps(a, b *incident) bool {
	own, _ := e.devices(b)
	for i := range b.Members {
		if m := &b.Members[i]; m.Firing && !m.Effect && !own[e.peerDevice(m)] && e.farEndJoins(a, m) {
			return true
		}
	}
	return false
}

// farEnd returns the device every port of down (device → interfaces going
// down) faces by the inventory, when there is one, ports of at least
// FarEndDevices devices face it, and at least half the devices the
// inventory links to it, they were all down at one instant (atOnce), and
// in has no member on it: a device that reports its own ends down is
// alive, and the link rule names them. Two of a spine's 48 leaves losing
// their links to it within a minute are two faults (optics, cables), not
// the spine: were it down, all 48 would.
func (e *Engine) farEnd(in *incident, down map[string][]string) (string, bool) {
	if len(down) < e.cfg.FarEndDevices || !atOnce(in) {
		return "", false
	}
	far := ""
	for d, ifs := range down {
		for _, i := range ifs {
			q, ok := e.inv.Peer(schemas.Port{Device: d, Interface: i})
			if !ok || far != "" && q.Device != far {
				return "", false
			}
			far = q.Device
		}
	}
	if own, _ := e.devices(in); far == "" || own[far] || 2*len(down) < e.neighbours[far] {
		return "", false
	}
	return far, true
}

// neighbourCounts returns, per device, how many devices inv links to it.
func neighbourCounts(inv *schemas.Inventory) map[string]int {
	out := map[string]int{}
	if inv == nil {
		return out
	}
	seen := map[[2]string]bool{}
	for _, l := range inv.Links {
		a, b := l.A.Device, l.B.Device
		if a == b || seen[[2]string{a, b}] {
			continue
		}
		seen[[2]string{a, b}], seen[[2]string{b, a}] = true, true
		out[a]++
		out[b]++
	}
	return out
}

// atOnce reports whether the link-state alerts of in were all down at one
// instant: the latest first onset comes before the earliest resolution
// that follows one. A link back up before another went down is two
// faults one after the other, not a device that went down.
func atOnce(in *incident) bool {
	onset, end := map[string]int64{}, map[string]int64{}
	for i := range in.Members {
		m := &in.Members[i]
		if m.Effect || !m.linkState() {
			continue
		}
		if _, ok := onset[m.Fingerprint]; !ok {
			if m.Firing {
				onset[m.Fingerprint] = m.Time
			}
			continue
		}
		if _, ok := end[m.Fingerprint]; !ok && !m.Firing {
			end[m.Fingerprint] = m.Time
		}
	}
	last := int64(math.MinInt64)
	for _, t := range onset {
		last = max(last, t)
	}
	for _, t := range end {
		if t < last {
			return false
		}
	}
	return true
}

// farEndRule names device far, down by inference from its neighbours'
// links to it (down, device → interfaces) going down together.
func (e *Engine) farEndRule(far string, down map[string][]string, flapping bool) verdict {
	var ports []string
	for _, d := range sortedKeys(down) {
		for _, i := range slices.Sorted(slices.Values(down[d])) {
			ports = append(ports, schemas.Port{Device: d, Interface: i}.String())
		}
	}
	return e.farEndVerdict(far, len(ports), strings.Join(ports, ", "), strings.Join(sortedKeys(down), ", "), flapping)
}

// farEndVerdict is farEndRule's verdict on device far, given the n links
// to it down (ports, listed by device then interface) from the devices
// from (listed, sorted).
func (e *Engine) farEndVerdict(far string, n int, ports, from string, flapping bool) verdict {
	what := "down"
	if flapping {
		what = "flapping"
	}
	return verdict{rule: schemas.RuleDevice, confidence: 0.7, device: far,
		cause: fmt.Sprintf("device %s %s (inferred from its neighbours: %d links to it %s at once: %s)", far, what, n, what, ports),
		action: fmt.Sprintf("check %s itself: power, a reload or a crash (its console log); the links to it from %s went down together, and it reports nothing here: collect it if it is not collected",
			far, from)}
}
