package incidents

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// removalInventory is testInventory with leaf2, linked to spine1.
func removalInventory() *schemas.Inventory {
	inv := testInventory()
	inv.Devices = append(inv.Devices, schemas.Device{Name: "leaf2", Site: "fra1", Role: "leaf"})
	inv.Links = append(inv.Links, schemas.InvLink{A: schemas.Port{Device: "spine1", Interface: "e4"}, B: schemas.Port{Device: "leaf2", Interface: "e1"}})
	return inv
}

// withoutLeaf2 is removalInventory after leaf2 was decommissioned.
func withoutLeaf2() *schemas.Inventory { return testInventory() }

// removalEvents: leaf2's link goes down at 0 (and never comes back: the
// device is decommissioned while its link_down fires, so the detect stage
// never resolves it), leaf1's inlet runs hot at 0, leaf9 (a device no
// inventory lists) loses a link at 0, and spine1's memory goes up two
// days later, after leaf2 left the inventory.
func removalEvents() []schemas.Detection {
	return []schemas.Detection{
		fire(0, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
		fire(0, "leaf9", mOper, "name=e9", "link_down", 0, 1),
		fire(2*86400, "spine1", mOther, "", "robust_z", 9, 5),
	}
}

// TestDeviceRemoved: an incident whose firing symptoms are all on a
// device the inventory listed and no longer lists resolves at the next
// detection, "device removed", instead of staying open for ever; an
// incident of a device still listed, or of one no inventory ever listed,
// stays open.
func TestDeviceRemoved(t *testing.T) {
	dets := removalEvents()
	e, _ := New(Config{}, removalInventory())
	feed(e, dets[:3])
	e.SetInventory(withoutLeaf2())
	var leaf2 *schemas.Incident
	for _, in := range e.Add(&dets[3]) {
		if in.ID == ID(&dets[0]) {
			leaf2 = in
		}
	}
	if leaf2 == nil || leaf2.State != schemas.IncidentResolved || !leaf2.ResolvedAt.Equal(t0.Add(2*86400*time.Second)) ||
		!strings.Contains(leaf2.Cause, "resolved: device leaf2 removed from the inventory") {
		t.Fatalf("leaf2's incident after leaf2 left the inventory: %+v; want it in the update, resolved at %v, the cause saying why",
			leaf2, t0.Add(2*86400*time.Second))
	}
	for _, in := range e.Open() {
		switch {
		case in.ID == ID(&dets[0]):
		case in.State != schemas.IncidentOpen:
			t.Errorf("%s [%s] %s: %s, want open", in.ID, in.Rule, in.Cause, in.State)
		}
	}
	// leaf2 back in the inventory, its link down again within reopen: the
	// same incident opens again, and no longer says why it resolved.
	e.SetInventory(removalInventory())
	again := feed(e, []schemas.Detection{fire(2*86400+60, "leaf2", mOper, "name=e1", "link_down", 0, 1)})
	if len(again) != 1 || again[0].ID != leaf2.ID || again[0].State != schemas.IncidentOpen || strings.Contains(again[0].Cause, "resolved") {
		t.Errorf("leaf2 back: %+v", again[0])
	}
}

// TestDeviceRemovedRestored: the incidents a removal resolves, and the
// state it leaves, are the same when the engine's state was restored from
// its records at any cut (a stage restarted, or a partition moved, while
// the inventory lost the device: the restored engine is made with the new
// inventory only), and a late resolution of the removed device's alert
// joins the resolved incident without moving its resolution.
func TestDeviceRemovedRestored(t *testing.T) {
	dets := append(removalEvents(),
		det(2*86400+60, schemas.StateResolved, "leaf2", mOper, "name=e1", "link_down", 1, 1))
	whole, _ := New(Config{}, removalInventory())
	feed(whole, dets[:3])
	whole.SetInventory(withoutLeaf2())
	want := signature(feed(whole, dets[3:]))
	if n := whole.Closed[ClosedDeviceRemoved]; n != 1 {
		t.Errorf("Closed[%s] = %d, want 1", ClosedDeviceRemoved, n)
	}
	leaf2 := whole.Open()[0]
	if leaf2.ID != ID(&dets[0]) || leaf2.State != schemas.IncidentResolved || !leaf2.ResolvedAt.Equal(t0.Add(2*86400*time.Second)) ||
		!leaf2.UpdatedAt.Equal(t0.Add((2*86400+60)*time.Second)) || !strings.HasSuffix(leaf2.Cause, "; resolved: device leaf2 removed from the inventory") {
		t.Errorf("leaf2's incident after its late resolution: %s resolved at %v updated at %v, %q", leaf2.State, leaf2.ResolvedAt, leaf2.UpdatedAt, leaf2.Cause)
	}
	for cut := 1; cut <= 3; cut++ {
		first, _ := New(Config{}, removalInventory())
		var log []Record
		for i := range dets[:cut] {
			first.Add(&dets[i])
			recs, err := first.Changes()
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, recs...)
		}
		restored, _ := New(Config{}, withoutLeaf2())
		for _, r := range log {
			if err := restored.RestoreRecord(r.Key, r.Value); err != nil {
				t.Fatalf("cut %d: %s: %v", cut, r.Key, err)
			}
		}
		first.SetInventory(withoutLeaf2())
		feed(first, dets[cut:])
		got := feed(restored, dets[cut:])
		a, _ := first.MarshalBinary()
		b, _ := restored.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Errorf("cut %d: restored state differs:\n%s\n%s", cut, a, b)
		}
		if cut == 3 && !slices.Equal(signature(got), want) {
			t.Errorf("cut %d, after a restore:\n%s\nwant\n%s", cut, strings.Join(signature(got), "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestStaleAfter: with stale_after set, an open incident that took no
// evidence for that long resolves at its latest evidence plus stale_after,
// "stale", at the first detection after; one that keeps taking evidence
// does not. By default (0) nothing goes stale.
func TestStaleAfter(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "leaf9", mOper, "name=e9", "link_down", 0, 1),
		fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
		fire(20*3600, "leaf1", mPSU, "name=PSU2", "robust_z", 9, 5),
		fire(25*3600, "spine1", mOther, "", "robust_z", 9, 5),
	}
	if incs := run(t, nil, dets...); len(incs) != 3 || incs[0].State != schemas.IncidentOpen {
		t.Fatalf("by default: %d incidents, leaf9's %s; want 3, leaf9's open", len(incs), incs[0].State)
	}
	e, err := New(Config{StaleAfter: 24 * time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	incs := feed(e, dets)
	if len(incs) != 3 || e.Closed[ClosedStale] != 1 {
		t.Fatalf("%d incidents, %d stale; want 3, 1", len(incs), e.Closed[ClosedStale])
	}
	if in := incs[0]; in.State != schemas.IncidentResolved || !in.ResolvedAt.Equal(t0.Add(24*time.Hour)) ||
		!strings.HasSuffix(in.Cause, "; resolved: no evidence for 24h0m0s") {
		t.Errorf("leaf9's incident: %s resolved at %v, %q; want resolved at %v, stale", in.State, in.ResolvedAt, in.Cause, t0.Add(24*time.Hour))
	}
	for _, in := range incs[1:] {
		if in.State != schemas.IncidentOpen {
			t.Errorf("%s %q: %s, want open", in.ID, in.Cause, in.State)
		}
	}
	// Restored at any cut, it goes stale all the same.
	for cut := 1; cut < len(dets); cut++ {
		first, _ := New(Config{StaleAfter: 24 * time.Hour}, nil)
		feed(first, dets[:cut])
		recs, _ := first.Changes()
		restored, _ := New(Config{StaleAfter: 24 * time.Hour}, nil)
		for _, r := range recs {
			if err := restored.RestoreRecord(r.Key, r.Value); err != nil {
				t.Fatal(err)
			}
		}
		feed(restored, dets[cut:])
		if got, want := signature(restored.Open()), signature(e.Open()); !slices.Equal(got, want) {
			t.Errorf("cut %d:\n%s\nwant\n%s", cut, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if err := (Config{StaleAfter: -time.Second}).WithDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), "stale_after: ") {
		t.Errorf("a negative stale_after: %v", err)
	}
	// Its link going down again an hour after it went stale is a new
	// incident.
	again := feed(e, []schemas.Detection{fire(25*3600+60, "leaf9", mOper, "name=e9", "link_down", 0, 1)})
	if in := again[len(again)-1]; in.ID == incs[0].ID || in.State != schemas.IncidentOpen || strings.Contains(in.Cause, "resolved:") {
		t.Errorf("leaf9's link down again: %s %s %q", in.ID, in.State, in.Cause)
	}
}

// TestDeviceRemovedDiscovered: the inventory stage adds devices that only
// LLDP reports, by name without attributes, and drops them minutes after
// they stop sending LLDP, as a dead device does. Such a device leaving
// the inventory is no decommissioning: the incident of it going down
// stays open. A device the operator declared (a site, role, vendor, model
// or tag) that leaves is removed.
func TestDeviceRemovedDiscovered(t *testing.T) {
	inv := testInventory()
	inv.Devices = append(inv.Devices, schemas.Device{Name: "leaf7"})
	e, _ := New(Config{}, inv)
	feed(e, []schemas.Detection{
		fire(0, "leaf7", schemas.MetricTargetState, "", "target_down", 0, 1),
		fire(0, "leaf7", mOper, "name=e1", "link_down", 0, 1),
	})
	e.SetInventory(testInventory())
	feed(e, []schemas.Detection{fire(600, "spine1", mOther, "", "robust_z", 9, 5)})
	for _, in := range e.Open() {
		if in.State != schemas.IncidentOpen {
			t.Errorf("%s %q: %s, want open", in.ID, in.Cause, in.State)
		}
	}
	if e.Closed[ClosedDeviceRemoved] != 0 {
		t.Errorf("Closed[%s] = %d, want 0", ClosedDeviceRemoved, e.Closed[ClosedDeviceRemoved])
	}
}

// skewedAt is a firing detection of edge9 whose clock runs sec seconds
// ahead of every other device's: its event time is t0+sec, and the detect
// stage, whose clock is right, stamped it detectedSec after t0.
func skewedAt(sec, detectedSec int) schemas.Detection {
	d := fire(sec, "edge9", mOther, "", "robust_z", 9, 5)
	d.DetectedAt = t0.Add(time.Duration(detectedSec) * time.Second)
	return d
}

// TestSkewedClockKeepsFlappingLink: one detection of a device whose
// clock runs two hours ahead (a collector takes timestamps up to a day
// ahead) does not make the engine forget the incidents it holds: the
// next flap of a link two minutes after it came back (within Reopen)
// still reopens its incident. The engine's time is the earlier of a
// detection's event time and its DetectedAt; before, it was the event
// time alone, and the skewed detection forgot every resolved incident.
func TestSkewedClockKeepsFlappingLink(t *testing.T) {
	flap := []schemas.Detection{
		fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1),
		det(60, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1),
		skewedAt(2*3600, 61),
		fire(180, "spine1", mOper, "name=e3", "link_down", 0, 1),
	}
	var links []*schemas.Incident
	for _, in := range run(t, testInventory(), flap...) {
		if in.Rule == schemas.RuleLink {
			links = append(links, in)
		}
	}
	if len(links) != 1 || links[0].State != schemas.IncidentOpen || len(links[0].Evidence) != 3 {
		for _, in := range links {
			t.Logf("%s %s %s (%d evidence)", in.ID, in.State, in.Cause, len(in.Evidence))
		}
		t.Errorf("with a detection of a device 2h ahead in between: %d link incidents for one flapping link, want 1, open, with 3 evidence", len(links))
	}
}

// TestSkewedClockStalesNothing: with stale_after set, one detection of a
// device whose clock runs 23 hours ahead (within a collector's default
// max_future) resolves no open incident as stale: each took evidence
// seconds before in the time of every other device. An incident does go
// stale when the engine's time, a detection's right clock, passes its
// latest evidence plus stale_after.
func TestSkewedClockStalesNothing(t *testing.T) {
	e, err := New(Config{StaleAfter: 12 * time.Hour}, testInventory())
	if err != nil {
		t.Fatal(err)
	}
	feed(e, []schemas.Detection{
		fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1),
		fire(10, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
	})
	skewed := skewedAt(23*3600, 20)
	e.Add(&skewed)
	if n := e.Closed[ClosedStale]; n != 0 {
		t.Errorf("one detection of a device 23h ahead resolved %d open incidents as stale, want 0", n)
	}
	later := fire(13*3600, "leaf1", mPSU, "name=PSU2", "robust_z", 9, 5)
	e.Add(&later)
	if n := e.Closed[ClosedStale]; n != 2 {
		t.Errorf("13h later: %d incidents resolved as stale, want 2", n)
	}
}

// TestStaleResolutionJoins: an incident resolved as stale resolves at its
// latest evidence plus stale_after, often long before the detection that
// found it stale; it is held from that detection, and while its alerts
// have not resolved for stale_after longer, so that the resolution of the
// fault that outlasted stale_after joins it, as the documentation of
// stale_after says. Before, it was forgotten reopen plus lateness after
// its resolution time, at the next detection, and the resolution was
// dropped as one of an alert whose firing came before the state began. A
// resolution later than that is dropped, counted apart (DroppedStale).
func TestStaleResolutionJoins(t *testing.T) {
	for _, c := range []struct {
		name    string
		backSec int // the link's resolution
		joins   bool
	}{
		{"2m after it was found stale", 3*3600 + 120, true},
		{"50m after", 3*3600 + 3000, true},
		{"2h after", 5*3600 + 60, false},
	} {
		e, err := New(Config{StaleAfter: time.Hour}, testInventory())
		if err != nil {
			t.Fatal(err)
		}
		link := fire(0, "spine1", mOper, "name=e3", "link_down", 0, 1)
		id := e.Add(&link)[0].ID
		feed(e, []schemas.Detection{
			fire(3*3600, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30), // finds it stale, resolved at 1h
			fire(3*3600+60, "leaf1", mPSU, "name=PSU2", "robust_z", 9, 5),
			fire(c.backSec-30, "leaf1", mOther, "", "robust_z", 9, 5),
		})
		back := det(c.backSec, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1)
		back.StartsAt = link.EventTime
		var joined *schemas.Incident
		for _, in := range e.Add(&back) {
			if in.ID == id {
				joined = in
			}
		}
		switch {
		case c.joins && (joined == nil || e.Dropped != 0):
			t.Errorf("the link's resolution %s: joined %v, dropped %d; want it to join its incident", c.name, joined != nil, e.Dropped)
		case c.joins && (joined.State != schemas.IncidentResolved || !joined.ResolvedAt.Equal(t0.Add(time.Hour)) || !strings.HasSuffix(joined.Cause, "; resolved: no evidence for 1h0m0s")):
			t.Errorf("the link's resolution %s: %s resolved at %v, %q; want it resolved at 1h, stale", c.name, joined.State, joined.ResolvedAt, joined.Cause)
		case !c.joins && (joined != nil || e.Dropped != 1 || e.DroppedStale != 1):
			t.Errorf("the link's resolution %s: joined %v, dropped %d (%d stale); want dropped as stale", c.name, joined != nil, e.Dropped, e.DroppedStale)
		}
	}
}
