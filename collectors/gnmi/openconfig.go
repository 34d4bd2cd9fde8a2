package gnmi

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// Documented OpenConfig metric names. The collector publishes every leaf
// under its path without keys; these are the ones the pipeline's models
// know, with their kind fixed here so a counter is never read as a gauge
// whatever type the device encodes it with. README.md has the table.
const (
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
	MetricOperStatus         = "/interfaces/interface/state/oper-status"
	MetricAdminStatus        = "/interfaces/interface/state/admin-status"

	MetricOpticInputPower  = "/components/component/transceiver/state/input-power/instant"
	MetricOpticOutputPower = "/components/component/transceiver/state/output-power/instant"
	MetricOpticLaserBias   = "/components/component/transceiver/state/laser-bias-current/instant"
	MetricOpticSupplyVolts = "/components/component/transceiver/state/supply-voltage/instant"
	MetricLaneInputPower   = "/components/component/transceiver/physical-channels/channel/state/input-power/instant"
	MetricLaneOutputPower  = "/components/component/transceiver/physical-channels/channel/state/output-power/instant"
	MetricLaneLaserBias    = "/components/component/transceiver/physical-channels/channel/state/laser-bias-current/instant"

	// Routing sessions. BGP neighbour keys come out as
	// "name=default,identifier=BGP,protocol.name=BGP,neighbor-address=…";
	// established-neighbors is not an OpenConfig leaf (IOS-XR and others
	// report such a count natively): a telekernel name for it.
	MetricBGPSessionState      = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state"
	MetricBGPEstablished       = "/network-instances/network-instance/protocols/protocol/bgp/global/state/established-neighbors"
	MetricBGPPrefixesReceived  = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/received"
	MetricBGPPrefixesSent      = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/sent"
	MetricBGPPrefixesInstalled = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/state/prefixes/installed"
	MetricBFDSessionState      = "/bfd/interfaces/interface/peers/peer/state/session-state"

	MetricTemperature    = "/components/component/state/temperature/instant"
	MetricFanSpeed       = "/components/component/fan/state/speed"
	MetricPSUInVoltage   = "/components/component/power-supply/state/input-voltage"
	MetricPSUInCurrent   = "/components/component/power-supply/state/input-current"
	MetricPSUOutVoltage  = "/components/component/power-supply/state/output-voltage"
	MetricPSUOutCurrent  = "/components/component/power-supply/state/output-current"
	MetricPSUOutPower    = "/components/component/power-supply/state/output-power"
	MetricPSUCapacity    = "/components/component/power-supply/state/capacity"
	MetricCPUUtilization = "/components/component/cpu/utilization/state/instant"
	MetricSystemCPU      = "/system/cpus/cpu/state/total/instant"
	MetricMemoryUsed     = "/system/memory/state/used"
	MetricMemoryFree     = "/system/memory/state/free"
	MetricMemoryPhysical = "/system/memory/state/physical"
	MetricComponentMem   = "/components/component/state/memory/utilized"
	MetricComponentAvail = "/components/component/state/memory/available"
)

// leafInfo is what the collector knows of a metric before seeing a value.
type leafInfo struct {
	kind schemas.Kind // 0: decided by the first value's type
	// float32 marks OpenConfig ieeefloat32 leaves (PSU values): binary,
	// four bytes, big endian; base64 in JSON.
	float32 bool
}

var knownLeaves = func() map[string]leafInfo {
	m := map[string]leafInfo{}
	for _, c := range []string{MetricInOctets, MetricOutOctets, MetricInUnicastPkts, MetricOutUnicastPkts,
		MetricInMulticastPkts, MetricOutMulticastPkts, MetricInBroadcastPkts, MetricOutBroadcastPkts,
		MetricInPkts, MetricOutPkts, MetricInErrors, MetricOutErrors, MetricInDiscards, MetricOutDiscards,
		MetricInFCSErrors, MetricCarrierTransitions} {
		m[c] = leafInfo{kind: schemas.KindCounter}
	}
	for _, s := range []string{MetricOperStatus, MetricAdminStatus, MetricBGPSessionState, MetricBFDSessionState} {
		m[s] = leafInfo{kind: schemas.KindState}
	}
	for _, g := range []string{MetricOpticInputPower, MetricOpticOutputPower, MetricOpticLaserBias, MetricOpticSupplyVolts,
		MetricLaneInputPower, MetricLaneOutputPower, MetricLaneLaserBias, MetricTemperature, MetricFanSpeed,
		MetricCPUUtilization, MetricSystemCPU, MetricMemoryUsed, MetricMemoryFree, MetricMemoryPhysical,
		MetricComponentMem, MetricComponentAvail, MetricBGPEstablished, MetricBGPPrefixesReceived, MetricBGPPrefixesSent,
		MetricBGPPrefixesInstalled} {
		m[g] = leafInfo{kind: schemas.KindGauge}
	}
	for _, f := range []string{MetricPSUInVoltage, MetricPSUInCurrent, MetricPSUOutVoltage, MetricPSUOutCurrent,
		MetricPSUOutPower, MetricPSUCapacity} {
		m[f] = leafInfo{kind: schemas.KindGauge, float32: true}
	}
	return m
}()

// counterSuffixes mark leaves that are counters wherever they sit.
var counterSuffixes = []string{"-octets", "-pkts", "-packets", "-errors", "-discards", "-transitions", "-drops"}

// classify returns what is known of a metric from its name: the documented
// table first, then the OpenConfig conventions (leaves under a "counters"
// container and leaves named like counters are counters).
func classify(metric string) leafInfo {
	if li, ok := knownLeaves[metric]; ok {
		return li
	}
	if strings.Contains(metric, "/counters/") {
		return leafInfo{kind: schemas.KindCounter}
	}
	for _, s := range counterSuffixes {
		if strings.HasSuffix(metric, s) {
			return leafInfo{kind: schemas.KindCounter}
		}
	}
	return leafInfo{}
}
