package incidents

import (
	"fmt"
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
// as before (target.go). Two such devices whose neighbours' links to both
// go down together (within Window, so the neighbours' own links join one
// incident) are named together: one cause, such as a power feed or a
// change they share, not two; minutes apart they are two incidents.

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
	if _, near := e.devices(in); !near[q.Device] { // the far ends of in's ports are among its peers
		return false
	}
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

// farEndOverlaps reports whether a firing link-state symptom of b goes
// down with one of a towards the same far end (farEndJoins): one device
// lost, seen as two link incidents when each neighbour's session to it
// arrived before its link's state and opened an incident of its own.
func (e *Engine) farEndOverlaps(a, b *incident) bool {
	for i := range b.Members {
		if m := &b.Members[i]; m.Firing && !m.Effect && e.farEndJoins(a, m) {
			return true
		}
	}
	return false
}

// farEnds returns, sorted, the devices the ports of ports (device →
// interfaces) face by the inventory, when every port faces one, each of
// them is faced from FarEndDevices or more devices (by those ports, and
// by sessions, whose inventory peer it is), and in has no member on any
// of them: a device that reports its own symptoms is alive, and the link
// and LLDP rules name the ports. Two devices faced so at once are one
// cause, as their neighbours' links to both going down together are one
// incident (recentLinkDown): a power feed or a change they share.
func (e *Engine) farEnds(in *incident, ports map[string][]string, sessions []*member) ([]string, bool) {
	from := map[string]map[string]bool{} // far device → the devices facing it
	for d, ifs := range ports {
		for _, i := range ifs {
			q, ok := e.inv.Peer(schemas.Port{Device: d, Interface: i})
			if !ok {
				return nil, false
			}
			if from[q.Device] == nil {
				from[q.Device] = map[string]bool{}
			}
			from[q.Device][d] = true
		}
	}
	for _, m := range sessions {
		if f := from[e.peerDevice(m)]; f != nil {
			f[m.Device] = true
		}
	}
	own, _ := e.devices(in)
	for far, f := range from {
		if own[far] || len(f) < e.cfg.FarEndDevices {
			return nil, false
		}
	}
	return sortedKeys(from), len(from) > 0
}

// farEndRule names the devices far, down by inference from their
// neighbours' links to them (down, device → interfaces) going down
// together.
func (e *Engine) farEndRule(far []string, down map[string][]string, flapping bool) verdict {
	ports := portList(down)
	what := "down"
	if flapping {
		what = "flapping"
	}
	name, it := inferred(far)
	return verdict{rule: schemas.RuleDevice, confidence: 0.7, devices: far,
		cause: fmt.Sprintf("%s %s (inferred from %s neighbours: %d links to %s %s at once: %s)", name, what, it.their, len(ports), it.them, what, strings.Join(ports, ", ")),
		action: fmt.Sprintf("check %s %s: power, a reload or a crash (%s console log); the links to %s from %s went down together, and %s nothing here: collect %s if %s not collected",
			strings.Join(far, ", "), it.itself, it.their, it.them, strings.Join(sortedKeys(down), ", "), it.reports, it.them, it.is)}
}

// The unresponsive rule: a device whose control plane hangs keeps its
// links up, so no link goes down, but its neighbours stop hearing its
// LLDP (after their hold time, typically 120 s) and their sessions to it
// drop (after the hold timer). An LLDP neighbour lost on a port facing a
// device, with another on another device facing it, or with a session to
// it, within Window, is one incident (silentJoins); when that device is
// faced so from FarEndDevices or more devices and reports nothing in the
// incident, the cause is that device, not responding by inference.
// Sessions alone are not enough: a clear on a device no collector
// reports drops them too.

// silentJoins reports whether m, an LLDP neighbour lost or a session
// whose inventory far end is a device, goes with a firing member of in on
// another device facing the same device within Window, one of the two an
// LLDP neighbour lost.
func (e *Engine) silentJoins(in *incident, m *member) bool {
	far := e.facing(m)
	if far == "" || far == m.Device {
		return false
	}
	if _, near := e.devices(in); !near[far] {
		return false
	}
	for i := range in.Members {
		p := &in.Members[i]
		if p.Effect || !p.Firing || p.Device == m.Device || !m.lldp() && !p.lldp() || !e.within(m.Time, p.Time) {
			continue
		}
		if e.facing(p) == far {
			return true
		}
	}
	return false
}

// facing returns the inventory far end of m when it is an LLDP neighbour
// lost or a session, or "".
func (e *Engine) facing(m *member) string {
	switch {
	case m.lldp():
		if q, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok {
			return q.Device
		}
	case m.Class == classSession:
		return e.peerDevice(m)
	}
	return ""
}

// silentOverlaps reports whether a firing symptom of b goes with one of a
// towards the same device (silentJoins): one device unresponsive, seen as
// two incidents when each neighbour's symptoms arrived apart.
func (e *Engine) silentOverlaps(a, b *incident) bool {
	for i := range b.Members {
		if m := &b.Members[i]; m.Firing && !m.Effect && e.silentJoins(a, m) {
			return true
		}
	}
	return false
}

// silentRule names the devices far as not responding, inferred from the
// LLDP neighbours lost on the ports facing them (lldp) and the sessions to
// them that dropped (of sessions).
func (e *Engine) silentRule(far []string, lldp, sessions []*member) verdict {
	ports := map[string][]string{}
	for _, m := range lldp {
		if !slices.Contains(ports[m.Device], m.Port) {
			ports[m.Device] = append(ports[m.Device], m.Port)
		}
	}
	list := portList(ports)
	var from []string
	for _, m := range sessions {
		if slices.Contains(far, e.peerDevice(m)) && !slices.Contains(from, m.Device) {
			from = append(from, m.Device)
		}
	}
	slices.Sort(from)
	name, it := inferred(far)
	n := fmt.Sprintf("%d ports facing %s while their links stay up", len(list), it.them)
	if len(list) == 1 {
		n = fmt.Sprintf("1 port facing %s while its link stays up", it.them)
	}
	cause := fmt.Sprintf("%s not responding (inferred from %s neighbours: LLDP lost on %s: %s", name, it.their, n, strings.Join(list, ", "))
	if len(from) > 0 {
		cause += fmt.Sprintf("; sessions to %s down from %s", it.them, strings.Join(from, ", "))
	}
	return verdict{rule: schemas.RuleDevice, confidence: 0.6, devices: far, cause: cause + ")",
		action: fmt.Sprintf("check %s %s: its control plane (a hung process, the CPU, the console log) or its LLDP agent, and whether the collector still reaches %s; the links stay up and traffic may still flow, but %s stopped hearing %s together and %s nothing here",
			strings.Join(far, ", "), it.itself, it.them, strings.Join(sortedKeys(ports), ", "), it.them, it.reports)}
}

// portList returns the ports of ports (device → interfaces) as D:if,
// sorted by device, then interface.
func portList(ports map[string][]string) []string {
	var out []string
	for _, d := range sortedKeys(ports) {
		for _, i := range slices.Sorted(slices.Values(ports[d])) {
			out = append(out, schemas.Port{Device: d, Interface: i}.String())
		}
	}
	return out
}

// pronouns are the words a cause uses for one inferred device or several.
type pronouns struct{ their, them, itself, reports, is string }

// inferred returns how a cause names the devices far ("device D" or
// "devices D, E") and its pronouns for them.
func inferred(far []string) (string, pronouns) {
	if len(far) == 1 {
		return "device " + far[0], pronouns{their: "its", them: "it", itself: "itself", reports: "it reports", is: "it is"}
	}
	return "devices " + strings.Join(far, ", "), pronouns{their: "their", them: "them", itself: "themselves", reports: "they report", is: "they are"}
}
