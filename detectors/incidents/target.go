package incidents

import (
	"fmt"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// The target rule: the collector losing a device (its
// telekernel:/collector/target/state going DOWN after UP, a target_down or
// flapping detection on the device) is one incident on the device. Its
// neighbours' symptoms of the same time are part of it: the links to it
// going down seen from the far ends, their sessions to it, their traffic on
// the ports facing it (members), and traffic moved to their other ports
// (effects), so that a dead device is one incident, not one per
// neighbour link.

// isTarget reports whether m is the collector's view of a target.
func (m *member) isTarget() bool { return m.Class == classTarget }

// targetDevices returns the devices in whose target state in has a
// member (not an effect), sorted. The slice is in's memo: the caller must
// not change it.
func (in *incident) targetDevices() []string { return in.classMemo().targets }

// touchesTarget reports whether m is a symptom of a lost target of in:
// on that device, or on a port or session whose inventory peer it is,
// within Window of in's span. An LLDP neighbour lost on a port facing the
// lost device needs no time: it shows once the neighbour's LLDP hold time
// (typically 120 s) has passed, later than Window, and the port ties it to
// the device as a port ties a symptom to a link's incident (hasPort); the
// caller checks that in is live.
func (e *Engine) touchesTarget(in *incident, m *member) bool {
	devs := in.targetDevices()
	if len(devs) == 0 {
		return false
	}
	peer := e.peerDevice(m)
	facing := peer != "" && slices.Contains(devs, peer)
	if m.lldp() && facing {
		return true
	}
	return e.during(m.Time, in) && (slices.Contains(devs, m.Device) || facing)
}

// targetJoins reports whether target member m joins in: an incident of the
// same time that involves its device (a link to it, a session to it,
// traffic on it or facing it), or another lost target's; or an open
// incident (not a lost target's) that involves its device and opened no
// more than TargetLag before it: the collector reports a device lost
// later than its neighbours see their links to it go down.
func (e *Engine) targetJoins(in *incident, m *member) bool {
	switch cls := in.class(); cls {
	case classLink, classSession, classTraffic, classTarget:
		if !e.involves(in, m.Device) {
			return false
		}
		late := cls != classTarget && in.Resolved == 0 && m.Time >= in.Opened && m.Time-in.Opened <= int64(e.cfg.TargetLag)
		return late || e.during(m.Time, in)
	}
	return false
}

// targetRule names the devices the collector lost (devs, sorted), with
// the links to them that their neighbours saw go down (the lost device's
// own interface states, which it reports only when it is back, are
// evidence, not part of the cause, so the cause is named in full at the
// loss).
func (e *Engine) targetRule(devs []string, down map[string][]string, flapping bool) verdict {
	var links []string
	for _, d := range sortedKeys(down) {
		if slices.Contains(devs, d) {
			continue
		}
		for _, i := range slices.Sorted(slices.Values(down[d])) {
			links = append(links, schemas.Port{Device: d, Interface: i}.String())
		}
	}
	return e.targetVerdict(devs, len(links), strings.Join(links, ", "), flapping)
}

// targetVerdict is targetRule's verdict on the devices devs (sorted),
// given its n links to them down, listed.
func (e *Engine) targetVerdict(devs []string, n int, links string, flapping bool) verdict {
	name := strings.Join(devs, ", ")
	what := "unreachable from the collector"
	if flapping {
		what = "flapping: the collector keeps losing and regaining it"
	}
	cause := fmt.Sprintf("device %s %s", name, what)
	if n > 0 {
		cause += fmt.Sprintf("; %d links to it down (%s)", n, links)
	}
	return verdict{rule: schemas.RuleDevice, confidence: 0.9, cause: cause,
		action: fmt.Sprintf("check %s's power and management reachability (console or out-of-band port, the management network); a reload or a crash shows in its logs when it is back", name)}
}
