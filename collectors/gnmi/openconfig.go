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
	// (lldpNeighborEntry/…), which the decoder counts per local port.
	lldp bool
}

// lldpNeighborEntry is the path of an LLDP neighbour's list entry, keyed
// name=LOCALPORT,id=NEIGHBOR.
const lldpNeighborEntry = "/lldp/interfaces/interface/neighbors/neighbor"

// knownLeaves holds the kinds the collector fixes: the vocabulary's fixed
// leaves that devices publish (schemas.Metrics), so a counter is never read
// as a gauge whatever type the device encodes it with. Derived and
// SNMP-only names are not leaves a device sends.
var knownLeaves = func() map[string]leafInfo {
	m := map[string]leafInfo{}
	for _, v := range schemas.Metrics() {
		if v.Fixed && (v.Origin == schemas.OriginOpenConfig || v.Origin == schemas.OriginNative) {
			m[v.Name] = leafInfo{kind: v.Kind, float32: v.Float32}
		}
	}
	return m
}()

// counterSuffixes mark leaves that are counters wherever they sit.
var counterSuffixes = []string{"-octets", "-pkts", "-packets", "-errors", "-discards", "-transitions", "-drops"}

// classify returns what is known of a metric from its name: the vocabulary
// first, then the OpenConfig conventions (leaves under a "counters"
// container and leaves named like counters are counters).
func classify(metric string) leafInfo {
	li := classifyKind(metric)
	li.lldp = strings.HasPrefix(metric, lldpNeighborEntry+"/")
	return li
}

// classifyKind is classify without the lldp mark.
func classifyKind(metric string) leafInfo {
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
