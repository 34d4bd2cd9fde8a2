package incidents

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

const (
	mAdmin = "/interfaces/interface/state/admin-status"
	mBFD   = "/bfd/interfaces/interface/peers/peer/state/session-state"
	// IOS-XR's native interface state, with the origin the gNMI
	// collector writes, and its keys.
	mXRState = "Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/state"
)

// shut is leaf1 e1's admin_down at sec (severity info, as the detect
// stage sends it).
func shut(sec int, state string) schemas.Detection {
	d := det(sec, state, "leaf1", mAdmin, "name=e1", "admin_down", 0, 1)
	d.Severity = schemas.SeverityInfo
	return d
}

// TestShutPlanned: an interface shut on purpose is one incident of
// severity info that names the shut, with what follows from it: the far
// end of its link going down (its admin-status stays up: a link_down
// there), the BGP and BFD sessions over it, a session on the far end's
// device the inventory does not map; alone, it is named too (before: a
// "session reset with no link event", a link to "check the optic", or
// "unexplained", and critical).
func TestShutPlanned(t *testing.T) {
	bfd := fire(1, "leaf1", mBFD, "id=e1,local-discriminator=1", "session_down", 0, 1)
	for name, c := range map[string]struct {
		dets []schemas.Detection
		with string
	}{
		"alone":     {[]schemas.Detection{shut(0, schemas.StateFiring)}, ""},
		"BGP":       {[]schemas.Detection{shut(0, schemas.StateFiring), fire(1, "leaf1", mBGP, bgp("10.0.0.0"), "session_down", 0, 1)}, "; with it 1 BGP/BFD session down"},
		"BFD":       {[]schemas.Detection{shut(0, schemas.StateFiring), bfd}, "; with it 1 BGP/BFD session down"},
		"far first": {[]schemas.Detection{fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1), shut(1, schemas.StateFiring), fire(2, "spine1", mBGP, bgp("10.0.0.1"), "session_down", 0, 1), bfd}, "; with it the far end spine1:e3 down, 2 BGP/BFD sessions down"},
		"traffic":   {[]schemas.Detection{shut(0, schemas.StateFiring), fire(10, "leaf1", mIn, "name=e1", "level_shift", 0, 5e8)}, "; with it its traffic stopped"},
	} {
		in := one(t, run(t, testInventory(), c.dets...), schemas.RuleLink, "interface leaf1:e1 shut by configuration (admin down)"+c.with)
		if in.Severity != schemas.SeverityInfo || !strings.Contains(in.Action, "planned") {
			t.Errorf("%s: severity %s, action %q; want info, and the shut to undo if unplanned", name, in.Severity, in.Action)
		}
	}
}

// TestShutNotPlanned: what a shut does not explain keeps the incident a
// fault: a link enabled again that stays down (its link_down a minute
// after the admin_down resolved), another port of the device going down
// beside it.
func TestShutNotPlanned(t *testing.T) {
	stillDown := []schemas.Detection{shut(0, schemas.StateFiring), shut(100, schemas.StateResolved), fire(160, "leaf1", mOper, "name=e1", "link_down", 0, 1)}
	in := one(t, run(t, testInventory(), stillDown...), schemas.RuleLink, "leaf1:e1 down")
	if in.Severity != schemas.SeverityCritical || strings.Contains(in.Cause, "shut") {
		t.Errorf("enabled again, still down: severity %s, cause %q; want critical, a link down", in.Severity, in.Cause)
	}
	beside := []schemas.Detection{shut(0, schemas.StateFiring), fire(1, "leaf1", mOper, "name=e2", "link_down", 0, 1)}
	e2 := 0
	for _, in := range run(t, testInventory(), beside...) {
		if !strings.Contains(in.Cause, "e2") {
			continue
		}
		e2++
		if in.Rule != schemas.RuleLink || in.Severity != schemas.SeverityCritical || strings.Contains(in.Cause, "shut") {
			t.Errorf("another port down beside the shut: rule %s, severity %s, cause %q; want a critical link down", in.Rule, in.Severity, in.Cause)
		}
	}
	if e2 != 1 {
		t.Errorf("another port down beside the shut: %d incidents name it, want 1", e2)
	}
}

// TestNativeStateClasses: the vendor models' state series, with their
// origin, are classed as the detect stage classes them: IOS-XR's
// interface state (keys interface-name=IF) is a link, and its link_down
// with the inventory's far end is the link incident (before: no class,
// "unexplained").
func TestNativeStateClasses(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "spine1", mXRState, "interface-name=e3", "link_down", 0, 1),
		fire(1, "leaf1", mXRState, "interface-name=e1", "link_down", 0, 1),
	}
	one(t, run(t, testInventory(), dets...), schemas.RuleLink, "link spine1:e3 — leaf1:e1 down")
	for metric, want := range map[string]class{
		mXRState: classLink,
		"/interfaces/interface-xr/interface/line-state": classLink,
		"/interface/oper-state":                         classLink,
		"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/bytes-received": classTraffic,
		"/bfd/session-briefs/session-brief/state": classSession,
	} {
		d := fire(0, "leaf1", metric, "interface-name=e1", "link_down", 0, 1)
		if m := newMember(&d, testInventory().Index()); m.Class != want || m.Port != "e1" {
			t.Errorf("%s: class %d port %q, want %d e1", metric, m.Class, m.Port, want)
		}
	}
}

// TestNativeTraffic: IOS-XR's generic-counters say bytes-received and
// input-drops: ingress up on two ports of a device is a surge, drops
// rising on one are errors or discards, not traffic.
func TestNativeTraffic(t *testing.T) {
	const gc = "Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/"
	surge := []schemas.Detection{
		fire(0, "leaf1", gc+"bytes-received", "interface-name=e1", "level_shift", 5e9, 5e8),
		fire(1, "leaf1", gc+"bytes-received", "interface-name=e2", "level_shift", 4e9, 5e8),
	}
	one(t, run(t, testInventory(), surge...), schemas.RuleSurge, "volumetric surge on leaf1: ingress up on 2 ports (e1, e2)")
	drops := fire(0, "leaf1", gc+"input-drops", "interface-name=e1", "robust_z", 500, 0)
	one(t, run(t, testInventory(), drops), schemas.RuleTraffic, "errors or discards rising on leaf1:e1")
}
