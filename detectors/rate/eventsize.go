package rate

import "strings"

// Event sizes of a counter's level_shift (levelshift.Config.EventSize):
// the most one event (a frame) adds to the counter.
const (
	// ByteEventSize is a byte counter's: a frame of 1 500 bytes, an
	// Ethernet MTU, so few packets of any size are never taken for many.
	ByteEventSize = 1500
	// CountEventSize is any other counter's (packets, errors, messages):
	// one.
	CountEventSize = 1
)

// CounterEventSize returns the level_shift event size of a counter: a
// drop to zero of a counter rate fires only when the events expected at
// its level over the run make zero improbable (levelshift.Config
// EventSize: a port carrying a few packets per interval shows intervals
// with none by chance). ByteEventSize for a metric whose last element
// names bytes or octets (OpenConfig's in-octets, IOS-XR's bytes-received,
// SNMP's ifHCInOctets), else CountEventSize. A detectors: entry that sets
// level_shift.event_size wins in the detect stage (negative: off).
func CounterEventSize(metric string) float64 {
	leaf := leafOf(metric)
	if strings.Contains(leaf, "octet") || strings.Contains(leaf, "byte") {
		return ByteEventSize
	}
	return CountEventSize
}

// faultWords are the words of a counter of faults in its leaf's name:
// OpenConfig's in-errors, in-discards, in-fcs-errors; SNMP's ifInErrors,
// ifInDiscards; IOS-XR's crc-errors, input-drops, output-queue-drops.
var faultWords = [...]string{"error", "discard", "drop", "crc", "fcs", "collision"}

// FaultCounter reports whether metric counts faults (errors, discards,
// drops): its rate rising is the fault, falling (even to zero) the fault
// clearing, so its ensemble alerts only on a rise
// (ensemble.Config.Direction) unless configured otherwise.
func FaultCounter(metric string) bool {
	leaf := leafOf(metric)
	for _, w := range faultWords {
		if strings.Contains(leaf, w) {
			return true
		}
	}
	return false
}

// leafOf returns the last element of metric's path, in lower case.
func leafOf(metric string) string {
	return strings.ToLower(metric[strings.LastIndexByte(metric, '/')+1:])
}
