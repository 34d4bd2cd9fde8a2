package incidents

import (
	"strings"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// class is what a detection is about, which decides the incidents it may
// join.
type class uint8

const (
	classOther    class = iota
	classLink           // oper-status, admin-status, carrier transitions, LLDP neighbours of an interface
	classSession        // BGP or BFD session state, neighbour counts, received prefixes
	classHardware       // components: PSU, fan, temperature, optics; the power residual
	classTraffic        // interface counters: octets, packets, errors, discards
	classTarget         // the collector's view of a target (target.go)
)

// powerResidual is the detector name of the power stage's detections.
const powerResidual = "power_residual"

// adminDown is the detector name of the detect stage's detections of a
// thing shut on purpose (stateevents.RuleAdminDown).
const adminDown = "admin_down"

// member is one detection of an incident, with what the rules need.
type member struct {
	Time        int64 // event time, Unix ns
	ID          string
	Fingerprint string
	Firing      bool
	Effect      bool
	// Known is whether the inventory declared Device when the detection
	// arrived (see declared): an alert of a device that leaves the
	// inventory later never resolves (see closeGone).
	Known     bool `json:",omitempty"`
	Device    string
	Metric    string
	Keys      string
	Detector  string
	Severity  string
	Observed  float64
	Expected  float64
	Class     class
	Port      string // interface, when the detection is on one (or its session runs over one)
	Neighbor  string // BGP neighbour address
	Component string // component name of hardware detections
}

// newMember classifies d; inv maps a BGP neighbour to its interface. The
// state series are classed as the detect stage classes them
// (stateevents.Classify): OpenConfig's paths, and the vendor models'
// native ones with or without their origin (IOS-XR's interface state and
// line-state, keys interface-name=IF; SR Linux's oper-state; IOS-XE's).
func newMember(d *schemas.Detection, inv *schemas.InventoryIndex) member {
	m := member{Time: d.EventTime.UnixNano(), ID: d.ID, Fingerprint: d.Fingerprint, Firing: d.State == schemas.StateFiring,
		Device: d.Device, Metric: d.Metric, Keys: d.Keys, Detector: d.Detector, Severity: d.Severity,
		Observed: d.Observed, Expected: d.Expected}
	m.Known = declared(inv, d.Device)
	p := d.Metric
	sc := stateevents.Classify(p)
	switch {
	case p == schemas.MetricTargetState:
		m.Class = classTarget
	case p == schemas.MetricLLDPNeighbors:
		m.Class, m.Port = classLink, key(d.Keys, "name")
	case sc == stateevents.ClassOperStatus || sc == stateevents.ClassAdminStatus || sc == stateevents.ClassCarrier:
		m.Class, m.Port = classLink, ifacePort(d.Keys)
	case strings.HasPrefix(p, "/interfaces/") && strings.Contains(p, "/counters/"), !strings.HasPrefix(p, "/components/") && isRate(p) && ifacePort(d.Keys) != "",
		sc == stateevents.ClassNone && stateevents.IsInterface(p) && ifacePort(d.Keys) != "":
		m.Class, m.Port = classTraffic, ifacePort(d.Keys)
	case sc == stateevents.ClassBFD || strings.HasPrefix(p, "/bfd/"):
		m.Class, m.Port = classSession, key(d.Keys, "id")
		if m.Port == "" {
			m.Port = ifacePort(d.Keys) // IOS-XR's session briefs
		}
	case sc == stateevents.ClassBGP || sc == stateevents.ClassNeighbors || strings.Contains(p, "/bgp/") || strings.Contains(p, "established-neighbors"):
		m.Class, m.Neighbor = classSession, key(d.Keys, "neighbor-address")
		if s, ok := inv.Session(d.Device, m.Neighbor); ok && m.Neighbor != "" {
			m.Port = s.Interface
		}
	case sc == stateevents.ClassComponent || strings.HasPrefix(p, "/components/") || d.Detector == powerResidual:
		m.Class, m.Component = classHardware, key(d.Keys, "name")
		if m.Component == "" {
			m.Component = "power"
		}
	}
	return m
}

// declared reports whether inv lists device with an attribute (site,
// role, vendor, model or tags): the operator's file or the simulated
// fleet declared it. The inventory stage also lists, by name alone, the
// devices only LLDP reports, and drops them minutes after they stop
// sending LLDP, as a dead one does: that is no decommissioning.
func declared(inv *schemas.InventoryIndex, device string) bool {
	d, ok := inv.Device(device)
	return ok && (d.Site != "" || d.Role != "" || d.Vendor != "" || d.Model != "" || len(d.Tags) > 0)
}

// key returns the value of name in canonical keys "a=1,b=2", unescaped:
// the collectors escape a backslash, comma or equals sign in a value with
// a backslash ("name=lag\,1" is port "lag,1"), and the inventory names
// ports as they are.
func key(keys, name string) string { return schemas.KeyValue(keys, name) }

// ifacePort returns the interface of keys: name=IF (OpenConfig, SR Linux,
// IOS-XE) or interface-name=IF (IOS-XR's native models); "" for neither.
func ifacePort(keys string) string {
	if n := key(keys, "name"); n != "" {
		return n
	}
	return key(keys, "interface-name")
}

// linkState reports whether m is a link going down or flapping (not an
// admin shutdown, not a lost LLDP neighbour, not a resolution).
func (m *member) linkState() bool {
	return m.Class == classLink && m.Detector != adminDown && !m.lldp()
}

// lldp reports whether m is about an interface's LLDP neighbours: a
// neighbour lost while the link stayed up (a lost neighbour on a link that
// went down is no detection; the link's is).
func (m *member) lldp() bool { return m.Metric == schemas.MetricLLDPNeighbors }

// isRate reports whether metric p is an interface's traffic rate or load
// under a vendor's native model (its last element starts with in-, out-,
// input- or output-, as IOS-XR's input-data-rate).
func isRate(p string) bool {
	last := p[strings.LastIndexByte(p, '/')+1:]
	for _, pre := range []string{"in-", "out-", "input-", "output-"} {
		if strings.HasPrefix(last, pre) {
			return true
		}
	}
	return false
}

// direction returns +1 for an inbound traffic member, -1 for outbound, 0
// for errors, discards, drops and anything else. IOS-XR's generic-counters
// say bytes-received and bytes-sent.
func (m *member) direction() int {
	last := m.Metric[strings.LastIndexByte(m.Metric, '/')+1:]
	switch {
	case m.Class != classTraffic || isLoss(last):
		return 0
	case strings.HasPrefix(last, "in-") || strings.HasPrefix(last, "input-") || strings.HasSuffix(last, "-received"):
		return 1
	case strings.HasPrefix(last, "out-") || strings.HasPrefix(last, "output-") || strings.HasSuffix(last, "-sent"):
		return -1
	}
	return 0
}

// isLoss reports whether a metric's last element counts errors, discards
// or drops (IOS-XR's input-drops, crc-errors) rather than traffic.
func isLoss(last string) bool {
	return strings.Contains(last, "error") || strings.Contains(last, "discard") || strings.Contains(last, "drop")
}

// ingressUp reports whether m is inbound traffic above its expectation.
func (m *member) ingressUp() bool { return m.direction() == 1 && m.Observed > m.Expected }

// egressUp reports whether m is outbound traffic above its expectation.
func (m *member) egressUp() bool { return m.direction() == -1 && m.Observed > m.Expected }
