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

// Classify returns the class of a metric path, ClassNone for a metric the
// detector does not follow.
func Classify(metric string) Class {
	for _, m := range metrics {
		if m.path == metric {
			return m.class
		}
	}
	if strings.Contains(metric[strings.LastIndexByte(metric, '/')+1:], NeighborsElement) {
		return ClassNeighbors
	}
	return ClassNone
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

// Parse returns the verdict on value for a status class. Case, a module
// prefix ("openconfig-if-types:") and the separators '_', '-' and ' ' are
// ignored, so "LOWER_LAYER_DOWN", "lowerLayerDown" and "7" (the SNMP
// ifOperStatus number) are the same value. It does not allocate.
func Parse(c Class, value string) (Status, Reason) {
	if i := strings.LastIndexByte(value, ':'); i >= 0 {
		value = value[i+1:]
	}
	var buf [24]byte
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
// BGP4-MIB bgpPeerState, BFD-STD-MIB bfdSessState).
func parseNormal(c Class, v string) Status {
	switch c {
	case ClassOperStatus:
		switch v {
		case "up", "1":
			return StatusUp
		case "down", "2", "testing", "3", "dormant", "5", "notpresent", "6", "lowerlayerdown", "7":
			return StatusDown
		case "unknown", "4":
			return indeterminate
		}
	case ClassAdminStatus:
		switch v {
		case "up", "1":
			return StatusUp
		case "down", "2":
			return StatusAdminDown
		case "testing", "3":
			return indeterminate
		}
	case ClassBGP:
		switch v {
		case "established", "6":
			return StatusUp
		case "idle", "1", "connect", "2", "active", "3", "opensent", "4", "openconfirm", "5":
			return StatusDown
		}
	case ClassBFD:
		switch v {
		case "up", "4":
			return StatusUp
		case "down", "2", "init", "3":
			return StatusDown
		case "admindown", "1":
			return StatusAdminDown
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
