package incidents

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// spine1Silent is spine1 (fabricInventory) rebooting while no collector
// reports it (no target state): every leaf's link to it goes down from
// the leaf's end (leafL:e1), with the leaves' sessions to it and a
// neighbour count, and traffic moved to leaf1's other uplink.
func spine1Silent() []schemas.Detection {
	return []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(2, "leaf3", mOper, "name=e1", "link_down", 0, 1),
		fire(2, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1),
		fire(3, "leaf2", mBGP, bgp("10.1.2.0"), "session_down", 0, 1),
		fire(3, "leaf3", mNbrs, "name=default", "neighbors_down", 1, 2),
		fire(10, "leaf1", mOut, "name=e2", "ewma", 9e8, 5e8),
	}
}

// TestFarEndInferred: links of several devices to one device that reports
// nothing itself, going down within Window, are one device incident whose
// cause names that device as down by inference, with the links, their
// sessions and the moved traffic as evidence. Before, each leaf's link to
// the silent spine opened a link incident of its own (three here), as no
// rule grouped links by their far end.
func TestFarEndInferred(t *testing.T) {
	dets := spine1Silent()
	incs := run(t, fabricInventory(), dets...)
	in := one(t, incs, schemas.RuleDevice, "device spine1 down (inferred from its neighbours: 3 links to it down at once: leaf1:e1, leaf2:e1, leaf3:e1)")
	if len(in.Evidence) != len(dets) || in.Evidence[len(dets)-1].Role != schemas.EvidenceEffect {
		t.Errorf("evidence %+v, want the %d detections, the last an effect", in.Evidence, len(dets))
	}
	want := schemas.Entity{Kind: schemas.EntityDevice, Device: "spine1", Site: "fra1", Role: "spine"}
	if !slices.Contains(in.Entities, want) {
		t.Errorf("entities %+v, want one %+v", in.Entities, want)
	}
	if !strings.Contains(in.Action, "spine1") {
		t.Errorf("action %q does not name spine1", in.Action)
	}

	// Any arrival order within a few seconds, such as each leaf's session
	// before its link (two session incidents, then two link incidents
	// that share only their far end), gives the same incident.
	want1 := signature(incs)
	sessionsFirst := []schemas.Detection{dets[4], dets[3], dets[0], dets[1], dets[2], dets[5], dets[6]}
	if got := signature(run(t, fabricInventory(), sessionsFirst...)); !slices.Equal(got, want1) {
		t.Fatalf("sessions first gives\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want1, "\n"))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		order := shuffleWithin(rng, dets, 1+i%5)
		if got := signature(run(t, fabricInventory(), order...)); !slices.Equal(got, want1) {
			t.Fatalf("order %d gives\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want1, "\n"))
		}
	}
}

// TestFarEndNotInferred: what does not make a device down by inference
// stays as it was: one link to it alone, links to two different far ends,
// links whose far end reports its own ends down (it is alive), a link
// back up before another to the same far end goes down, and two parallel
// links of one device. Before, the inference did not exist; this
// holds that it does not reach past its rule.
func TestFarEndNotInferred(t *testing.T) {
	f := func(name string, inv *schemas.Inventory, dets []schemas.Detection, want ...string) {
		t.Helper()
		incs := run(t, inv, dets...)
		var got []string
		for _, in := range incs {
			got = append(got, in.Rule+" "+in.Cause)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: incidents\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("one link", fabricInventory(), spine1Silent()[:1], "link link spine1:e1 — leaf1:e1 down")
	f("two far ends", fabricInventory(), []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e2", "link_down", 0, 1),
	}, "link link spine1:e1 — leaf1:e1 down", "link link spine2:e2 — leaf2:e2 down")
	f("far end reports its ends", fabricInventory(), []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(0, "spine1", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "spine1", mOper, "name=e2", "link_down", 0, 1),
	}, "link links spine1:e1 — leaf1:e1, spine1:e2 — leaf2:e1 down")
	f("one back up before the other goes down", fabricInventory(), []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		det(100, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
		fire(130, "leaf2", mOper, "name=e1", "link_down", 0, 1),
	}, "link link spine1:e1 — leaf1:e1 down", "link link spine1:e2 — leaf2:e1 down")

	parallel := fabricInventory()
	parallel.Links = append(parallel.Links, schemas.InvLink{A: schemas.Port{Device: "spine1", Interface: "e9"}, B: schemas.Port{Device: "leaf1", Interface: "e9"}})
	f("parallel links of one device", parallel, []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf1", mOper, "name=e9", "link_down", 0, 1),
	}, "link links spine1:e1 — leaf1:e1, spine1:e9 — leaf1:e9 down")
}

// TestFarEndMonitored: with the far end monitored, its target state makes
// the incident a lost target's as before, whichever arrives first: the
// inference gives way to the collector's view. Before, the links grouped
// only through the target's detection.
func TestFarEndMonitored(t *testing.T) {
	lost := fire(185, "spine1", mTarget, "", "target_down", 0, 1)
	cause := "device spine1 unreachable from the collector; 3 links to it down (leaf1:e1, leaf2:e1, leaf3:e1)"
	for name, dets := range map[string][]schemas.Detection{
		"target late":  append(spine1Silent(), lost),
		"target first": append([]schemas.Detection{lost}, spine1Silent()...),
	} {
		in := one(t, run(t, fabricInventory(), dets...), schemas.RuleDevice, cause)
		if len(in.Evidence) != len(dets) || strings.Contains(in.Cause, "inferred") {
			t.Errorf("%s: %q with %d evidence, want %d", name, in.Cause, len(in.Evidence), len(dets))
		}
	}
}

// TestFarEndDevicesConfig: far_end_devices sets how many neighbours'
// links make the inference, and fewer than 2 is refused, naming the
// field. Before, no setting existed, so an operator could not ask for
// more neighbours.
func TestFarEndDevicesConfig(t *testing.T) {
	if _, err := New(Config{FarEndDevices: 1}, nil); err == nil || !strings.Contains(err.Error(), "far_end_devices") {
		t.Errorf("far_end_devices 1: %v, want an error naming the field", err)
	}
	e, err := New(Config{FarEndDevices: 3}, fabricInventory())
	if err != nil {
		t.Fatal(err)
	}
	one(t, feed(e, spine1Silent()[:2]), schemas.RuleLink, "links spine1:e1 — leaf1:e1, spine1:e2 — leaf2:e1 down")
	e, _ = New(Config{FarEndDevices: 3}, fabricInventory())
	one(t, feed(e, spine1Silent()[:3]), schemas.RuleDevice, "device spine1 down (inferred")
}
