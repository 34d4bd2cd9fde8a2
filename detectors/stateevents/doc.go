// Package stateevents turns state samples into alert transitions: an
// interface whose oper-status leaves UP while its admin-status is UP is a
// link down (critical), an administratively down interface or session is
// informational, a return to UP resolves, and a series that changes state
// FlapCount times within FlapWindow is one flapping alert that resolves
// after FlapQuiet without a change; a link back from a shut is no flap,
// and one enabled again that stays down past EnableGrace alarms. A caller
// may hold an alert that just fired (Tracker.Hold): the detect stage holds
// an interface's link down for ShutGrace, so that an admin-status DOWN
// arriving a second after the oper-status ends it unannounced. The same
// rules follow BGP and BFD session-state and component oper-status. A
// sample older than the series' latest changes nothing. Counters and gauges that are
// really state are evidence too: an increment of an interface's
// carrier-transitions counter is a link flap, and a drop of an
// established-neighbours count is a loss of sessions that resolves when
// the count is back. A drop of a port's LLDP neighbour count
// (telekernel:/lldp/interfaces/interface/state/neighbors) is a lost
// neighbour, lldp_neighbor_lost (warning), unless the caller says the port
// going down explains it. The collector's own view of a target
// (telekernel:/collector/target/state) is followed like a session: DOWN
// after UP is a target_down alert (critical) on the device, UP resolves
// it, a target that flaps between the two is one flapping alert, and a
// target that was never up does not alert.
//
// Metric paths are matched by Classify against two small tables of exact
// paths in classify.go: metrics (OpenConfig and telekernel paths) and
// native (vendor models' paths, IOS-XR, IOS-XE and SR Linux, matched without
// their origin); IsInterface tells which series are one interface's own,
// keyed by the interface (OpenConfig's /interfaces/interface/…, and an
// explicit list of IOS-XR, IOS-XE and SR Linux native interface prefixes), which
// the detect stage ties together. State values are matched without regard to case, module
// prefix ("openconfig-if-types:UP") or word separators, so the OpenConfig,
// IETF/SNMP (lowerLayerDown) and numeric SNMP spellings ("1", "7") are the
// same value; vendor enums (IOS-XR's im-state-*, bgp-st-*,
// bfd-mgmt-session-state-*; IOS-XE's if-oper-state-* and if-state-*; SR
// Linux's enable and disable) are values of
// their own. An oper-status value that says the interface is shut
// (im-state-admin-down) is down on purpose, as a BFD session's
// ADMIN_DOWN is. A value that is not recognised is kept as the series'
// raw state and reported in Event.Reason, never an error; it changes no
// verdict.
//
// Like every detector here it is pure: no I/O, no clock (time is the
// samples' timestamps), and a Tracker's verdicts depend only on the samples
// up to them. A Tracker serialises its state (MarshalBinary, a kind tag and
// a version byte first) and restores to one that continues bit-for-bit.
package stateevents
