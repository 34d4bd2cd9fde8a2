package stateevents

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

const sec = int64(time.Second)

func TestClassify(t *testing.T) {
	f := func(metric string, want Class) {
		t.Helper()
		if got := Classify(metric); got != want {
			t.Errorf("Classify(%q) = %s, want %s", metric, got, want)
		}
	}
	f("/interfaces/interface/state/oper-status", ClassOperStatus)
	f("/interfaces/interface/state/admin-status", ClassAdminStatus)
	f("/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state", ClassBGP)
	f("/bfd/interfaces/interface/peers/peer/state/session-state", ClassBFD)
	f("/components/component/state/oper-status", ClassComponent)
	f("/interfaces/interface/state/counters/carrier-transitions", ClassCarrier)
	f("/network-instances/network-instance/protocols/protocol/bgp/global/state/established-neighbors", ClassNeighbors)
	f("/bgp/global/established-neighbors-count-total", ClassNeighbors)
	f("established-neighbors", ClassNeighbors)
	f("/established-neighbors/state/count", ClassNone) // not the last element
	f("telekernel:/collector/target/state", ClassTarget)
	f("telekernel:/collector/target/reason", ClassNone)
	f("telekernel:/lldp/interfaces/interface/state/neighbors", ClassLLDP)
	f("/lldp/interfaces/interface/neighbors/neighbor/state/system-name", ClassNone)
	f("/interfaces/interface/state/counters/in-octets", ClassNone)
	f("/interfaces/interface/ethernet/state/port-speed", ClassNone)
	f("", ClassNone)
}

// TestClassifyNative: the native paths of IOS-XR and Nokia SR Linux, as
// the gNMI collector writes them (origin in front when it is not
// OpenConfig, or module prefixes dropped), match the native table
// whatever the origin; nothing near them does.
func TestClassifyNative(t *testing.T) {
	f := func(metric string, want Class) {
		t.Helper()
		if got := Classify(metric); got != want {
			t.Errorf("Classify(%q) = %s, want %s", metric, got, want)
		}
	}
	// IOS-XR Cisco-IOS-XR-pfi-im-cmd-oper.
	for _, p := range []string{"/interfaces/interface-xr/interface/state", "/interfaces/interface-xr/interface/line-state",
		"/interfaces/interface-briefs/interface-brief/state", "/interfaces/interface-briefs/interface-brief/line-state"} {
		f(p, ClassOperStatus)
		f("Cisco-IOS-XR-pfi-im-cmd-oper:"+p, ClassOperStatus)
	}
	f("Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/actual-state", ClassNone)
	f("Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/state-transition-count", ClassNone)
	f("Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/interface-statistics/full-interface-stats/state", ClassNone)
	f("Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface", ClassNone)
	// IOS-XR Cisco-IOS-XR-infra-statsd-oper: an interface's
	// carrier-transitions in its latest, total and cache generic counters.
	for _, p := range []string{"latest", "total", "cache"} {
		f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/"+p+"/generic-counters/carrier-transitions", ClassCarrier)
		f("/infra-statistics/interfaces/interface/"+p+"/generic-counters/carrier-transitions", ClassCarrier)
		f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/"+p+"/generic-counters/bytes-received", ClassNone)
	}
	f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/data-rate/input-data-rate", ClassNone)
	f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/carrier-transitions/x", ClassNone)
	// IOS-XR Cisco-IOS-XR-ipv4-bgp-oper, default VRF and VRFs.
	f("Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/connection-state", ClassBGP)
	f("/bgp/instances/instance/instance-active/vrfs/vrf/neighbors/neighbor/connection-state", ClassBGP)
	f("Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-standby/default-vrf/neighbors/neighbor/connection-state", ClassNone)
	f("Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/previous-connection-state", ClassNone)
	// IOS-XR Cisco-IOS-XR-ip-bfd-oper.
	f("Cisco-IOS-XR-ip-bfd-oper:/bfd/session-briefs/session-brief/state", ClassBFD)
	f("Cisco-IOS-XR-ip-bfd-oper:/bfd/ipv4-single-hop-session-briefs/ipv4-single-hop-session-brief/state", ClassBFD)
	f("/bfd/ipv6-multi-hop-session-briefs/ipv6-multi-hop-session-brief/state", ClassBFD)
	f("Cisco-IOS-XR-ip-bfd-oper:/bfd/session-details/session-detail/status-information/state", ClassBFD)
	f("Cisco-IOS-XR-ip-bfd-oper:/bfd/ipv4-single-hop-session-briefs/ipv4-single-hop-session-brief/session-type", ClassNone)
	f("Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-active/default-vrf/sessions/session/connection-state", ClassBGP)
	f("/bgp/instances/instance/instance-active/vrfs/vrf/sessions/session/connection-state", ClassBGP)
	f("Cisco-IOS-XR-ip-bfd-oper:/bfd/session-briefs/session-brief/session-type", ClassNone)
	// Nokia SR Linux.
	f("/interface/oper-state", ClassOperStatus)
	f("/interface/admin-state", ClassAdminStatus)
	f("srl_nokia:/interface/oper-state", ClassOperStatus)
	f("/network-instance/protocols/bgp/neighbor/session-state", ClassBGP)
	f("/bfd/network-instance/peer/oper-state", ClassBFD)
	f("/interface/oper-down-reason", ClassNone)
	f("/interface/subinterface/oper-state", ClassNone)
	f("/interface/ethernet/oper-state", ClassNone)
	f("/network-instance/oper-state", ClassNone)
	f("/network-instance/protocols/bgp/neighbor/admin-state", ClassNone)
	// IOS-XE Cisco-IOS-XE-interfaces-oper: oper-status and admin-status
	// right under the interface (no state container).
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/oper-status", ClassOperStatus)
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/admin-status", ClassAdminStatus)
	f("/interfaces/interface/oper-status", ClassOperStatus)
	f("/interfaces/interface/admin-status", ClassAdminStatus)
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/statistics/in-octets", ClassNone)
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/statistics/num-flaps", ClassNone)
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/interface-type", ClassNone)
	// An OpenConfig path keeps its exact match: not under another origin.
	f("vendor:/interfaces/interface/state/oper-status", ClassNone)
	f("/interfaces/interface/state/oper-status", ClassOperStatus)
	f("/interfaces/interface/state/admin-status", ClassAdminStatus)
	f("/interfaces/interface/state/counters/carrier-transitions", ClassCarrier)
	f("telekernel:/collector/target/state", ClassTarget)
}

// TestIsInterface: the series of one interface that the detect stage ties
// together: OpenConfig's under /interfaces/interface/, IOS-XR's native
// interface tables (infra-statsd-oper's counters and data rates,
// pfi-im-cmd-oper's interface-xr and interface-briefs) whatever their
// origin, SR Linux's oper-state, admin-state and statistics; nothing else.
func TestIsInterface(t *testing.T) {
	f := func(metric string, want bool) {
		t.Helper()
		if got := IsInterface(metric); got != want {
			t.Errorf("IsInterface(%q) = %v, want %v", metric, got, want)
		}
	}
	f("/interfaces/interface/state/oper-status", true)
	f("/interfaces/interface/state/counters/in-octets", true)
	for _, p := range []string{
		"/infra-statistics/interfaces/interface/latest/generic-counters/bytes-received",
		"/infra-statistics/interfaces/interface/latest/generic-counters/carrier-transitions",
		"/infra-statistics/interfaces/interface/latest/data-rate/input-data-rate",
		"/infra-statistics/interfaces/interface/total/generic-counters/input-errors",
		"/infra-statistics/interfaces/interface/cache/data-rate/output-data-rate",
	} {
		f(p, true)
		f("Cisco-IOS-XR-infra-statsd-oper:"+p, true)
	}
	for _, p := range []string{
		"/interfaces/interface-xr/interface/state", "/interfaces/interface-xr/interface/line-state",
		"/interfaces/interface-briefs/interface-brief/state", "/interfaces/interface-briefs/interface-brief/line-state",
	} {
		f(p, true)
		f("Cisco-IOS-XR-pfi-im-cmd-oper:"+p, true)
	}
	f("/interface/oper-state", true)
	f("/interface/admin-state", true)
	f("/interface/statistics/in-octets", true)
	f("srl_nokia-interfaces:/interface/statistics/out-error-packets", true)
	f("/interface/traffic-rate/in-bps", true)
	f("/interface/ethernet/statistics/in-crc-error-frames", true)
	// Not an interface's own series.
	f("/interface/description", false)
	f("/interface/subinterface/statistics/in-octets", false)
	f("/infra-statistics/interfaces", false)
	f("/interfaces/interface-xr", false)
	f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface", false)
	f("/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/connection-state", false)
	f("/native/input-data-rate", false) // the backtest's bigdama18 columns
	f("/native/HundredGigE0/0/0/0/bytes-received", false)
	// IOS-XE Cisco-IOS-XE-interfaces-oper, keys name=IF: oper-status,
	// admin-status and the statistics container, whatever the origin.
	for _, p := range []string{"/interfaces/interface/oper-status", "/interfaces/interface/admin-status",
		"/interfaces/interface/statistics/in-octets", "/interfaces/interface/statistics/rx-kbps"} {
		f(p, true)
		f("Cisco-IOS-XE-interfaces-oper:"+p, true)
	}
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/interface-type", false)
	f("Cisco-IOS-XE-interfaces-oper:/interfaces/interface/statistics", false)
	f("vendor:/interfaces/interface/state/oper-status", false)
	f("/lldp/interfaces/interface/neighbors/neighbor/state/system-name", false)
	f("telekernel:/collector/target/state", false)
}

func TestParse(t *testing.T) {
	f := func(c Class, value string, want Status, reason Reason) {
		t.Helper()
		got, r := Parse(c, value)
		if got != want || r != reason {
			t.Errorf("Parse(%s, %q) = %s, %s; want %s, %s", c, value, got, r, want, reason)
		}
	}
	// OpenConfig, IETF/SNMP names, SNMP numbers, module prefixes, case.
	f(ClassOperStatus, "UP", StatusUp, ReasonNone)
	f(ClassOperStatus, "up", StatusUp, ReasonNone)
	f(ClassOperStatus, "1", StatusUp, ReasonNone)
	f(ClassOperStatus, "openconfig-interfaces:UP", StatusUp, ReasonNone)
	f(ClassOperStatus, "DOWN", StatusDown, ReasonNone)
	f(ClassOperStatus, "2", StatusDown, ReasonNone)
	f(ClassOperStatus, "LOWER_LAYER_DOWN", StatusDown, ReasonNone)
	f(ClassOperStatus, "lowerLayerDown", StatusDown, ReasonNone)
	f(ClassOperStatus, "lower-layer-down", StatusDown, ReasonNone)
	f(ClassOperStatus, "7", StatusDown, ReasonNone)
	f(ClassOperStatus, "NOT_PRESENT", StatusDown, ReasonNone)
	f(ClassOperStatus, "notPresent", StatusDown, ReasonNone)
	f(ClassOperStatus, "DORMANT", StatusDown, ReasonNone)
	f(ClassOperStatus, "TESTING", StatusDown, ReasonNone)
	f(ClassOperStatus, "UNKNOWN", StatusNone, ReasonIndeterminate)
	f(ClassOperStatus, "4", StatusNone, ReasonIndeterminate)
	f(ClassOperStatus, "vendor-foo", StatusNone, ReasonUnknownValue)      // an enum of no known model
	f(ClassOperStatus, "im-state-vendor", StatusNone, ReasonUnknownValue) // not an IOS-XR value
	f(ClassOperStatus, "8", StatusNone, ReasonUnknownValue)               // the SNMP collector's unknown code
	f(ClassOperStatus, "", StatusNone, ReasonUnknownValue)
	f(ClassOperStatus, strings.Repeat("UP", 40), StatusNone, ReasonUnknownValue)
	f(ClassAdminStatus, "UP", StatusUp, ReasonNone)
	f(ClassAdminStatus, "DOWN", StatusAdminDown, ReasonNone)
	f(ClassAdminStatus, "2", StatusAdminDown, ReasonNone)
	f(ClassAdminStatus, "TESTING", StatusNone, ReasonIndeterminate)
	f(ClassBGP, "ESTABLISHED", StatusUp, ReasonNone)
	f(ClassBGP, "openconfig-bgp-types:ESTABLISHED", StatusUp, ReasonNone)
	f(ClassBGP, "ACTIVE", StatusDown, ReasonNone)
	f(ClassBGP, "IDLE", StatusDown, ReasonNone)
	f(ClassBGP, "OPENCONFIRM", StatusDown, ReasonNone)
	f(ClassBGP, "6", StatusUp, ReasonNone)
	f(ClassBGP, "UP", StatusNone, ReasonUnknownValue)
	f(ClassBFD, "UP", StatusUp, ReasonNone)
	f(ClassBFD, "INIT", StatusDown, ReasonNone)
	f(ClassBFD, "ADMIN_DOWN", StatusAdminDown, ReasonNone)
	f(ClassBFD, "adminDown", StatusAdminDown, ReasonNone)
	f(ClassComponent, "ACTIVE", StatusUp, ReasonNone)
	f(ClassComponent, "openconfig-platform-types:INACTIVE", StatusDown, ReasonNone)
	f(ClassComponent, "DISABLED", StatusAdminDown, ReasonNone)
	f(ClassCarrier, "UP", StatusNone, ReasonUnknownValue)
	f(ClassTarget, "UP", StatusUp, ReasonNone)
	f(ClassTarget, "DOWN", StatusDown, ReasonNone)
	f(ClassTarget, "down", StatusDown, ReasonNone)
	f(ClassTarget, "ACTIVE", StatusNone, ReasonUnknownValue)
}

// TestParseVendor: the native enums of IOS-XR (Cisco-IOS-XR-pfi-im-cmd-oper
// Im-state-enum, Cisco-IOS-XR-ipv4-bgp-oper Bgp-conn-state,
// Cisco-IOS-XR-ip-bfd-oper Bfd-mgmt-session-state), Nokia SR Linux and
// SR OS (up, down, enable, disable) and Junos (Up, Down).
func TestParseVendor(t *testing.T) {
	f := func(c Class, value string, want Status, reason Reason) {
		t.Helper()
		got, r := Parse(c, value)
		if got != want || r != reason {
			t.Errorf("Parse(%s, %q) = %s, %s; want %s, %s", c, value, got, r, want, reason)
		}
	}
	// IOS-XR interface state and line-state.
	f(ClassOperStatus, "im-state-up", StatusUp, ReasonNone)
	f(ClassOperStatus, "im-state-operational", StatusUp, ReasonNone)
	for _, v := range []string{"im-state-down", "im-state-not-ready", "im-state-err-disable", "im-state-down-immediate",
		"im-state-down-graceful", "im-state-begin-down-graceful", "im-state-begin-error-disable", "im-state-end-error-disable",
		"im-state-not-operational", "im-state-reset"} {
		f(ClassOperStatus, v, StatusDown, ReasonNone)
	}
	for _, v := range []string{"im-state-admin-down", "im-state-shutdown", "im-state-down-immediate-admin",
		"im-state-begin-shutdown", "im-state-end-shutdown", "Cisco-IOS-XR-pfi-im-cmd-oper:im-state-admin-down"} {
		f(ClassOperStatus, v, StatusAdminDown, ReasonNone)
	}
	f(ClassOperStatus, "im-state-unknown", StatusNone, ReasonIndeterminate)
	f(ClassOperStatus, "im-state-last", StatusNone, ReasonUnknownValue) // the enum's end marker, not a state
	f(ClassAdminStatus, "im-state-admin-down", StatusNone, ReasonUnknownValue)
	// IOS-XE Cisco-IOS-XE-interfaces-oper oper-status (oper-state) and
	// admin-status (intf-state).
	f(ClassOperStatus, "if-oper-state-ready", StatusUp, ReasonNone)
	for _, v := range []string{"if-oper-state-no-pass", "if-oper-state-lower-layer-down", "if-oper-state-not-present",
		"if-oper-state-dormant", "if-oper-state-test", "Cisco-IOS-XE-interfaces-oper:if-oper-state-no-pass"} {
		f(ClassOperStatus, v, StatusDown, ReasonNone)
	}
	f(ClassOperStatus, "if-oper-state-unknown", StatusNone, ReasonIndeterminate)
	f(ClassOperStatus, "if-oper-state-invalid", StatusNone, ReasonIndeterminate)
	f(ClassAdminStatus, "if-state-up", StatusUp, ReasonNone)
	f(ClassAdminStatus, "if-state-down", StatusAdminDown, ReasonNone)
	f(ClassAdminStatus, "if-state-test", StatusNone, ReasonIndeterminate)
	f(ClassAdminStatus, "if-state-unknown", StatusNone, ReasonIndeterminate)
	f(ClassAdminStatus, "if-oper-state-ready", StatusNone, ReasonUnknownValue)
	f(ClassOperStatus, "if-state-up", StatusNone, ReasonUnknownValue)
	// IOS-XR BGP connection-state.
	f(ClassBGP, "bgp-st-estab", StatusUp, ReasonNone)
	for _, v := range []string{"bgp-st-idle", "bgp-st-connect", "bgp-st-active", "bgp-st-open-sent", "bgp-st-open-confirm",
		"bgp-st-closing", "bgp-st-closing-sync"} {
		f(ClassBGP, v, StatusDown, ReasonNone)
	}
	f(ClassBGP, "bgp-st-dont-care", StatusNone, ReasonIndeterminate)
	f(ClassBGP, "bgp-st-up", StatusNone, ReasonUnknownValue)
	// IOS-XR BFD session state.
	f(ClassBFD, "bfd-mgmt-session-state-up", StatusUp, ReasonNone)
	f(ClassBFD, "bfd-mgmt-session-state-down", StatusDown, ReasonNone)
	f(ClassBFD, "bfd-mgmt-session-state-init", StatusDown, ReasonNone)
	f(ClassBFD, "bfd-mgmt-session-state-failing", StatusDown, ReasonNone)
	f(ClassBFD, "bfd-mgmt-session-state-admin-down", StatusAdminDown, ReasonNone) // 28 bytes normalised
	f(ClassBFD, "bfd-mgmt-session-state-unknown", StatusNone, ReasonIndeterminate)
	// SR Linux / SR OS: oper-state up, down; admin-state enable, disable;
	// BFD peer oper-state admin-down.
	f(ClassOperStatus, "up", StatusUp, ReasonNone)
	f(ClassOperStatus, "down", StatusDown, ReasonNone)
	f(ClassAdminStatus, "enable", StatusUp, ReasonNone)
	f(ClassAdminStatus, "disable", StatusAdminDown, ReasonNone)
	f(ClassAdminStatus, "srl_nokia-common:disable", StatusAdminDown, ReasonNone)
	f(ClassBGP, "established", StatusUp, ReasonNone)
	f(ClassBGP, "idle", StatusDown, ReasonNone)
	f(ClassBFD, "admin-down", StatusAdminDown, ReasonNone)
	// Junos.
	f(ClassOperStatus, "Up", StatusUp, ReasonNone)
	f(ClassOperStatus, "Down", StatusDown, ReasonNone)
	f(ClassAdminStatus, "Down", StatusAdminDown, ReasonNone)
	// Still too long for any table: unknown, without allocating.
	f(ClassOperStatus, "im-state-down-immediate-admin-x", StatusNone, ReasonUnknownValue)
	f(ClassOperStatus, strings.Repeat("x", 33), StatusNone, ReasonUnknownValue)
}

// step is one sample and the event it must give, written as "" (none),
// "fired RULE", "updated RULE" or "resolved RULE", optionally followed by
// " unknown_value" or " indeterminate".
type step struct {
	sec   int64
	value string // a status, or a number for the counter and level classes
	admin bool   // adminDown for UpdateStatus
	want  string
}

func (ev Event) String() string {
	s := ""
	switch ev.Transition {
	case Fired:
		s = "fired " + ev.Rule.String()
	case Updated:
		s = "updated " + ev.Rule.String()
	case Resolved:
		s = "resolved " + ev.Rule.String()
	}
	if ev.Reason != ReasonNone {
		s = strings.TrimSpace(s + " " + ev.Reason.String())
	}
	return s
}

// feed gives one step to tr.
func feed(t testing.TB, tr *Tracker, cfg *Config, s step) Event {
	ts := s.sec * sec
	switch tr.Class() {
	case ClassCarrier:
		v, err := strconv.ParseUint(s.value, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return tr.UpdateCounter(cfg, ts, v, s.admin)
	case ClassNeighbors, ClassLLDP:
		if s.value == "explained" {
			return tr.Explained(ts)
		}
		v, err := strconv.ParseFloat(s.value, 64)
		if err != nil {
			t.Fatal(err)
		}
		return tr.UpdateLevel(cfg, ts, v, s.admin)
	}
	if s.value == "explained" {
		return tr.Explained(ts)
	}
	if rest, ok := strings.CutPrefix(s.value, "tick"); ok {
		// "tick" or "tick 120": the interface enabled again at 120 s.
		var enabled int64
		if rest != "" {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			enabled = n * sec
		}
		return tr.Tick(cfg, ts, enabled)
	}
	return tr.UpdateStatus(cfg, ts, s.value, s.admin)
}

func run(t *testing.T, name string, c Class, steps []step) {
	t.Helper()
	cfg := Config{}.WithDefaults()
	tr := New(c)
	for i, s := range steps {
		if got := feed(t, tr, &cfg, s).String(); got != s.want {
			t.Errorf("%s: step %d (%ds %q): got %q, want %q", name, i, s.sec, s.value, got, s.want)
		}
	}
}

func TestInterface(t *testing.T) {
	run(t, "link down and back", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "UP", false, ""}, {20, "DOWN", false, "fired link_down"},
		{30, "DOWN", false, ""}, {40, "UP", false, "resolved link_down"}, {50, "UP", false, ""},
	})
	run(t, "down from the start is no alarm", ClassOperStatus, []step{
		{0, "DOWN", false, ""}, {10, "DOWN", false, ""}, {20, "UP", false, ""}, {30, "DOWN", false, "fired link_down"},
	})
	run(t, "SNMP spellings", ClassOperStatus, []step{
		{0, "up", false, ""}, {100, "lowerLayerDown", false, "fired link_down"}, {200, "1", false, "resolved link_down"},
		{300, "7", false, "fired link_down"}, {400, "UP", false, "resolved link_down"},
	})
	run(t, "admin down: no alarm, no flap", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", true, ""}, {20, "UP", false, ""}, {30, "DOWN", true, ""}, {40, "UP", false, ""},
		{50, "DOWN", false, "fired link_down"},
	})
	run(t, "admin down after the link went down explains it", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", false, "fired link_down"}, {11, "explained", false, "resolved link_down"},
		{20, "DOWN", true, ""}, {30, "UP", false, ""},
	})
	run(t, "unknown enum is kept and counted", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "vendor-foo", false, "unknown_value"}, {20, "UNKNOWN", false, "indeterminate"},
		{30, "DOWN", false, "fired link_down"}, {40, "vendor-down", false, "unknown_value"}, {50, "UP", false, "resolved link_down"},
	})
	// IOS-XR's state and line-state carry the shut in the one value: an
	// admin down on the oper-status series itself is on purpose, like BFD's
	// ADMIN_DOWN, and no flap either way.
	run(t, "IOS-XR state: link down and back", ClassOperStatus, []step{
		{0, "im-state-up", false, ""}, {10, "im-state-up", false, ""}, {20, "im-state-down", false, "fired link_down"},
		{30, "im-state-not-ready", false, ""}, {40, "im-state-up", false, "resolved link_down"},
	})
	run(t, "IOS-XR state: shut is admin_down, no link_down, no flap", ClassOperStatus, []step{
		{0, "im-state-up", false, ""}, {10, "im-state-admin-down", false, "fired admin_down"}, {20, "im-state-up", false, "resolved admin_down"},
		{30, "im-state-admin-down", false, "fired admin_down"}, {40, "im-state-up", false, "resolved admin_down"},
		{50, "im-state-admin-down", false, "fired admin_down"}, {60, "im-state-up", false, "resolved admin_down"},
		{70, "im-state-down", false, "fired link_down"},
	})
	run(t, "IOS-XR state: shut while the link is down", ClassOperStatus, []step{
		{0, "im-state-up", false, ""}, {10, "im-state-down", false, "fired link_down"}, {20, "im-state-admin-down", false, "updated admin_down"},
		{30, "im-state-up", false, "resolved admin_down"},
	})
	run(t, "admin-status", ClassAdminStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", false, "fired admin_down"}, {20, "DOWN", false, ""}, {30, "UP", false, "resolved admin_down"},
		{40, "2", false, "fired admin_down"}, {50, "TESTING", false, "indeterminate"}, {60, "1", false, "resolved admin_down"},
	})
	run(t, "admin-status down from the start is no news", ClassAdminStatus, []step{
		{0, "DOWN", false, ""}, {10, "UP", false, ""}, {20, "DOWN", false, "fired admin_down"},
	})
}

func TestSessions(t *testing.T) {
	run(t, "BGP", ClassBGP, []step{
		{0, "ACTIVE", false, ""}, {10, "ESTABLISHED", false, ""}, {20, "IDLE", false, "fired session_down"},
		{30, "ACTIVE", false, ""}, {40, "OPENSENT", false, ""}, {50, "ESTABLISHED", false, "resolved session_down"},
		{60, "bgp-st-vendor", false, "unknown_value"}, {70, "6", false, ""}, {400, "1", false, "fired session_down"},
	})
	run(t, "BFD", ClassBFD, []step{
		{0, "UP", false, ""}, {10, "ADMIN_DOWN", false, "fired admin_down"}, {20, "DOWN", false, "resolved admin_down"},
		{30, "UP", false, ""}, {40, "INIT", false, "fired session_down"}, {50, "ADMIN_DOWN", false, "updated admin_down"},
		{60, "UP", false, "resolved admin_down"},
	})
	run(t, "component", ClassComponent, []step{
		{0, "ACTIVE", false, ""}, {10, "INACTIVE", false, "fired component_down"}, {20, "DISABLED", false, "updated admin_down"},
		{30, "ACTIVE", false, "resolved admin_down"},
	})
}

// TestEnabledStillDown: a thing enabled again after a shut that stays
// down fires its down alert once enable_grace (1 minute) has passed: a BFD
// session or a component on its own samples or on ticks, an interface's
// oper-status on ticks that say when its admin-status came back up.
func TestEnabledStillDown(t *testing.T) {
	run(t, "BFD left down after ADMIN_DOWN", ClassBFD, []step{
		{0, "UP", false, ""}, {10, "ADMIN_DOWN", false, "fired admin_down"}, {20, "DOWN", false, "resolved admin_down"},
		{50, "DOWN", false, ""}, {79, "tick", false, ""}, {80, "INIT", false, "fired session_down"}, {90, "DOWN", false, ""},
		{100, "UP", false, "resolved session_down"},
	})
	run(t, "BFD up within the grace", ClassBFD, []step{
		{0, "UP", false, ""}, {10, "ADMIN_DOWN", false, "fired admin_down"}, {20, "DOWN", false, "resolved admin_down"},
		{40, "UP", false, ""}, {200, "tick", false, ""},
	})
	run(t, "component left down after DISABLED, on ticks", ClassComponent, []step{
		{0, "ACTIVE", false, ""}, {10, "DISABLED", false, "fired admin_down"}, {20, "INACTIVE", false, "resolved admin_down"},
		{85, "tick", false, "fired component_down"}, {95, "tick", false, ""}, {100, "ACTIVE", false, "resolved component_down"},
	})
	run(t, "never up: no alert", ClassBFD, []step{
		{0, "ADMIN_DOWN", false, ""}, {10, "DOWN", false, ""}, {500, "DOWN", false, ""}, {600, "tick", false, ""},
	})
	run(t, "IOS-XR state: no shut, link still down", ClassOperStatus, []step{
		{0, "im-state-up", false, ""}, {10, "im-state-admin-down", false, "fired admin_down"},
		{20, "im-state-down", false, "resolved admin_down"}, {79, "tick", false, ""}, {80, "tick", false, "fired link_down"},
		{90, "im-state-down", false, ""}, {100, "im-state-up", false, "resolved link_down"},
	})
	run(t, "IOS-XR state: no shut, up within the grace", ClassOperStatus, []step{
		{0, "im-state-up", false, ""}, {10, "im-state-admin-down", false, "fired admin_down"},
		{20, "im-state-down", false, "resolved admin_down"}, {40, "im-state-up", false, ""}, {200, "tick", false, ""},
	})
	run(t, "interface enabled at 30 s, link still down", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", true, ""}, {40, "tick 30", false, ""}, {89, "tick 30", false, ""},
		{90, "tick 30", false, "fired link_down"}, {100, "DOWN", false, ""}, {110, "UP", false, "resolved link_down"},
	})
	run(t, "interface still shut, or enabled before it went down", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", true, ""}, {500, "tick", false, ""}, {600, "tick 5", false, ""},
	})
}

// TestLateSamples: a sample older than the latest one changes nothing: no
// alert, no baseline, no time going back.
func TestLateSamples(t *testing.T) {
	run(t, "late oper-status", ClassOperStatus, []step{
		{10, "UP", false, ""}, {20, "DOWN", false, "fired link_down"}, {30, "UP", false, "resolved link_down"},
		{25, "DOWN", false, ""}, {30, "UP", false, ""}, {40, "DOWN", false, "fired link_down"},
	})
	run(t, "late carrier-transitions", ClassCarrier, []step{
		{10, "5", false, ""}, {20, "7", false, "fired carrier_flap"}, {30, "7", false, "resolved carrier_flap"},
		{25, "5", false, ""}, {40, "7", false, ""}, {50, "8", false, "fired carrier_flap"},
	})
	run(t, "late neighbours count", ClassNeighbors, []step{
		{10, "4", false, ""}, {30, "4", false, ""}, {20, "2", false, ""}, {40, "4", false, ""}, {50, "3", false, "fired neighbors_down"},
	})
	for _, c := range []Class{ClassOperStatus, ClassCarrier, ClassNeighbors} {
		tr, cfg := New(c), Config{}.WithDefaults()
		for _, s := range []step{{30, "1", false, ""}, {40, "1", false, ""}, {25, "2", false, ""}} {
			feed(t, tr, &cfg, s)
		}
		if tr.LastTS() != 40*sec || tr.Raw() == "2" || tr.Count() == 2 {
			t.Errorf("%s: after a late sample LastTS %v, raw %q, count %d; want 40s and the 40 s sample's", c, time.Duration(tr.LastTS()), tr.Raw(), tr.Count())
		}
	}
}

// TestTarget: the collector's view of a target is followed like a session.
func TestTarget(t *testing.T) {
	run(t, "target lost and back", ClassTarget, []step{
		{0, "UP", false, ""}, {60, "UP", false, ""}, {90, "DOWN", false, "fired target_down"}, {150, "DOWN", false, ""},
		{200, "UP", false, "resolved target_down"}, {800, "DOWN", false, "fired target_down"},
	})
	run(t, "never up: no alert", ClassTarget, []step{
		{0, "DOWN", false, ""}, {60, "DOWN", false, ""}, {120, "UP", false, ""}, {180, "DOWN", false, "fired target_down"},
	})
	run(t, "flapping reachability is one flapping alert", ClassTarget, []step{
		{0, "UP", false, ""}, {10, "DOWN", false, "fired target_down"}, {20, "UP", false, "resolved target_down"},
		{30, "DOWN", false, "fired target_down"}, {40, "UP", false, "updated flapping"}, {50, "DOWN", false, ""},
		{60, "UP", false, ""}, {360, "UP", false, "resolved flapping"},
	})
	if !ClassTarget.IsStatus() || RuleTargetDown.Severity() != "critical" || ClassTarget.String() != "target-state" {
		t.Errorf("target class: status %v, severity %s, name %s", ClassTarget.IsStatus(), RuleTargetDown.Severity(), ClassTarget)
	}
}

func TestFlapping(t *testing.T) {
	// Toggling every 10 s: two link-down alerts, then one flapping alert
	// for the rest; it resolves 5 minutes after the last transition.
	steps := []step{{0, "UP", false, ""}}
	for i := int64(1); i <= 10; i++ {
		v, want := "DOWN", ""
		if i%2 == 0 {
			v = "UP"
		}
		switch i {
		case 1, 3:
			want = "fired link_down"
		case 2:
			want = "resolved link_down"
		case 4:
			want = "updated flapping"
		}
		steps = append(steps, step{10 * i, v, false, want})
	}
	for s := int64(110); s < 400; s += 10 {
		steps = append(steps, step{s, "UP", false, ""})
	}
	steps = append(steps, step{400, "UP", false, "resolved flapping"}, step{410, "DOWN", false, "fired link_down"})
	run(t, "toggle every sample", ClassOperStatus, steps)

	run(t, "quiet but down becomes link down", ClassOperStatus, []step{
		{0, "UP", false, ""}, {10, "DOWN", false, "fired link_down"}, {20, "UP", false, "resolved link_down"},
		{30, "DOWN", false, "fired link_down"}, {40, "UP", false, "updated flapping"}, {50, "DOWN", false, ""},
		{340, "DOWN", false, ""}, {350, "DOWN", false, "updated link_down"}, {360, "UP", false, "resolved link_down"},
	})
	run(t, "flapping resolves on ticks of other series; admin down ends it", ClassOperStatus, []step{
		{0, "DOWN", false, ""}, {10, "UP", false, ""}, {20, "DOWN", false, "fired link_down"}, {30, "UP", false, "resolved link_down"},
		{40, "DOWN", false, "fired flapping"}, {50, "UP", false, ""}, {300, "tick", false, ""}, {350, "tick", false, "resolved flapping"},
		{360, "DOWN", false, "fired link_down"}, {370, "UP", false, "resolved link_down"}, {380, "DOWN", false, "fired link_down"},
		{390, "UP", false, "updated flapping"}, {391, "explained", false, "resolved flapping"},
	})
	run(t, "slow changes never flap", ClassBGP, []step{
		{0, "ESTABLISHED", false, ""}, {100, "IDLE", false, "fired session_down"}, {200, "ESTABLISHED", false, "resolved session_down"},
		{300, "IDLE", false, "fired session_down"}, {400, "ESTABLISHED", false, "resolved session_down"},
		{500, "IDLE", false, "fired session_down"}, {600, "ESTABLISHED", false, "resolved session_down"},
	})
}

func TestCarrierTransitions(t *testing.T) {
	run(t, "flap, reset, burst", ClassCarrier, []step{
		{0, "5", false, ""}, {10, "5", false, ""}, {20, "7", false, "fired carrier_flap"}, {30, "8", false, ""},
		{40, "8", false, "resolved carrier_flap"}, {50, "0", false, ""}, {60, "0", false, ""},
		{70, "4", false, "fired flapping"}, {80, "4", false, ""}, {360, "4", false, ""}, {370, "4", false, "resolved flapping"},
		{1000, "5", false, "fired carrier_flap"},
	})
	// explained (the step's admin field here): the oper-status showed the
	// change; no alert, no flap, but the down stretch is kept.
	run(t, "explained by oper-status", ClassCarrier, []step{
		{0, "5", false, ""}, {10, "6", true, ""}, {20, "7", true, ""}, {30, "9", true, ""}, {40, "10", false, "fired carrier_flap"},
		{50, "10", false, "resolved carrier_flap"},
	})
	tr := New(ClassCarrier)
	cfg := Config{}.WithDefaults()
	tr.UpdateCounter(&cfg, 100*sec, 1, false)
	tr.UpdateCounter(&cfg, 110*sec, 2, false)
	for _, c := range []struct {
		from, to int64
		want     bool
	}{{90, 100, false}, {100, 110, true}, {110, 120, true}, {120, 130, false}} {
		if got := tr.DownWithin(c.from*sec, c.to*sec); got != c.want {
			t.Errorf("carrier increment (100s, 110s]: DownWithin(%d, %d) = %v", c.from, c.to, got)
		}
	}
}

func TestDownWithin(t *testing.T) {
	tr := New(ClassOperStatus)
	cfg := Config{}.WithDefaults()
	if tr.DownWithin(0, 100*sec) {
		t.Error("never seen: down")
	}
	tr.UpdateStatus(&cfg, 100*sec, "UP", false)
	tr.UpdateStatus(&cfg, 200*sec, "DOWN", false)
	f := func(from, to int64, want bool) {
		t.Helper()
		if got := tr.DownWithin(from*sec, to*sec); got != want {
			t.Errorf("DownWithin(%d, %d) = %v, want %v", from, to, got, want)
		}
	}
	f(190, 199, false)
	f(190, 200, true)
	f(500, 510, true)
	tr.UpdateStatus(&cfg, 300*sec, "UP", false)
	f(290, 300, true)
	f(300, 310, false)
	f(150, 160, false)
}

func TestNeighbors(t *testing.T) {
	run(t, "BGP clear", ClassNeighbors, []step{
		{0, "4", false, ""}, {10, "4", false, ""}, {20, "0", false, "fired neighbors_down"}, {30, "2", false, ""},
		{40, "4", false, "resolved neighbors_down"}, {50, "5", false, ""}, {400, "4", false, "fired neighbors_down"},
		{410, "6", false, "resolved neighbors_down"}, {420, "6", false, ""},
	})
	run(t, "sessions flapping", ClassNeighbors, []step{
		{1, "4", false, ""}, {10, "3", false, "fired neighbors_down"}, {20, "4", false, "resolved neighbors_down"},
		{30, "3", false, "fired neighbors_down"}, {40, "4", false, "updated flapping"}, {50, "3", false, ""}, {60, "2", false, ""},
		{70, "4", false, ""}, {360, "4", false, ""}, {370, "4", false, "resolved flapping"},
		{400, "3", false, "fired neighbors_down"},
	})
	run(t, "flapping ends low", ClassNeighbors, []step{
		{1, "4", false, ""}, {10, "3", false, "fired neighbors_down"}, {20, "4", false, "resolved neighbors_down"},
		{30, "3", false, "fired neighbors_down"}, {40, "4", false, "updated flapping"}, {50, "3", false, ""},
		{350, "3", false, "updated neighbors_down"}, {360, "4", false, "resolved neighbors_down"},
	})
	tr := New(ClassNeighbors)
	if ev := tr.UpdateLevel(&Config{}, 0, nanF(), false); ev.Reason != ReasonUnknownValue {
		t.Errorf("NaN: %v", ev)
	}
}

// TestLLDPNeighborLost follows a port's LLDP neighbour count (admin in a
// step: the drop is explained by the port going down).
func TestLLDPNeighborLost(t *testing.T) {
	run(t, "neighbour lost on a link that stays up", ClassLLDP, []step{
		{1, "1", false, ""}, {10, "1", false, ""}, {130, "0", false, "fired lldp_neighbor_lost"}, {140, "0", false, ""},
		{150, "1", false, "resolved lldp_neighbor_lost"}, {160, "2", false, ""}, {500, "1", false, "fired lldp_neighbor_lost"},
		{510, "2", false, "resolved lldp_neighbor_lost"},
	})
	run(t, "lost with the link: no alert, back is the new normal", ClassLLDP, []step{
		{1, "1", false, ""}, {10, "0", true, ""}, {20, "0", false, ""}, {30, "1", false, ""}, {40, "1", false, ""},
		{50, "0", false, "fired lldp_neighbor_lost"},
	})
	run(t, "lost before the link went down: the link down explains it", ClassLLDP, []step{
		{1, "1", false, ""}, {10, "0", false, "fired lldp_neighbor_lost"}, {12, "explained", false, "resolved lldp_neighbor_lost"},
		{20, "0", false, ""}, {30, "1", false, ""}, {40, "0", false, "fired lldp_neighbor_lost"},
	})
	run(t, "an explained drop while the alert fires resolves it", ClassLLDP, []step{
		{1, "2", false, ""}, {10, "1", false, "fired lldp_neighbor_lost"}, {20, "0", true, "resolved lldp_neighbor_lost"},
		{30, "2", false, ""}, {40, "2", false, ""},
	})
	run(t, "neighbour flapping", ClassLLDP, []step{
		{1, "1", false, ""}, {10, "0", false, "fired lldp_neighbor_lost"}, {20, "1", false, "resolved lldp_neighbor_lost"},
		{30, "0", false, "fired lldp_neighbor_lost"}, {40, "1", false, "updated flapping"}, {50, "0", false, ""},
		{350, "0", false, "updated lldp_neighbor_lost"}, {360, "1", false, "resolved lldp_neighbor_lost"},
	})
	if s := RuleLLDPLost.Severity(); s != "warning" {
		t.Errorf("lldp_neighbor_lost severity %s, want warning", s)
	}
}

func nanF() float64 { z := 0.0; return z / z }

func TestConfig(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%+v: %v, want %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{FlapCount: 1}, "flap_count")
	f(Config{FlapCount: MaxFlapCount + 1}, "flap_count")
	f(Config{FlapWindow: -1}, "flap_window")
	f(Config{FlapQuiet: -1}, "flap_quiet")
	f(Config{ShutGrace: -1}, "shut_grace")
}

// TestHold: a held link_down is not the tracker's Alert, and not
// announced until ShutGrace (5 s) has passed since it started (Due, Tick)
// or Release; the event then carries the time it started. Explained ends
// it unannounced. The hold survives a record: a restored tracker
// announces it the same, and a record without one is the same bytes as
// before holding existed (its alert byte's top bit clear).
func TestHold(t *testing.T) {
	cfg := Config{}.WithDefaults()
	down := func() *Tracker {
		tr := New(ClassOperStatus)
		tr.UpdateStatus(&cfg, 100*sec, "UP", false)
		if ev := tr.UpdateStatus(&cfg, 200*sec, "DOWN", false); ev.Transition != Fired || ev.Rule != RuleLinkDown {
			t.Fatalf("down: %v", ev)
		}
		rec := mustMarshal(tr)
		if rec[4]&heldBit != 0 {
			t.Fatalf("record of a tracker that holds nothing has the held bit: %x", rec)
		}
		tr.Hold()
		return tr
	}
	tr := down()
	if tr.Alert() != RuleNone || !tr.Held() || tr.Due(&cfg, 0) != 205*sec {
		t.Fatalf("held: alert %v, held %v, due %v", tr.Alert(), tr.Held(), tr.Due(&cfg, 0))
	}
	if ev := tr.Tick(&cfg, 204*sec, 0); ev.Transition != None {
		t.Fatalf("tick within the grace: %v", ev)
	}
	b := New(ClassOperStatus)
	if err := b.UnmarshalBinary(mustMarshal(tr)); err != nil || !b.Held() {
		t.Fatalf("restored: %v, held %v", err, b.Held())
	}
	for name, tr := range map[string]*Tracker{"original": tr, "restored": b} {
		ev := tr.Tick(&cfg, 205*sec, 0)
		if ev.Transition != Fired || ev.Rule != RuleLinkDown || ev.StartsAt != 200*sec || tr.Held() || tr.Alert() != RuleLinkDown {
			t.Errorf("%s, tick after the grace: %+v, held %v, alert %v", name, ev, tr.Held(), tr.Alert())
		}
		if ev := tr.UpdateStatus(&cfg, 210*sec, "UP", false); ev.Transition != Resolved {
			t.Errorf("%s, up: %v", name, ev)
		}
	}

	tr = down()
	if ev := tr.Explained(201 * sec); ev.Transition != None || tr.Held() || tr.Alert() != RuleNone || tr.Due(&cfg, 0) != 0 {
		t.Errorf("explained while held: %v, held %v, alert %v, due %v", ev, tr.Held(), tr.Alert(), tr.Due(&cfg, 0))
	}
	tr = down()
	if ev := tr.Release(); ev.Transition != Fired || ev.StartsAt != 200*sec || tr.Held() {
		t.Errorf("release: %+v, held %v", ev, tr.Held())
	}
	if ev := tr.Release(); ev.Transition != None {
		t.Errorf("release of nothing held: %v", ev)
	}
	bad := mustMarshal(New(ClassOperStatus))
	bad[4] |= heldBit // held, but no alert
	if err := New(ClassOperStatus).UnmarshalBinary(bad); err == nil {
		t.Error("a record holding no alert was restored")
	}
}

// randomSteps makes a long sequence of a class's values.
func randomSteps(c Class, n int, seed uint64) []step {
	rng := rand.New(rand.NewPCG(seed, 1))
	vals := map[Class][]string{
		ClassOperStatus: {"UP", "UP", "UP", "DOWN", "lowerLayerDown", "vendor-x", "UNKNOWN", "im-state-admin-down", "im-state-down"},
		ClassBGP:        {"ESTABLISHED", "ESTABLISHED", "IDLE", "ACTIVE", "x"},
		ClassCarrier:    {"0", "0", "0", "1", "2"},
		ClassNeighbors:  {"4", "4", "4", "0", "2", "5"},
		ClassLLDP:       {"1", "1", "1", "0", "2", "explained"},
	}[c]
	var out []step
	ts, acc := int64(0), uint64(0)
	for range n {
		ts += int64(1 + rng.IntN(30))
		v := vals[rng.IntN(len(vals))]
		if c == ClassCarrier { // a counter: add the increment
			d, _ := strconv.ParseUint(v, 10, 64)
			acc += d
			v = strconv.FormatUint(acc, 10)
		}
		out = append(out, step{sec: ts, value: v, admin: rng.IntN(10) == 0})
	}
	return out
}

// TestRoundTrip: a tracker restored from its record at any point continues
// exactly as the original (same events, same records), and re-encodes to
// the same bytes. TestPrefix: events of a prefix do not change when more
// data follows.
func TestRoundTrip(t *testing.T) {
	cfg := Config{}.WithDefaults()
	for _, c := range []Class{ClassOperStatus, ClassBGP, ClassCarrier, ClassNeighbors, ClassLLDP} {
		steps := randomSteps(c, 400, uint64(c))
		for cut := 0; cut < len(steps); cut += 37 {
			a := New(c)
			for _, s := range steps[:cut] {
				feed(t, a, &cfg, s)
			}
			rec, _ := a.MarshalBinary()
			b := New(c)
			if err := b.UnmarshalBinary(rec); err != nil {
				t.Fatalf("%s cut %d: %v", c, cut, err)
			}
			if rec2, _ := b.MarshalBinary(); !bytes.Equal(rec, rec2) {
				t.Fatalf("%s cut %d: re-encoded record differs", c, cut)
			}
			for i, s := range steps[cut:] {
				ea, eb := feed(t, a, &cfg, s), feed(t, b, &cfg, s)
				ra, _ := a.MarshalBinary()
				rb, _ := b.MarshalBinary()
				if ea != eb || !bytes.Equal(ra, rb) {
					t.Fatalf("%s cut %d step %d: original %v, restored %v", c, cut, i, ea, eb)
				}
			}
		}
		if err := New(c%ClassCarrier + 1).UnmarshalBinary(mustMarshal(New(c))); err == nil {
			t.Errorf("%s: a record of another class was restored", c)
		}
	}
	rec := mustMarshal(New(ClassBGP))
	bad := bytes.Clone(rec)
	bad[1] = 99
	for name, b := range map[string][]byte{"version": bad, "short": rec[:len(rec)-3], "empty": nil} {
		if err := New(ClassBGP).UnmarshalBinary(b); err == nil {
			t.Errorf("%s record accepted", name)
		}
	}
}

func mustMarshal(t *Tracker) []byte { b, _ := t.MarshalBinary(); return b }

func TestPrefix(t *testing.T) {
	cfg := Config{}.WithDefaults()
	for _, c := range []Class{ClassOperStatus, ClassCarrier, ClassNeighbors, ClassLLDP} {
		steps := randomSteps(c, 300, 7)
		full := New(c)
		var all []Event
		for _, s := range steps {
			all = append(all, feed(t, full, &cfg, s))
		}
		for _, n := range []int{1, 50, 150, 299} {
			p := New(c)
			for i, s := range steps[:n] {
				if ev := feed(t, p, &cfg, s); ev != all[i] {
					t.Fatalf("%s prefix %d step %d: %v, with more data %v", c, n, i, ev, all[i])
				}
			}
		}
		fired := 0
		for _, ev := range all {
			if ev.Transition == Fired {
				fired++
			}
		}
		if fired == 0 {
			t.Errorf("%s: the random sequence fired nothing; the test proves little", c)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	cfg := Config{}.WithDefaults()
	tr := New(ClassOperStatus)
	up, down := strings.Clone("UP"), strings.Clone("DOWN")
	ts := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano() // real times: 9-byte varints
	n := testing.AllocsPerRun(1000, func() {
		ts += 10 * sec
		tr.UpdateStatus(&cfg, ts, up, false)
	})
	if n != 0 {
		t.Errorf("steady state: %v allocations per sample", n)
	}
	for _, v := range []string{"bfd-mgmt-session-state-admin-down", "im-state-down-immediate-admin", strings.Repeat("x", 40)} {
		v := strings.Clone(v)
		if n := testing.AllocsPerRun(100, func() { Parse(ClassBFD, v) }); n != 0 {
			t.Errorf("Parse(%q): %v allocations", v, n)
		}
	}
	tr.UpdateStatus(&cfg, ts+sec, down, false)
	few := len(mustMarshal(tr))
	for i := range 40 { // fill the ring of transition times
		tr.UpdateStatus(&cfg, ts+int64(i+2)*sec, []string{up, down}[i%2], false)
	}
	full := len(mustMarshal(tr))
	t.Logf("state: %d B in memory, %d B encoded after one transition, %d B with %d", tr.StateBytes(), few, full, MaxFlapCount)
	if tr.StateBytes() > 256 || full > 256 {
		t.Errorf("state %d B in memory, %d B encoded; the README says at most 256", tr.StateBytes(), full)
	}
}

func ExampleTracker() {
	cfg := Config{}.WithDefaults()
	oper := New(Classify("/interfaces/interface/state/oper-status"))
	for i, v := range []string{"UP", "UP", "LOWER_LAYER_DOWN", "UP"} {
		ev := oper.UpdateStatus(&cfg, int64(i)*10*sec, v, false)
		if ev.Transition != None {
			fmt.Println(ev, ev.Rule.Severity())
		}
	}
	// Output:
	// fired link_down critical
	// resolved link_down critical
}

// TestLongRawValue: a value longer than the record keeps is cut at a
// character boundary when it arrives, so a tracker restored from its
// record holds the same raw value as the original.
func TestLongRawValue(t *testing.T) {
	cfg := Config{}.WithDefaults()
	tr := New(ClassOperStatus)
	long := strings.Repeat("a", maxRaw-1) + "é-vendor-state" // 'é' straddles the limit
	tr.UpdateStatus(&cfg, 10*sec, long, false)
	if got := tr.Raw(); got != strings.Repeat("a", maxRaw-1) {
		t.Fatalf("raw %q (%d bytes), want the first %d bytes", got, len(got), maxRaw-1)
	}
	back := New(ClassOperStatus)
	if err := back.UnmarshalBinary(mustMarshal(tr)); err != nil {
		t.Fatal(err)
	}
	if back.Raw() != tr.Raw() {
		t.Errorf("restored raw %q, original %q", back.Raw(), tr.Raw())
	}
}
