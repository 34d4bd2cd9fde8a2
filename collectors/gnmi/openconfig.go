package gnmi

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// leafInfo is what the collector knows of a metric before seeing a value.
type leafInfo struct {
	kind schemas.Kind // 0: decided by the first value's type
	// float32 marks OpenConfig ieeefloat32 leaves (PSU values): binary,
	// four bytes, big endian; base64 in JSON.
	float32 bool
	// lldp marks the leaves of an LLDP neighbour entry
	// (lldpNeighborEntry/… or ieeeLLDPEntry/…), which the decoder counts
	// per local port.
	lldp bool
	// counting marks a leaf whose name reads as a count of events
	// (countingSuffixes): a counter when its first value is a whole
	// number (kindOf).
	counting bool
}

// lldpNeighborEntry is the path of an LLDP neighbour's list entry, keyed
// name=LOCALPORT,id=NEIGHBOR.
const lldpNeighborEntry = "/lldp/interfaces/interface/neighbors/neighbor"

// ieeeLLDPEntry is the path of an LLDP neighbour's list entry in
// ieee802-dot1ab-lldp (IEEE Std 802.1ABcu-2021), keyed
// dest-mac-address=AGENT,name=LOCALPORT,remote-index=R,time-mark=T: the
// port's list is keyed by name and the destination MAC address of its
// LLDP agent, the neighbours' by time-mark and remote-index.
const ieeeLLDPEntry = "/lldp/port/remote-systems-data"

// knownLeaves holds the kinds the collector fixes: the vocabulary's fixed
// leaves that devices publish (schemas.Metrics), so a counter is never read
// as a gauge whatever type the device encodes it with. Derived and
// SNMP-only names are not leaves a device sends. An ieee802-dot1ab-lldp
// neighbour's system name and port id are text whatever they read, as
// the vocabulary's names they are published under too (lldpAlias): a port
// id that is an ifIndex ("527") comes in JSON_IETF as a string like a
// 64-bit number, and as a gauge the inventory, which reads their text,
// would take the neighbour for gone.
var knownLeaves = func() map[string]leafInfo {
	m := map[string]leafInfo{}
	for _, v := range schemas.Metrics() {
		if v.Fixed && (v.Origin == schemas.OriginOpenConfig || v.Origin == schemas.OriginNative) {
			m[v.Name] = leafInfo{kind: v.Kind, float32: v.Float32}
		}
	}
	for _, name := range []string{ieeeLLDPEntry + "/system-name", ieeeLLDPEntry + "/port-id"} {
		m[name] = leafInfo{kind: schemas.KindState}
	}
	return m
}()

// counterSuffixes mark leaves that are counters wherever they sit.
var counterSuffixes = []string{"-octets", "-pkts", "-packets", "-errors", "-discards", "-transitions", "-drops"}

// counterContainers are containers of vendor models whose leaves are
// cumulative counters but for times and flags (notCounterInContainer),
// whatever their names: IOS-XR's interface statistics
// (Cisco-IOS-XR-infra-statsd-oper's generic-counters and
// interfaces-mib-counters, Cisco-IOS-XR-pfi-im-cmd-oper's
// full-interface-stats), where the traffic counters are bytes-received,
// packets-sent and so on, which no suffix marks.
var counterContainers = []string{"/generic-counters/", "/interfaces-mib-counters/", "/full-interface-stats/"}

// notCounterInContainer reports whether leaf, in a container of counters
// (OpenConfig's counters or a counterContainers one), is a time or a flag
// rather than a counter: seconds-since-packet-received, last-data-time,
// availability-flag, and OpenConfig's last-clear (the time in ns the
// counters were last cleared: as a counter, a rate of 0, then ~1e9/s at a
// clear).
func notCounterInContainer(leaf string) bool {
	return strings.HasPrefix(leaf, "seconds-since-") || strings.HasPrefix(leaf, "last-") || strings.HasSuffix(leaf, "-flag")
}

// countingSuffixes mark leaves that count events when their values are
// whole numbers, in vendor models that keep such counts outside any
// counters container: IOS-XR's BGP update-messages-received and
// messages-sent, its ARP requests-received and replies-sent, its IPv4
// drop reasons (gre-lookup-failed-drop), output-buffer-failures,
// configuration-items-processed. Unlike counterSuffixes they do not fix
// the kind by name: the first value does (kindOf), so a text leaf of
// such a name stays a state and a fractional one a gauge. They are the
// counter suffixes of the wide CSV importer's default mapping
// (backtest.DefaultMapping), so a capture replayed over gNMI gives the
// detect stage the series that telekernel eval gave it. Without them a
// running total was a gauge, which never falls when its source stops and
// whose every new high is a new extreme: 32 such BGP and traffic totals,
// 10 s apart for 3 hours, fired 34–43 alerts as gauges (measured with a
// throwaway probe) and fire none as counters (stages/detect,
// TestDetectRunningTotals).
var countingSuffixes = []string{"-received", "-sent", "-messages", "-failures", "-processed", "-drop"}

// counting reports whether metric's last element reads as a count of
// events (countingSuffixes) and not as a time or a flag
// (notCounterInContainer: seconds-since-packet-received).
func counting(metric string) bool {
	leaf := lastElem(metric)
	if notCounterInContainer(leaf) {
		return false
	}
	for _, s := range countingSuffixes {
		if strings.HasSuffix(leaf, s) {
			return true
		}
	}
	return false
}

// lastElem returns the last element of metric, the leaf's name.
func lastElem(metric string) string { return metric[strings.LastIndexByte(metric, '/')+1:] }

// classify returns what is known of a metric from its name: the vocabulary
// first, then the OpenConfig conventions (leaves under a "counters"
// container, but for its times, and leaves named like counters are
// counters) and the vendor counter containers (counterContainers); for a
// leaf they leave to its first value, whether its name reads as a count
// (counting).
func classify(metric string) leafInfo {
	li := classifyKind(metric)
	li.lldp = strings.HasPrefix(metric, lldpNeighborEntry+"/") || strings.HasPrefix(metric, ieeeLLDPEntry+"/")
	li.counting = li.kind == 0 && counting(metric)
	return li
}

// classifyKind is classify without the lldp mark.
func classifyKind(metric string) leafInfo {
	if li, ok := knownLeaves[metric]; ok {
		return li
	}
	if strings.Contains(metric, "/counters/") && !notCounterInContainer(lastElem(metric)) {
		return leafInfo{kind: schemas.KindCounter}
	}
	for _, c := range counterContainers {
		if i := strings.Index(metric, c); i >= 0 {
			if leaf := metric[i+len(c):]; !strings.Contains(leaf, "/") && !notCounterInContainer(leaf) {
				return leafInfo{kind: schemas.KindCounter}
			}
		}
	}
	for _, s := range counterSuffixes {
		if strings.HasSuffix(metric, s) {
			return leafInfo{kind: schemas.KindCounter}
		}
	}
	return leafInfo{}
}
