package stateevents

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// Class is what a metric says about the state of a thing.
type Class uint8

// Classes of metrics. ClassNone is a metric the detector does not follow.
const (
	ClassNone        Class = iota
	ClassOperStatus        // an interface's oper-status
	ClassAdminStatus       // an interface's admin-status
	ClassBGP               // a BGP neighbour's session-state
	ClassBFD               // a BFD peer's session-state
	ClassComponent         // a component's oper-status
	ClassCarrier           // an interface's carrier-transitions counter
	ClassNeighbors         // a count of established neighbours (gauge or counter)
	ClassTarget            // the collector's view of a target (UP, DOWN)
	ClassLLDP              // a local port's count of LLDP neighbours (gauge)
	numClasses
)

// Metric paths of the classes, from the metric vocabulary (schemas).
const (
	MetricOperStatus      = schemas.MetricOperStatus
	MetricAdminStatus     = schemas.MetricAdminStatus
	MetricBGPSession      = schemas.MetricBGPSessionState
	MetricBFDSession      = schemas.MetricBFDSessionState
	MetricComponentStatus = schemas.MetricComponentOperStatus
	MetricCarrier         = schemas.MetricCarrierTransitions
	MetricTargetState     = schemas.MetricTargetState
	MetricLLDPNeighbors   = schemas.MetricLLDPNeighbors
	// NeighborsElement is matched in the last element of a path: any
	// gauge or counter whose last element contains it counts established
	// neighbours (OpenConfig's bgp/global/state/established-neighbors,
	// IOS-XR's established-neighbors-count-total).
	NeighborsElement = "established-neighbors"
	// InterfacePrefix starts the paths of an interface's own series
	// (counters, gauges, states), keyed by name=IF like its oper-status.
	InterfacePrefix = "/interfaces/interface/"
)

// metrics is the table of exact paths.
var metrics = [...]struct {
	path  string
	class Class
}{
	{MetricOperStatus, ClassOperStatus},
	{MetricAdminStatus, ClassAdminStatus},
	{MetricBGPSession, ClassBGP},
	{MetricBFDSession, ClassBFD},
	{MetricComponentStatus, ClassComponent},
	{MetricCarrier, ClassCarrier},
	{MetricTargetState, ClassTarget},
	{MetricLLDPNeighbors, ClassLLDP},
}

// native is the table of exact native (vendor model) paths, matched
// without their origin: the gNMI collector writes a leaf of a model other
// than OpenConfig as "ORIGIN:/a/b/c" when the target names its origin
// ("Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/…") and as "/a/b/c" when it
// prefixes the elements with their module instead. Only leaves whose
// values Parse knows are here, and only exact paths: a state leaf taken
// by mistake would alarm falsely. iface marks an interface's own leaf,
// keyed by the interface like its other leaves (IsInterface).
var native = [...]struct {
	path  string
	class Class
	iface bool
}{
	// IOS-XR Cisco-IOS-XR-pfi-im-cmd-oper (Im-state-enum), keys
	// interface-name=IF: state is the interface's (hardware) state,
	// line-state its line protocol's; both say im-state-admin-down when
	// the interface is shut. interface-briefs repeats them.
	{"/interfaces/interface-xr/interface/state", ClassOperStatus, true},
	{"/interfaces/interface-xr/interface/line-state", ClassOperStatus, true},
	{"/interfaces/interface-briefs/interface-brief/state", ClassOperStatus, true},
	{"/interfaces/interface-briefs/interface-brief/line-state", ClassOperStatus, true},
	// IOS-XR Cisco-IOS-XR-infra-statsd-oper, keys interface-name=IF: the
	// interface's carrier-transitions among its generic counters, in the
	// latest, total and cache containers (the same grouping in each).
	{"/infra-statistics/interfaces/interface/latest/generic-counters/carrier-transitions", ClassCarrier, true},
	{"/infra-statistics/interfaces/interface/total/generic-counters/carrier-transitions", ClassCarrier, true},
	{"/infra-statistics/interfaces/interface/cache/generic-counters/carrier-transitions", ClassCarrier, true},
	// IOS-XR Cisco-IOS-XR-ipv4-bgp-oper (Bgp-conn-state), the active
	// instance's neighbours of the default VRF and of the VRFs, and the
	// same sessions in its brief sessions list.
	{"/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/connection-state", ClassBGP, false},
	{"/bgp/instances/instance/instance-active/vrfs/vrf/neighbors/neighbor/connection-state", ClassBGP, false},
	{"/bgp/instances/instance/instance-active/default-vrf/sessions/session/connection-state", ClassBGP, false},
	{"/bgp/instances/instance/instance-active/vrfs/vrf/sessions/session/connection-state", ClassBGP, false},
	// IOS-XR Cisco-IOS-XR-ip-bfd-oper (Bfd-mgmt-session-state): the
	// session briefs of every kind and the details' status; a sensor path
	// names one of these lists, not all of them.
	{"/bfd/session-briefs/session-brief/state", ClassBFD, false},
	{"/bfd/ipv4-single-hop-session-briefs/ipv4-single-hop-session-brief/state", ClassBFD, false},
	{"/bfd/ipv4-multi-hop-session-briefs/ipv4-multi-hop-session-brief/state", ClassBFD, false},
	{"/bfd/ipv6-single-hop-session-briefs/ipv6-single-hop-session-brief/state", ClassBFD, false},
	{"/bfd/ipv6-multi-hop-session-briefs/ipv6-multi-hop-session-brief/state", ClassBFD, false},
	{"/bfd/session-details/session-detail/status-information/state", ClassBFD, false},
	{"/bfd/ipv4-single-hop-session-details/ipv4-single-hop-session-detail/status-information/state", ClassBFD, false},
	{"/bfd/ipv4-multi-hop-session-details/ipv4-multi-hop-session-detail/status-information/state", ClassBFD, false},
	// IOS-XE Cisco-IOS-XE-interfaces-oper (oper-state, intf-state), keys
	// name=IF: the leaves are right under the interface, beside its
	// statistics container; OpenConfig's are under state/, so the
	// exact paths take none of OpenConfig's.
	{"/interfaces/interface/oper-status", ClassOperStatus, true},
	{"/interfaces/interface/admin-status", ClassAdminStatus, true},
	// Nokia SR Linux, keys name=IF for the interface.
	{"/interface/oper-state", ClassOperStatus, true},
	{"/interface/admin-state", ClassAdminStatus, true},
	{"/network-instance/protocols/bgp/neighbor/session-state", ClassBGP, false},
	{"/bfd/network-instance/peer/oper-state", ClassBFD, false},
}

// Classify returns the class of a metric path, ClassNone for a metric the
// detector does not follow: an exact OpenConfig or telekernel path of
// the metrics table, a native path of the native table (whatever its
// origin), or a gauge or counter whose last element contains
// NeighborsElement. It is a pure function of the path.
func Classify(metric string) Class {
	for _, m := range metrics {
		if m.path == metric {
			return m.class
		}
	}
	if i := nativeIndex(metric); i >= 0 {
		return native[i].class
	}
	if strings.Contains(metric[strings.LastIndexByte(metric, '/')+1:], NeighborsElement) {
		return ClassNeighbors
	}
	return ClassNone
}

// nativeInterfaces are the native paths under which a series is one
// interface's own, keyed by the interface alone like its state leaves
// (a series below a nested list has more keys, so it is another
// "interface" of the detect stage's and ties to nothing): the list entry
// of IOS-XR's interface tables and SR Linux's statistics containers.
// Matched without their origin, as the native table.
var nativeInterfaces = [...]string{
	// IOS-XR Cisco-IOS-XR-infra-statsd-oper, keys interface-name=IF:
	// generic-counters, data-rate, interfaces-mib-counters, in latest,
	// total and cache.
	"/infra-statistics/interfaces/interface/",
	// IOS-XR Cisco-IOS-XR-pfi-im-cmd-oper, keys interface-name=IF: state,
	// line-state and the interface's other leaves; the briefs.
	"/interfaces/interface-xr/interface/",
	"/interfaces/interface-briefs/interface-brief/",
	// IOS-XE Cisco-IOS-XE-interfaces-oper, keys name=IF: the statistics
	// container (in-octets, rx-kbps, …). Without an origin the path is
	// under InterfacePrefix already; this takes it with one
	// (Cisco-IOS-XE-interfaces-oper:/interfaces/interface/statistics/…).
	"/interfaces/interface/statistics/",
	// Nokia SR Linux, keys name=IF (oper-state and admin-state are in the
	// native table).
	"/interface/statistics/",
	"/interface/traffic-rate/",
	"/interface/ethernet/statistics/",
}

// IsInterface reports whether metric is one of an interface's own series,
// keyed by the interface: the OpenConfig paths under InterfacePrefix, the
// native paths under one of nativeInterfaces (IOS-XR's
// /infra-statistics/interfaces/interface/…, /interfaces/interface-xr/interface/…
// and /interfaces/interface-briefs/interface-brief/…, keys
// interface-name=IF; IOS-XE's /interfaces/interface/statistics/… and SR
// Linux's /interface/statistics/…, keys name=IF), whatever their origin,
// and the native interface leaves of the native table (IOS-XE's
// /interfaces/interface/oper-status and admin-status, SR Linux's
// /interface/oper-state and /interface/admin-state).
// The detect stage ties such series of one device and interface (keys
// name=IF or interface-name=IF, whichever the model) together: the
// rates of an interface that is down are not scored, and an admin-status
// down explains its oper-status going down.
func IsInterface(metric string) bool {
	if strings.HasPrefix(metric, InterfacePrefix) {
		return true
	}
	path := withoutOrigin(metric)
	for _, p := range nativeInterfaces {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	i := nativeIndex(metric)
	return i >= 0 && native[i].iface
}

// withoutOrigin returns metric without an origin ("ORIGIN:/a/b" is
// "/a/b").
func withoutOrigin(metric string) string {
	if i := strings.IndexByte(metric, '/'); i > 0 && metric[i-1] == ':' {
		return metric[i:]
	}
	return metric
}

// nativeIndex returns the index in native of metric without its origin,
// -1 when it is none.
func nativeIndex(metric string) int {
	metric = withoutOrigin(metric)
	for i, m := range native {
		if m.path == metric {
			return i
		}
	}
	return -1
}

// IsStatus reports whether c is a class of enumerated state values (fed
// with Tracker.UpdateStatus).
func (c Class) IsStatus() bool {
	return c >= ClassOperStatus && c <= ClassComponent || c == ClassTarget
}

var classNames = [numClasses]string{"none", "oper-status", "admin-status", "bgp-session", "bfd-session", "component-status", "carrier-transitions", "established-neighbors", "target-state", "lldp-neighbors"}

// IsLevel reports whether c is a class of counts (fed with
// Tracker.UpdateLevel): established neighbours, LLDP neighbours.
func (c Class) IsLevel() bool { return c == ClassNeighbors || c == ClassLLDP }

// String returns the class's name.
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "class?"
}

// Status is the verdict on a state value.
type Status uint8

// Statuses. StatusNone is a series that has shown no known value yet.
const (
	StatusNone      Status = iota
	StatusUp               // working: UP, ESTABLISHED, ACTIVE
	StatusDown             // not working although wanted
	StatusAdminDown        // down on purpose: admin-status DOWN, BFD ADMIN_DOWN, component DISABLED
)

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case StatusUp:
		return "up"
	case StatusDown:
		return "down"
	case StatusAdminDown:
		return "admin-down"
	}
	return "none"
}

// Reason tells why a value was not understood; ReasonNone when it was.
type Reason uint8

// Reasons.
const (
	ReasonNone Reason = iota
	// ReasonUnknownValue is a value the detector does not know (a vendor
	// enum): kept as the raw state, no verdict.
	ReasonUnknownValue
	// ReasonIndeterminate is a known value that says nothing either way
	// (UNKNOWN, admin-status TESTING).
	ReasonIndeterminate
)

// String returns the reason's name, as used for a metric label.
func (r Reason) String() string {
	switch r {
	case ReasonUnknownValue:
		return "unknown_value"
	case ReasonIndeterminate:
		return "indeterminate"
	}
	return "none"
}

// indeterminate marks a known value without a verdict in the tables below.
const indeterminate Status = 255

// maxValue bounds a normalised value: the longest known one is IOS-XR's
// bfd-mgmt-session-state-admin-down (28 bytes without its separators); a
// longer value is unknown. At 32 bytes or less the string Parse makes of
// it stays on the stack.
const maxValue = 32

// Parse returns the verdict on value for a status class. Case, a module
// prefix ("openconfig-if-types:") and the separators '_', '-' and ' ' are
// ignored, so "LOWER_LAYER_DOWN", "lowerLayerDown" and "7" (the SNMP
// ifOperStatus number) are the same value. Vendor enums are values of
// their own (IOS-XR's "im-state-admin-down", SR Linux's "disable"). It
// does not allocate.
func Parse(c Class, value string) (Status, Reason) {
	if i := strings.LastIndexByte(value, ':'); i >= 0 {
		value = value[i+1:]
	}
	var buf [maxValue]byte
	n := 0
	for i := 0; i < len(value); i++ {
		b := value[i]
		switch {
		case b == '_' || b == '-' || b == ' ':
			continue
		case n == len(buf):
			return StatusNone, ReasonUnknownValue
		case 'A' <= b && b <= 'Z':
			b += 'a' - 'A'
		}
		buf[n] = b
		n++
	}
	s := parseNormal(c, string(buf[:n]))
	switch s {
	case StatusNone:
		return StatusNone, ReasonUnknownValue
	case indeterminate:
		return StatusNone, ReasonIndeterminate
	}
	return s, ReasonNone
}

// parseNormal maps a normalised value (lower case, no separators) of class
// c. The numbers are the SNMP MIBs' (IF-MIB ifOperStatus/ifAdminStatus,
// BGP4-MIB bgpPeerState, BFD-STD-MIB bfdSessState); the lower-case names
// are also SR Linux's, SR OS's and Junos's; "imstate…", "bgpst…" and
// "bfdmgmtsessionstate…" are IOS-XR's native enums (Im-state-enum,
// Bgp-conn-state, Bfd-mgmt-session-state); "ifoperstate…" and "ifstate…"
// IOS-XE's (Cisco-IOS-XE-interfaces-oper oper-state and intf-state, as
// recalled, not checked against the YANG module).
func parseNormal(c Class, v string) Status {
	switch c {
	case ClassOperStatus:
		switch v {
		case "up", "1",
			"imstateup", "imstateoperational",
			"ifoperstateready":
			return StatusUp
		case "down", "2", "testing", "3", "dormant", "5", "notpresent", "6", "lowerlayerdown", "7",
			// Down without an operator: not ready (no optic, card
			// booting), error-disabled by a protection (UDLD, storm
			// control, link-flap), brought down now or gracefully.
			"imstatedown", "imstatenotready", "imstateerrdisable", "imstatedownimmediate", "imstatedowngraceful",
			"imstatebegindowngraceful", "imstatebeginerrordisable", "imstateenderrordisable",
			"imstatenotoperational", "imstatereset",
			// IOS-XE's oper-state: no-pass is down, the others as
			// OpenConfig's counterparts.
			"ifoperstatenopass", "ifoperstatelowerlayerdown", "ifoperstatenotpresent", "ifoperstatedormant", "ifoperstatetest":
			return StatusDown
		case "imstateadmindown", "imstateshutdown", "imstatedownimmediateadmin", "imstatebeginshutdown", "imstateendshutdown":
			// IOS-XR's state and line-state carry the shut in the one
			// value: down on purpose.
			return StatusAdminDown
		case "unknown", "4", "imstateunknown", "ifoperstateunknown", "ifoperstateinvalid":
			return indeterminate
		}
	case ClassAdminStatus:
		switch v {
		case "up", "1", "enable", "ifstateup":
			return StatusUp
		case "down", "2", "disable", "ifstatedown":
			return StatusAdminDown
		case "testing", "3", "ifstatetest", "ifstateunknown":
			return indeterminate
		}
	case ClassBGP:
		switch v {
		case "established", "6", "bgpstestab":
			return StatusUp
		case "idle", "1", "connect", "2", "active", "3", "opensent", "4", "openconfirm", "5",
			"bgpstidle", "bgpstconnect", "bgpstactive", "bgpstopensent", "bgpstopenconfirm", "bgpstclosing", "bgpstclosingsync":
			return StatusDown
		case "bgpstdontcare":
			return indeterminate
		}
	case ClassBFD:
		switch v {
		case "up", "4", "bfdmgmtsessionstateup":
			return StatusUp
		case "down", "2", "init", "3", "bfdmgmtsessionstatedown", "bfdmgmtsessionstateinit", "bfdmgmtsessionstatefailing":
			return StatusDown
		case "admindown", "1", "bfdmgmtsessionstateadmindown":
			return StatusAdminDown
		case "bfdmgmtsessionstateunknown":
			return indeterminate
		}
	case ClassTarget:
		switch v {
		case "up":
			return StatusUp
		case "down":
			return StatusDown
		}
	case ClassComponent:
		switch v {
		case "active":
			return StatusUp
		case "inactive":
			return StatusDown
		case "disabled":
			return StatusAdminDown
		}
	}
	return StatusNone
}
