package incidents

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

const (
	mOper  = "/interfaces/interface/state/oper-status"
	mIn    = "/interfaces/interface/state/counters/in-octets"
	mOut   = "/interfaces/interface/state/counters/out-octets"
	mBGP   = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state"
	mNbrs  = "/network-instances/network-instance/protocols/protocol/bgp/global/state/established-neighbors"
	mPSU   = "/components/component/power-supply/state/input-current"
	mTemp  = "/components/component/state/temperature/instant"
	mOther = "/system/memory/state/used"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// det builds a detection at t0+sec.
func det(sec int, state, device, metric, keys, detector string, obs, exp float64) schemas.Detection {
	l := schemas.AlertLabels(device, metric, keys)
	at := t0.Add(time.Duration(sec) * time.Second)
	return schemas.Detection{Version: schemas.DetectionVersion, ID: fmt.Sprintf("%s/%s/%s/%d/%s", device, metric, keys, sec, state),
		EventTime: at, DetectedAt: at, State: state, Device: device, Metric: metric, Keys: keys, Detector: detector,
		Severity: schemas.SeverityCritical, Observed: obs, Expected: exp, Labels: l, Fingerprint: schemas.Fingerprint(l), StartsAt: at}
}

func fire(sec int, device, metric, keys, detector string, obs, exp float64) schemas.Detection {
	return det(sec, schemas.StateFiring, device, metric, keys, detector, obs, exp)
}

func testInventory() *schemas.Inventory {
	return &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1", Site: "fra1", Role: "leaf"}},
		Links: []schemas.InvLink{
			{A: schemas.Port{Device: "spine1", Interface: "e3"}, B: schemas.Port{Device: "leaf1", Interface: "e1"}},
		},
		Sessions: []schemas.Session{{Device: "leaf1", Protocol: schemas.ProtocolBGP, Neighbor: "10.0.0.0", Interface: "e1", PeerDevice: "spine1"}},
	}
}

// run feeds dets to a new engine and returns the last view of every
// incident, in open order.
func run(t *testing.T, inv *schemas.Inventory, dets ...schemas.Detection) []*schemas.Incident {
	t.Helper()
	e, err := New(Config{}, inv)
	if err != nil {
		t.Fatal(err)
	}
	return feed(e, dets)
}

// feed feeds dets to e and returns the last view of every incident not
// merged into another, in open order.
func feed(e *Engine, dets []schemas.Detection) []*schemas.Incident {
	var order []string
	last := map[string]*schemas.Incident{}
	for i := range dets {
		for _, in := range e.Add(&dets[i]) {
			if last[in.ID] == nil {
				order = append(order, in.ID)
			}
			last[in.ID] = in
		}
	}
	out := []*schemas.Incident{}
	for _, id := range order {
		if last[id].MergedInto == "" {
			out = append(out, last[id])
		}
	}
	return out
}

func one(t *testing.T, incs []*schemas.Incident, rule, cause string) *schemas.Incident {
	t.Helper()
	if len(incs) != 1 {
		for _, in := range incs {
			t.Logf("%s [%s] %s", in.ID, in.Rule, in.Cause)
		}
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	in := incs[0]
	if in.Rule != rule || !strings.Contains(in.Cause, cause) {
		t.Errorf("rule %q cause %q, want %q containing %q", in.Rule, in.Cause, rule, cause)
	}
	if b, err := schemas.MarshalIncident(in); err != nil {
		t.Errorf("the incident breaks its contract: %v\n%s", err, b)
	}
	return in
}

// TestLinkDown: both ends' oper-status, the session over the link, the
// link's own traffic and a neighbour count are one incident; traffic on a
// sibling uplink within the window is an effect; the incident resolves when
// its members do and reopens, with its id, when the link fails again.
func TestLinkDown(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1),
		fire(0, "leaf1", mNbrs, "name=default", "neighbors_down", 1, 2),
		fire(0, "leaf1", mBGP, "name=default,neighbor-address=10.0.0.0", "session_down", 0, 1),
		fire(2, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(10, "leaf1", mIn, "name=e1", "ewma", 0, 5e8),
		fire(20, "leaf1", mOut, "name=e2", "ewma", 9e8, 5e8),
		det(300, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1),
		det(300, schemas.StateResolved, "leaf1", mNbrs, "name=default", "neighbors_down", 2, 2),
		det(300, schemas.StateResolved, "leaf1", mBGP, "name=default,neighbor-address=10.0.0.0", "session_down", 1, 1),
		det(302, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
		det(310, schemas.StateResolved, "leaf1", mIn, "name=e1", "ewma", 5e8, 5e8),
	}
	in := one(t, run(t, testInventory(), dets...), schemas.RuleLink, "link spine1:e3 — leaf1:e1 down")
	if in.State != schemas.IncidentResolved || !in.ResolvedAt.Equal(t0.Add(310*time.Second)) || !in.OpenedAt.Equal(t0) {
		t.Errorf("state %s resolved %v opened %v", in.State, in.ResolvedAt, in.OpenedAt)
	}
	if in.Confidence != 0.9 || in.Severity != schemas.SeverityCritical || !strings.Contains(in.Action, "optic") {
		t.Errorf("confidence %v severity %s action %q", in.Confidence, in.Severity, in.Action)
	}
	var effects int
	for i, ev := range in.Evidence {
		if i > 0 && ev.Time.Before(in.Evidence[i-1].Time) {
			t.Errorf("evidence out of time order at %d", i)
		}
		if ev.Role == schemas.EvidenceEffect {
			effects++
			if ev.Keys != "name=e2" {
				t.Errorf("effect on %s", ev.Keys)
			}
		}
	}
	if effects != 1 || len(in.Evidence) != len(dets) {
		t.Errorf("%d effects, %d evidence; want 1 and %d", effects, len(in.Evidence), len(dets))
	}
	wantEnt := schemas.Entity{Kind: schemas.EntityInterface, Device: "spine1", Name: "e3", Site: "fra1", Role: "spine", PeerDevice: "leaf1", PeerInterface: "e1"}
	if !slices.Contains(in.Entities, wantEnt) {
		t.Errorf("entities %+v, want one %+v", in.Entities, wantEnt)
	}
	// The link fails again within Reopen: the same incident, open again.
	again := append(dets, fire(400, "leaf1", mOper, "name=e1", "link_down", 0, 1))
	in2 := one(t, run(t, testInventory(), again...), schemas.RuleLink, "leaf1:e1")
	if in2.ID != in.ID || in2.State != schemas.IncidentOpen {
		t.Errorf("id %s state %s, want %s open", in2.ID, in2.State, in.ID)
	}
	// After Reopen it is a new incident.
	later := append(dets, fire(310+int(DefaultReopen/time.Second)+60, "leaf1", mOper, "name=e1", "link_down", 0, 1))
	if incs := run(t, testInventory(), later...); len(incs) != 2 || incs[1].ID == in.ID {
		t.Errorf("%d incidents after the reopen period, want 2 with new id", len(incs))
	}
}

// TestLLDPNeighborLost: an LLDP neighbour lost on one end of an inventory
// link (the stage sends none while that port is down) maps to the local
// interface and joins the incident of the link's other end going down,
// whichever comes first; alone it is its own link incident, a warning
// that names the port, its link and the far end.
func TestLLDPNeighborLost(t *testing.T) {
	mLLDP := schemas.MetricLLDPNeighbors
	lost := func(sec int) schemas.Detection {
		d := fire(sec, "leaf1", mLLDP, "name=e1", "lldp_neighbor_lost", 0, 1)
		d.Severity = schemas.SeverityWarning
		return d
	}
	wantEnt := schemas.Entity{Kind: schemas.EntityInterface, Device: "leaf1", Name: "e1", Site: "fra1", Role: "leaf", PeerDevice: "spine1", PeerInterface: "e3"}
	for name, dets := range map[string][]schemas.Detection{
		"link down first": {fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1), lost(120)},
		"lost first":      {lost(0), fire(5, "spine1", mOper, "name=e3", "link_down", 0, 1)},
	} {
		in := one(t, run(t, testInventory(), dets...), schemas.RuleLink, "link spine1:e3 — leaf1:e1 down")
		if len(in.Evidence) != 2 || in.Severity != schemas.SeverityCritical || !slices.Contains(in.Entities, wantEnt) {
			t.Errorf("%s: %d evidence, severity %s, entities %+v; want 2, critical, one %+v", name, len(in.Evidence), in.Severity, in.Entities, wantEnt)
		}
	}
	in := one(t, run(t, testInventory(), lost(0), fire(30, "leaf1", mBGP, "name=default,neighbor-address=10.0.0.0", "session_down", 0, 1)),
		schemas.RuleLink, "LLDP neighbour lost on leaf1:e1 (link spine1:e3 — leaf1:e1) while the link stays up")
	if !strings.Contains(in.Action, "check spine1") || len(in.Evidence) != 2 || !slices.Contains(in.Entities, wantEnt) {
		t.Errorf("alone: action %q, %d evidence, entities %+v", in.Action, len(in.Evidence), in.Entities)
	}
	in = one(t, run(t, testInventory(), lost(0)), schemas.RuleLink, "LLDP neighbour lost on leaf1:e1")
	if in.Severity != schemas.SeverityWarning {
		t.Errorf("alone: severity %s, want warning", in.Severity)
	}
}

// TestUnknownDevice: detections of a device the inventory does not know
// still join one incident (by device and interface).
func TestUnknownDevice(t *testing.T) {
	one(t, run(t, testInventory(),
		fire(0, "ghost", mOper, "name=x1", "link_down", 0, 1),
		fire(0, "ghost", mIn, "name=x1", "ewma", 0, 1e6),
		fire(1, "ghost", "/bfd/interfaces/interface/peers/peer/state/session-state", "id=x1,local-discriminator=4", "session_down", 0, 1),
	), schemas.RuleLink, "link ghost:x1 down")
	one(t, run(t, nil, fire(0, "ghost", mTemp, "name=CPU", "robust_z", 90, 50)), schemas.RuleHardware, "CPU on ghost")
}

func TestDeviceRule(t *testing.T) {
	in := one(t, run(t, nil,
		fire(0, "spine1", mOper, "name=e1", "link_down", 0, 1),
		fire(0, "spine1", mOper, "name=e2", "link_down", 0, 1),
		fire(10, "spine1", mOper, "name=e3", "link_down", 0, 1),
	), schemas.RuleDevice, "device spine1: 3 interfaces down at once (e1, e2, e3)")
	if !strings.Contains(in.Action, "line card") {
		t.Errorf("action %q", in.Action)
	}
}

// TestSessionReset: sessions reset on several devices at once with no
// link event are one incident; with no inventory they group by time.
func TestSessionReset(t *testing.T) {
	one(t, run(t, nil,
		fire(0, "r1", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(0, "r2", mNbrs, "name=default", "neighbors_down", 0, 2),
		fire(20, "r3", mBGP, "name=default,neighbor-address=10.9.9.9", "session_down", 0, 1),
	), schemas.RuleSession, "BGP/BFD sessions reset together on 3 devices (r1, r2, r3)")
	if incs := run(t, nil,
		fire(0, "r1", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(600, "r2", mNbrs, "name=default", "neighbors_down", 0, 2),
	); len(incs) != 2 {
		t.Errorf("resets 10 minutes apart: %d incidents, want 2", len(incs))
	}
}

// TestHardware: PSU and temperature detections on one device name the PSU;
// a hardware detection elsewhere at the same time is its own incident.
func TestHardware(t *testing.T) {
	incs := run(t, nil,
		fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
		fire(30, "leaf1", mPSU, "name=PSU2", "robust_z", 3, 2),
		fire(30, "leaf2", mTemp, "name=CPU", "robust_z", 80, 50),
	)
	if len(incs) != 2 || incs[0].Cause != "PSU2 on leaf1" || incs[0].Action != "replace PSU2 on leaf1" || len(incs[0].Evidence) != 2 {
		t.Errorf("incidents %+v", incs)
	}
}

// TestHardwareChain: a device's power and cooling (PSU, fans,
// temperatures, an optic's laser bias) are one incident; an optic's light
// is its own, taking only its component's signals of the same time.
func TestHardwareChain(t *testing.T) {
	const (
		mRx   = "/components/component/transceiver/state/input-power/instant"
		mBias = "/components/component/transceiver/state/laser-bias-current/instant"
		mFan  = "/components/component/fan/state/speed"
	)
	f := func(name string, want []string, dets ...schemas.Detection) {
		t.Helper()
		var got []string
		for _, in := range run(t, nil, dets...) {
			got = append(got, fmt.Sprintf("%s/%d", in.Cause, len(in.Evidence)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: incidents %q, want %q", name, got, want)
		}
	}
	f("an optic decaying while the fan fails: two incidents", []string{"Et4-transceiver on leaf1/1", "Fan1 on leaf1/3"},
		fire(0, "leaf1", mRx, "name=Et4-transceiver", "drift", -9, -3),
		fire(4000, "leaf1", mFan, "name=Fan1", "robust_z", 0, 9000),
		fire(4010, "leaf1", mBias, "name=Et1-transceiver", "robust_z", 9, 6),
		fire(4010, "leaf1", mBias, "name=Et4-transceiver", "robust_z", 9, 6))
	f("a replaced optic's new bias joins its light", []string{"Et4-transceiver on leaf1/2"},
		fire(0, "leaf1", mRx, "name=Et4-transceiver", "drift", -9, -3),
		fire(30, "leaf1", mBias, "name=Et4-transceiver", "robust_z", 9, 6))
	f("PSU and temperature: one incident", []string{"PSU2 on leaf1/2"},
		fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
		fire(30, "leaf1", mPSU, "name=PSU2", "robust_z", 3, 2))
	f("two optics' light: two incidents", []string{"Et1-transceiver on leaf1/1", "Et2-transceiver on leaf1/1"},
		fire(0, "leaf1", mRx, "name=Et1-transceiver", "drift", -9, -3),
		fire(10, "leaf1", mRx, "name=Et2-transceiver", "drift", -9, -3))
}

// TestSurge: ingress up on several ports of a device, outbound flat, is a
// volumetric surge naming the ports and top talkers.
func TestSurge(t *testing.T) {
	one(t, run(t, nil,
		fire(0, "leaf1", mIn, "name=e3", "ewma", 5e9, 1e9),
		fire(10, "leaf1", mIn, "name=e4", "ewma", 8e9, 1e9),
		fire(20, "leaf1", mIn, "name=e5", "ewma", 2e9, 1e9),
	), schemas.RuleSurge, "ingress up on 3 ports (e3, e4, e5), in/out asymmetric; top talkers e4 ×8.0, e3 ×5.0, e5 ×2.0")
}

func TestUnexplained(t *testing.T) {
	one(t, run(t, nil, fire(0, "leaf1", mOther, "", "robust_z", 9, 1)), schemas.RuleUnexplained, "unexplained: robust_z on leaf1 "+mOther)
	e, _ := New(Config{}, nil)
	d := det(0, schemas.StateResolved, "leaf1", mOther, "", "robust_z", 1, 1)
	if in := e.Add(&d); len(in) != 0 || e.Dropped != 1 {
		t.Errorf("a resolution of an unknown alert: %v, dropped %d", in, e.Dropped)
	}
}

// TestStateRoundTrip: an engine restored from its state midway returns what
// the original does for the rest.
func TestStateRoundTrip(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1),
		fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
		fire(2, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(20, "leaf1", mOut, "name=e2", "ewma", 9e8, 5e8),
		det(300, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1),
		det(302, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
		fire(330, "leaf1", mPSU, "name=PSU1", "robust_z", 3, 2),
	}
	whole, _ := New(Config{}, testInventory())
	want := feed(whole, dets)
	first, _ := New(Config{}, testInventory())
	part := feed(first, dets[:3])
	b, err := first.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored, _ := New(Config{}, testInventory())
	if err := restored.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	rest := feed(restored, dets[3:])
	got := map[string]*schemas.Incident{}
	for _, in := range append(part, rest...) {
		got[in.ID] = in
	}
	for _, w := range want {
		if !reflect.DeepEqual(got[w.ID], w) {
			t.Errorf("incident %s after a restore:\n got %+v\nwant %+v", w.ID, got[w.ID], w)
		}
	}
	if err := restored.UnmarshalBinary(append([]byte{tagEngine, 9}, b[2:]...)); err == nil || !strings.Contains(err.Error(), "cannot restore incident state: unknown state version 9") {
		t.Errorf("version 9: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{Window: -time.Second}, nil); err == nil || !strings.Contains(err.Error(), "window:") {
		t.Errorf("negative window: %v", err)
	}
	if _, err := New(Config{DeviceInterfaces: 1}, nil); err == nil || !strings.Contains(err.Error(), "device_interfaces:") {
		t.Errorf("device_interfaces 1: %v", err)
	}
}

// TestSessionSpan: without an inventory, resets that follow each other
// within the window chain into one incident only up to session_span after
// it opened; an alert of a session incident that fires again after
// resolving, more than the window after the incident's latest evidence, is
// a new onset (the next clear), not the old incident reopened.
func TestSessionSpan(t *testing.T) {
	incs := run(t, nil,
		fire(0, "r1", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(50, "r2", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(100, "r3", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(150, "r4", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(200, "r5", mNbrs, "name=default", "neighbors_down", 0, 3),
	)
	if len(incs) != 2 || len(incs[0].Evidence) != 4 || incs[1].Evidence[0].Device != "r5" {
		t.Errorf("%d incidents, want 2: r1–r4 (within 3m) and r5", len(incs))
	}
	incs = run(t, nil,
		fire(0, "r1", mNbrs, "name=default", "neighbors_down", 0, 3),
		fire(0, "r2", mNbrs, "name=default", "neighbors_down", 0, 3),
		det(60, schemas.StateResolved, "r1", mNbrs, "name=default", "neighbors_down", 3, 3),
		fire(240, "r1", mNbrs, "name=default", "neighbors_down", 0, 3),
	)
	if len(incs) != 2 || incs[0].State != schemas.IncidentOpen {
		t.Errorf("r1 dropping again 4 min later while r2's alert still fires: %d incidents, want 2", len(incs))
	}
}

// TestRedelivered: a detection delivered again (the same id: upstream is
// at least once) changes nothing: not the evidence, not the state. A
// firing re-delivered after its resolution does not reopen the incident
// for good, and a resolution re-delivered after its alert fired again does
// not close the incident early.
func TestRedelivered(t *testing.T) {
	f := fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1)
	r := det(60, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1)
	f2 := fire(120, "spine1", mOper, "name=e3", "link_down", 0, 1)
	s := fire(0, "r1", mNbrs, "name=default", "neighbors_down", 0, 3)
	rs := det(30, schemas.StateResolved, "r1", mNbrs, "name=default", "neighbors_down", 3, 3)
	for _, c := range []struct {
		name     string
		dets     []schemas.Detection
		state    string
		evidence int
	}{
		{"a firing twice", []schemas.Detection{f, f}, schemas.IncidentOpen, 1},
		{"a firing again after its resolution", []schemas.Detection{f, r, f}, schemas.IncidentResolved, 2},
		{"a session's firing again after its resolution", []schemas.Detection{s, rs, s}, schemas.IncidentResolved, 2},
		{"a resolution again after the alert fired again", []schemas.Detection{f, r, f2, r}, schemas.IncidentOpen, 3},
		{"a resolution twice", []schemas.Detection{f, r, r}, schemas.IncidentResolved, 2},
	} {
		e, _ := New(Config{}, testInventory())
		incs := feed(e, c.dets)
		if len(incs) != 1 || incs[0].State != c.state || len(incs[0].Evidence) != c.evidence {
			for _, in := range incs {
				t.Logf("%s: %s, %d evidence", in.ID, in.State, len(in.Evidence))
			}
			t.Errorf("%s: %d incidents, want 1, %s, with %d evidence", c.name, len(incs), c.state, c.evidence)
		}
		if again := e.Add(&c.dets[len(c.dets)-1]); len(again) != 0 {
			t.Errorf("%s: the last detection once more changed %d incidents, want none", c.name, len(again))
		}
	}
}

// TestEpochEventTime: detections at event time 0 (the Unix epoch: a device
// whose clock was never set; the contract takes it) resolve their incident
// when they resolve, and a merge of such incidents publishes a valid
// update. Resolved 0 meant open: the incident stayed open for ever, and
// the merged update (mergedInto on an open incident) broke the contract,
// which stops the correlate stage.
func TestEpochEventTime(t *testing.T) {
	at := func(d schemas.Detection) schemas.Detection {
		epoch := time.Unix(0, 0).UTC()
		d.EventTime, d.DetectedAt, d.StartsAt = epoch, epoch, epoch
		if d.State == schemas.StateResolved {
			d.EndsAt = &epoch
		}
		return d
	}
	e, _ := New(Config{}, testInventory())
	dets := []schemas.Detection{
		at(fire(0, "leaf1", mNbrs, "name=default", "neighbors_down", 1, 2)),
		at(fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1)),
		at(det(0, schemas.StateResolved, "leaf1", mNbrs, "name=default", "neighbors_down", 2, 2)),
		at(det(0, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1)),
	}
	var last *schemas.Incident
	for i := range dets {
		for _, in := range e.Add(&dets[i]) {
			if _, err := schemas.MarshalIncident(in); err != nil {
				t.Fatalf("detection %d: update of %s breaks the contract: %v", i, in.ID, err)
			}
			last = in
		}
	}
	if last == nil || last.State != schemas.IncidentResolved || len(last.Evidence) != 4 {
		t.Fatalf("every alert resolved at the epoch: last update %+v, want the link incident resolved with 4 evidence", last)
	}
	if n := e.OpenCount(); n != 0 {
		t.Errorf("%d incidents open, want 0", n)
	}
}

// TestOneSeriesTwoAlerts: two alerts of one series (the ensemble's and a
// rule's, whose labels add the rule, so another fingerprint) firing at
// the same sample are one incident. On a series no rule groups (memory,
// CPU), each opened its own, and both had the id of that series and
// time: two incidents under one key of the compacted incidents topic,
// each update overwriting the other's.
func TestOneSeriesTwoAlerts(t *testing.T) {
	rule := func(d schemas.Detection, name string) schemas.Detection {
		d.Labels["rule"] = name
		d.Fingerprint, d.Detector = schemas.Fingerprint(d.Labels), name
		d.ID += "/" + name
		return d
	}
	for _, metric := range []string{mOther, mIn} {
		e, _ := New(Config{}, testInventory())
		incs := feed(e, []schemas.Detection{
			fire(0, "leaf1", metric, "name=e1", "robust_z", 9, 1),
			rule(fire(0, "leaf1", metric, "name=e1", "drift", 9, 1), "drift"),
			det(60, schemas.StateResolved, "leaf1", metric, "name=e1", "robust_z", 1, 1),
		})
		if held := e.Open(); len(incs) != 1 || len(held) != 1 || len(incs[0].Evidence) != 3 || incs[0].State != schemas.IncidentOpen {
			for _, in := range incs {
				t.Logf("%s %s [%s] %d evidence", in.ID, in.State, in.Rule, len(in.Evidence))
			}
			t.Errorf("%s: %d incidents, want 1, open (the drift alert fires), with 3 evidence", metric, len(incs))
		}
	}
}
