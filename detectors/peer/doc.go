// Package peer is the sibling rule for the slow wear of a device's fans
// and power supplies: a fan whose bearing wears turns slower than the other
// fans of its chassis, a power supply that degrades draws more from the
// mains per watt it delivers than the others. Each series alone hides that
// wear under the load's daily swing (the fans follow the temperature, the
// efficiency follows the load), and the adaptive baselines follow it; the
// siblings share the swing, so a member's reading relative to the median
// of its siblings' cancels it and leaves the wear plus noise. A device with
// one fan or one power supply gets nothing from the rule.
//
// It is pure (no I/O, no clock): O(members) per reading and 160 bytes of
// state per member besides its name (MemberBytes).
package peer
