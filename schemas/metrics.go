package schemas

import "strings"

// The metric vocabulary: the names that collectors publish in the samples'
// metric column and that the models (detect, power, maintenance) read. A
// name is an OpenConfig-style path without list keys; SNMP objects with an
// OpenConfig equivalent are published under its path, so one device's gNMI
// and SNMP series line up. MetricInfo, through Metrics and LookupMetric,
// gives each name's kind, unit, origin and meaning; README.md's table is
// generated from it.
const (
	// Interface counters (openconfig-interfaces).
	MetricInOctets           = "/interfaces/interface/state/counters/in-octets"
	MetricOutOctets          = "/interfaces/interface/state/counters/out-octets"
	MetricInUnicastPkts      = "/interfaces/interface/state/counters/in-unicast-pkts"
	MetricOutUnicastPkts     = "/interfaces/interface/state/counters/out-unicast-pkts"
	MetricInMulticastPkts    = "/interfaces/interface/state/counters/in-multicast-pkts"
	MetricOutMulticastPkts   = "/interfaces/interface/state/counters/out-multicast-pkts"
	MetricInBroadcastPkts    = "/interfaces/interface/state/counters/in-broadcast-pkts"
	MetricOutBroadcastPkts   = "/interfaces/interface/state/counters/out-broadcast-pkts"
	MetricInPkts             = "/interfaces/interface/state/counters/in-pkts"
	MetricOutPkts            = "/interfaces/interface/state/counters/out-pkts"
	MetricInErrors           = "/interfaces/interface/state/counters/in-errors"
	MetricOutErrors          = "/interfaces/interface/state/counters/out-errors"
	MetricInDiscards         = "/interfaces/interface/state/counters/in-discards"
	MetricOutDiscards        = "/interfaces/interface/state/counters/out-discards"
	MetricInFCSErrors        = "/interfaces/interface/state/counters/in-fcs-errors"
	MetricCarrierTransitions = "/interfaces/interface/state/counters/carrier-transitions"

	// Interface states and settings.
	MetricOperStatus  = "/interfaces/interface/state/oper-status"
	MetricAdminStatus = "/interfaces/interface/state/admin-status"
	MetricPortSpeed   = "/interfaces/interface/ethernet/state/port-speed"
	MetricAggregateID = "/interfaces/interface/ethernet/state/aggregate-id"

	// Transceivers (openconfig-platform-transceiver), per module and per
	// lane, and the device's own alarm thresholds (keys add severity=…).
	MetricOpticInputPower       = "/components/component/transceiver/state/input-power/instant"
	MetricOpticOutputPower      = "/components/component/transceiver/state/output-power/instant"
	MetricOpticLaserBias        = "/components/component/transceiver/state/laser-bias-current/instant"
	MetricOpticSupplyVolts      = "/components/component/transceiver/state/supply-voltage/instant"
	MetricOpticPresent          = "/components/component/transceiver/state/present"
	MetricLaneInputPower        = "/components/component/transceiver/physical-channels/channel/state/input-power/instant"
	MetricLaneOutputPower       = "/components/component/transceiver/physical-channels/channel/state/output-power/instant"
	MetricLaneLaserBias         = "/components/component/transceiver/physical-channels/channel/state/laser-bias-current/instant"
	MetricThresholdInPowerLower = "/components/component/transceiver/thresholds/threshold/state/input-power-lower"
	MetricThresholdBiasUpper    = "/components/component/transceiver/thresholds/threshold/state/laser-bias-current-upper"

	// Routing sessions. BGP neighbour keys come out as
	// "name=default,identifier=BGP,protocol.name=BGP,neighbor-address=…".
	MetricBGPSessionState      = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state"
	MetricBGPEstablished       = "/network-instances/network-instance/protocols/protocol/bgp/global/state/established-neighbors"
	MetricBGPPrefixesReceived  = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/received"
	MetricBGPPrefixesSent      = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/sent"
	MetricBGPPrefixesInstalled = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/installed"
	MetricBFDSessionState      = "/bfd/interfaces/interface/peers/peer/state/session-state"

	// LLDP neighbours (openconfig-lldp), keyed by LLDPNeighborKeys: what
	// the device learned about the far end of one of its ports.
	MetricLLDPNeighborSystemName = "/lldp/interfaces/interface/neighbors/neighbor/state/system-name"
	MetricLLDPNeighborPortID     = "/lldp/interfaces/interface/neighbors/neighbor/state/port-id"

	// Components (openconfig-platform): environment, power supplies, CPU
	// and memory.
	MetricComponentOperStatus = "/components/component/state/oper-status"
	MetricPartNo              = "/components/component/state/part-no"
	MetricTemperature         = "/components/component/state/temperature/instant"
	MetricFanSpeed            = "/components/component/fan/state/speed"
	MetricPSUInVoltage        = "/components/component/power-supply/state/input-voltage"
	MetricPSUInCurrent        = "/components/component/power-supply/state/input-current"
	MetricPSUInPower          = "/components/component/power-supply/state/input-power"
	MetricPSUOutVoltage       = "/components/component/power-supply/state/output-voltage"
	MetricPSUOutCurrent       = "/components/component/power-supply/state/output-current"
	MetricPSUOutPower         = "/components/component/power-supply/state/output-power"
	MetricPSUCapacity         = "/components/component/power-supply/state/capacity"
	MetricPSUEfficiency       = "/components/component/power-supply/state/efficiency"
	MetricCPUUtilization      = "/components/component/cpu/utilization/state/instant"
	MetricComponentMem        = "/components/component/state/memory/utilized"
	MetricComponentAvail      = "/components/component/state/memory/available"
	MetricSystemCPU           = "/system/cpus/cpu/state/total/instant"
	MetricMemoryUsed          = "/system/memory/state/used"
	MetricMemoryFree          = "/system/memory/state/free"
	MetricMemoryPhysical      = "/system/memory/state/physical"

	// SNMP values without an OpenConfig leaf carry the "snmp:" origin.
	// MetricSNMPSensorPrefix is followed by the ENTITY-SENSOR type.
	MetricSNMPSensorPrefix  = "snmp:/entity-sensor/"
	MetricSNMPDiscontinuity = "snmp:/counter-discontinuity"

	// MetricTargetState is the collector's own view of a target, not a
	// value the device sends: TargetUp when its stream is established (or
	// its SNMP agent answers again), TargetDown when a target that was up
	// is lost, stalls past its timeout or stops answering. It is stamped
	// with the collector's clock at the transition (a silent device sends
	// no time; the gNMI collector carries that clock on the device's time
	// line), once per transition, not once per retry; the keys are empty.
	// MetricTargetReason, at the same time, says why.
	MetricTargetState = "telekernel:/collector/target/state"
	// MetricTargetReason is the reason of the latest MetricTargetState
	// transition: TargetReasonEstablished, TargetReasonStreamLost,
	// TargetReasonStalled or TargetReasonPollTimeout.
	MetricTargetReason = "telekernel:/collector/target/reason"

	// MetricLLDPNeighbors is the count of LLDP neighbours a local port has
	// now, keyed by LLDPPortKeys (name=PORT, like the interface's own
	// series). Devices publish no such leaf and no sample when a neighbour
	// goes away (a gNMI delete, a vanished SNMP row), so the collectors
	// derive it: the SNMP collector from each poll of lldpRemTable, for
	// every port that has had a neighbour (0 once it has none); the gNMI
	// collector from the neighbour entries it decodes and the deletes of
	// them, published when a port's set of neighbours changes, at the
	// notification's time. A drop is a lost neighbour, seen once the
	// device's LLDP hold time (typically 120 s) has passed or it flushed
	// the entry.
	MetricLLDPNeighbors = "telekernel:/lldp/interfaces/interface/state/neighbors"
)

// Values of MetricTargetState and MetricTargetReason.
const (
	TargetUp   = "UP"
	TargetDown = "DOWN"
	// TargetReasonEstablished: the gNMI stream delivers again, or the SNMP
	// agent answers again.
	TargetReasonEstablished = "established"
	// TargetReasonStreamLost: the gNMI stream ended or could not be
	// re-established (the connection was refused, reset or closed).
	TargetReasonStreamLost = "stream_lost"
	// TargetReasonStalled: the gNMI stream sent nothing within its stall
	// timeout.
	TargetReasonStalled = "stalled"
	// TargetReasonPollTimeout: the SNMP agent did not answer several polls
	// in a row.
	TargetReasonPollTimeout = "poll_timeout"
)

// BGPInstanceKeys are the keys of a device's BGP instance in the default
// network instance, in the canonical form the collectors give them
// (network-instance name, then protocol identifier and name): the keys of
// MetricBGPEstablished, and the start of a neighbour's keys
// ("…,neighbor-address=A").
const BGPInstanceKeys = "name=default,identifier=BGP,protocol.name=BGP"

// LLDPNeighborKeys returns the keys of an LLDP neighbour's series in the
// collectors' canonical form: the local port, then the neighbour's id
// ("name=Ethernet1,id=spine-0").
func LLDPNeighborKeys(port, id string) string {
	return "name=" + EscapeKeyValue(port) + ",id=" + EscapeKeyValue(id)
}

// LLDPPortKeys returns the keys of a local port's MetricLLDPNeighbors in
// the collectors' canonical form ("name=Ethernet1"): an interface's keys.
func LLDPPortKeys(port string) string {
	return "name=" + EscapeKeyValue(port)
}

// ParseLLDPNeighborKeys returns the local port and neighbour id of keys
// LLDPNeighborKeys made; ok is false when keys have another form.
func ParseLLDPNeighborKeys(keys string) (port, id string, ok bool) {
	var rest string
	port, rest, ok = cutKey(keys, "name=")
	if !ok || rest == "" || rest[0] != ',' {
		return "", "", false
	}
	id, rest, ok = cutKey(rest[1:], "id=")
	if !ok || rest != "" {
		return "", "", false
	}
	return port, id, true
}

// SNMPInterfaceKeys returns the keys the SNMP collector gives an
// interface: name= its ifName, else its ifDescr, else "ifIndex" and its
// index ("name=ifIndex3").
func SNMPInterfaceKeys(ifName, ifDescr, ifIndex string) string {
	name := ifName
	if name == "" {
		name = ifDescr
	}
	if name == "" {
		name = "ifIndex" + ifIndex
	}
	return "name=" + EscapeKeyValue(name)
}

// KeyValue returns the value of name in canonical keys "a=1,b=2",
// unescaped (EscapeKeyValue's inverse: "name=lag\,1" is "lag,1"); "" when
// keys have no such key.
func KeyValue(keys, name string) string {
	for keys != "" {
		k, rest, ok := strings.Cut(keys, "=")
		if !ok {
			return ""
		}
		end := valueEnd(rest)
		if k == name {
			return unescapeKeyValue(rest[:end])
		}
		keys = strings.TrimPrefix(rest[end:], ",")
	}
	return ""
}

// valueEnd returns the index in s of the first comma no backslash
// escapes, or len(s).
func valueEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			return i
		}
	}
	return len(s)
}

// unescapeKeyValue drops the backslash before each escaped character of v.
func unescapeKeyValue(v string) string {
	if !strings.ContainsRune(v, '\\') {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// EscapeKeyValue escapes backslash, comma and equals sign with a backslash,
// as the collectors do in key values.
func EscapeKeyValue(v string) string {
	if !strings.ContainsAny(v, `\,=`) {
		return v
	}
	var b strings.Builder
	for _, r := range v {
		if r == '\\' || r == ',' || r == '=' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cutKey reads "prefix" then an escaped value from s up to an unescaped
// comma, and returns the unescaped value and what follows it.
func cutKey(s, prefix string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, prefix) {
		return "", "", false
	}
	s = s[len(prefix):]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ',':
			return b.String(), s[i:], true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", true
}

// MetricOrigin says where a metric of the vocabulary comes from.
type MetricOrigin uint8

// The origins of metrics.
const (
	// OriginOpenConfig is an OpenConfig leaf that devices publish.
	OriginOpenConfig MetricOrigin = iota + 1
	// OriginNative is a leaf OpenConfig does not have, under a telekernel
	// name for a value that devices report in their native models.
	OriginNative
	// OriginDerived is computed by telekernel from other metrics.
	OriginDerived
	// OriginSNMP is published by the SNMP collector only.
	OriginSNMP
)

// String returns the origin's name as README.md's table shows it.
func (o MetricOrigin) String() string {
	switch o {
	case OriginOpenConfig:
		return "OpenConfig"
	case OriginNative:
		return "native"
	case OriginDerived:
		return "derived"
	case OriginSNMP:
		return "SNMP"
	}
	return "unknown"
}

// MetricInfo describes one name of the metric vocabulary.
type MetricInfo struct {
	// Name is the metric column's value; for a prefix (Prefix true) the
	// start of it.
	Name string
	// Kind is how the values are published and read.
	Kind Kind
	// Fixed says the collectors publish the metric with Kind whatever type
	// a device encodes it with. When false, Kind is what devices send and
	// models expect, but the gNMI collector takes the kind from the first
	// value's type, as for any leaf outside the vocabulary.
	Fixed bool
	// Float32 marks an OpenConfig ieeefloat32 leaf: binary, four bytes,
	// big endian (base64 in JSON).
	Float32 bool
	// Prefix marks a family of names that start with Name.
	Prefix bool
	// Origin says where the values come from.
	Origin MetricOrigin
	// Unit of the values (of the rate, for counters); empty for states.
	Unit string
	// Meaning is one line for the README table.
	Meaning string
}

// metricTable is the vocabulary. Its order is README.md's.
var metricTable = [...]MetricInfo{
	vCounter(MetricInOctets, "bytes", "bytes received on the interface"),
	vCounter(MetricOutOctets, "bytes", "bytes sent"),
	vCounter(MetricInUnicastPkts, "packets", "unicast packets received"),
	vCounter(MetricOutUnicastPkts, "packets", "unicast packets sent"),
	vCounter(MetricInMulticastPkts, "packets", "multicast packets received"),
	vCounter(MetricOutMulticastPkts, "packets", "multicast packets sent"),
	vCounter(MetricInBroadcastPkts, "packets", "broadcast packets received"),
	vCounter(MetricOutBroadcastPkts, "packets", "broadcast packets sent"),
	vCounter(MetricInPkts, "packets", "packets received"),
	vCounter(MetricOutPkts, "packets", "packets sent"),
	vCounter(MetricInErrors, "packets", "inbound packets with errors"),
	vCounter(MetricOutErrors, "packets", "outbound packets with errors"),
	vCounter(MetricInDiscards, "packets", "inbound packets discarded"),
	vCounter(MetricOutDiscards, "packets", "outbound packets discarded"),
	vCounter(MetricInFCSErrors, "frames", "inbound frames with a bad checksum (CRC)"),
	vCounter(MetricCarrierTransitions, "transitions", "link up/down transitions"),

	vState(MetricOperStatus, true, "interface operational status (UP, DOWN, …)"),
	vState(MetricAdminStatus, true, "interface administrative status"),
	vState(MetricPortSpeed, false, "Ethernet port speed (SPEED_100GB, …): read by the power model"),
	vState(MetricAggregateID, true, "the LAG an Ethernet port belongs to: read by the power model"),

	vGauge(MetricOpticInputPower, "dBm", "transceiver receive power"),
	vGauge(MetricOpticOutputPower, "dBm", "transceiver transmit power"),
	vGauge(MetricOpticLaserBias, "mA", "transceiver laser bias current"),
	vGauge(MetricOpticSupplyVolts, "V", "transceiver supply voltage"),
	vState(MetricOpticPresent, false, "transceiver presence (PRESENT, NOT_PRESENT): read by the power model"),
	vGauge(MetricLaneInputPower, "dBm", "receive power of one lane"),
	vGauge(MetricLaneOutputPower, "dBm", "transmit power of one lane"),
	vGauge(MetricLaneLaserBias, "mA", "laser bias current of one lane"),
	vLoose(MetricThresholdInPowerLower, "dBm", "device alarm threshold of receive power (keys add severity=…)"),
	vLoose(MetricThresholdBiasUpper, "mA", "device alarm threshold of laser bias (keys add severity=…)"),

	vState(MetricBGPSessionState, true, "BGP neighbour session state (IDLE … ESTABLISHED)"),
	{Name: MetricBGPEstablished, Kind: KindGauge, Fixed: true, Origin: OriginNative, Unit: "neighbours",
		Meaning: "count of established BGP neighbours (no OpenConfig leaf; IOS-XR and others report it)"},
	vGauge(MetricBGPPrefixesReceived, "prefixes", "prefixes received from a neighbour (keys add afi-safi-name=…)"),
	vGauge(MetricBGPPrefixesSent, "prefixes", "prefixes sent to a neighbour"),
	vGauge(MetricBGPPrefixesInstalled, "prefixes", "prefixes from a neighbour installed"),
	vState(MetricBFDSessionState, true, "BFD session state (UP, DOWN, …)"),
	vState(MetricLLDPNeighborSystemName, true, "LLDP neighbour's system name on a local port (keys name=PORT,id=NEIGHBOR): read for the inventory's links"),
	vState(MetricLLDPNeighborPortID, true, "LLDP neighbour's port id on a local port (keys name=PORT,id=NEIGHBOR): read for the inventory's links"),

	vState(MetricComponentOperStatus, false, "component operational status (ACTIVE, …)"),
	vState(MetricPartNo, true, "component part number: read by the power model"),
	vGauge(MetricTemperature, "degC", "component temperature"),
	vGauge(MetricFanSpeed, "rpm", "fan speed"),
	vPSU(MetricPSUInVoltage, "V", "power supply input voltage"),
	vPSU(MetricPSUInCurrent, "A", "power supply input current"),
	{Name: MetricPSUInPower, Kind: KindGauge, Origin: OriginDerived, Unit: "W",
		Meaning: "power supply input power: input-voltage × input-current of one notification (gNMI collector)"},
	vPSU(MetricPSUOutVoltage, "V", "power supply output voltage"),
	vPSU(MetricPSUOutCurrent, "A", "power supply output current"),
	vPSU(MetricPSUOutPower, "W", "power supply output power"),
	vPSU(MetricPSUCapacity, "W", "power supply capacity"),
	{Name: MetricPSUEfficiency, Kind: KindGauge, Origin: OriginDerived, Unit: "ratio",
		Meaning: "output over input power of a power supply (maintenance tracker; not published)"},
	vGauge(MetricCPUUtilization, "%", "CPU utilisation of a component"),
	vGauge(MetricComponentMem, "bytes", "memory used by a component"),
	vGauge(MetricComponentAvail, "bytes", "memory available to a component"),
	vGauge(MetricSystemCPU, "%", "total utilisation of a CPU"),
	vGauge(MetricMemoryUsed, "bytes", "system memory used"),
	vGauge(MetricMemoryFree, "bytes", "system memory free"),
	vGauge(MetricMemoryPhysical, "bytes", "system physical memory"),

	{Name: MetricSNMPSensorPrefix, Kind: KindGauge, Fixed: true, Prefix: true, Origin: OriginSNMP,
		Meaning: "other ENTITY-SENSOR values, + the sensor type, scale and precision applied"},
	{Name: MetricSNMPDiscontinuity, Kind: KindState, Fixed: true, Origin: OriginSNMP,
		Meaning: "marks an agent restart or a counter discontinuity (value: the reason)"},
	{Name: MetricTargetState, Kind: KindState, Origin: OriginNative,
		Meaning: "the collector's view of the target (UP, DOWN), published by the collectors at each transition, stamped with the collector's clock"},
	{Name: MetricTargetReason, Kind: KindState, Origin: OriginNative,
		Meaning: "why the target state changed (established, stream_lost, stalled, poll_timeout)"},
	{Name: MetricLLDPNeighbors, Kind: KindGauge, Fixed: true, Origin: OriginDerived, Unit: "neighbours",
		Meaning: "LLDP neighbours a local port has now (keys name=PORT), counted by the collectors from the neighbour entries, 0 once they are gone: read for LLDP neighbour loss"},
}

func vCounter(name, unit, meaning string) MetricInfo {
	return MetricInfo{Name: name, Kind: KindCounter, Fixed: true, Origin: OriginOpenConfig, Unit: unit, Meaning: meaning}
}

func vGauge(name, unit, meaning string) MetricInfo {
	return MetricInfo{Name: name, Kind: KindGauge, Fixed: true, Origin: OriginOpenConfig, Unit: unit, Meaning: meaning}
}

// vLoose is a gauge whose kind the gNMI collector takes from the values.
func vLoose(name, unit, meaning string) MetricInfo {
	return MetricInfo{Name: name, Kind: KindGauge, Origin: OriginOpenConfig, Unit: unit, Meaning: meaning}
}

func vPSU(name, unit, meaning string) MetricInfo {
	m := vGauge(name, unit, meaning)
	m.Float32 = true
	return m
}

func vState(name string, fixed bool, meaning string) MetricInfo {
	return MetricInfo{Name: name, Kind: KindState, Fixed: fixed, Origin: OriginOpenConfig, Meaning: meaning}
}

// Metrics returns the vocabulary in README order. The slice is the
// caller's.
func Metrics() []MetricInfo {
	return append([]MetricInfo(nil), metricTable[:]...)
}

// LookupMetric returns what the vocabulary says of a metric name: an exact
// name, or a name under a prefix entry (snmp:/entity-sensor/TYPE).
func LookupMetric(name string) (MetricInfo, bool) {
	for _, m := range metricTable {
		if m.Name == name || m.Prefix && strings.HasPrefix(name, m.Name) {
			return m, true
		}
	}
	return MetricInfo{}, false
}
