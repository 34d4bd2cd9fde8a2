package incidents

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// lldpLost is the detect stage's warning that port of device lost its
// LLDP neighbour while the link stayed up.
func lldpLost(sec int, device, port string) schemas.Detection {
	d := fire(sec, device, schemas.MetricLLDPNeighbors, "name="+port, "lldp_neighbor_lost", 0, 1)
	d.Severity = schemas.SeverityWarning
	return d
}

// spine1Hung is spine1 (fabricInventory) hung, its links up, while no
// collector reports it: the leaves' BGP sessions to it drop at their hold
// timer (90 s), leaf3's as a neighbour count, and their LLDP neighbours
// on the ports facing it expire at their hold time (120 s), each after
// the last LLDP frame it heard.
func spine1Hung() []schemas.Detection {
	return []schemas.Detection{
		fire(90, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1),
		fire(92, "leaf2", mBGP, bgp("10.1.2.0"), "session_down", 0, 1),
		fire(93, "leaf3", mNbrs, "name=default", "neighbors_down", 1, 2),
		lldpLost(120, "leaf1", "e1"),
		lldpLost(125, "leaf2", "e1"),
		lldpLost(140, "leaf3", "e1"),
	}
}

// TestUnresponsiveInferred: LLDP neighbours lost, with their links up, on
// ports of several devices facing one device that reports nothing itself,
// within Window, with the sessions to it, are one device incident naming
// that device as not responding by inference, below the confidence of a
// far end inferred down from its links. Before, each neighbour's port
// opened an LLDP incident of its own (three here) and none named spine1
// but as the far end of each.
func TestUnresponsiveInferred(t *testing.T) {
	dets := spine1Hung()
	incs := run(t, fabricInventory(), dets...)
	in := one(t, incs, schemas.RuleDevice, "device spine1 not responding (inferred from its neighbours: LLDP lost on 3 ports facing it while their links stay up: leaf1:e1, leaf2:e1, leaf3:e1; sessions to it down from leaf1, leaf2)")
	if len(in.Evidence) != len(dets) || in.Confidence >= 0.7 {
		t.Errorf("%d evidence, confidence %v; want %d, below 0.7", len(in.Evidence), in.Confidence, len(dets))
	}
	want := schemas.Entity{Kind: schemas.EntityDevice, Device: "spine1", Site: "fra1", Role: "spine"}
	if len(in.Entities) == 0 || in.Entities[0] != want {
		t.Errorf("entities %+v, want %+v first", in.Entities, want)
	}
	if !strings.Contains(in.Action, "check spine1") {
		t.Errorf("action %q does not say to check spine1", in.Action)
	}

	// Any arrival order gives the same incident: within a few seconds,
	// and the LLDP losses before the sessions (their partition behind).
	want1 := signature(incs)
	backward := slices.Clone(dets)
	slices.Reverse(backward)
	orders := [][]schemas.Detection{slices.Concat(dets[3:], dets[:3]), backward}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		orders = append(orders, shuffleWithin(rng, dets, 1+i%30))
	}
	for i, order := range orders {
		if got := signature(run(t, fabricInventory(), order...)); !slices.Equal(got, want1) {
			t.Fatalf("order %d gives\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want1, "\n"))
		}
	}

	// A neighbour whose only symptom is its session to the device counts
	// as one that lost it.
	one(t, run(t, fabricInventory(), dets[0], lldpLost(95, "leaf2", "e1")), schemas.RuleDevice,
		"device spine1 not responding (inferred from its neighbours: LLDP lost on 1 port facing it while its link stays up: leaf2:e1; sessions to it down from leaf1)")
}

// TestUnresponsiveNotInferred: what does not make a device unresponsive
// by inference stays as it was: the LLDP neighbour lost on one port alone
// (with its session), on ports facing two different devices, on ports
// facing a device that reports a symptom of its own (it is alive), minutes
// apart, or from fewer devices than far_end_devices; and sessions alone,
// with no LLDP neighbour lost. Those facing one device within Window are
// one incident of the LLDP rule. Before, the inference did not exist, and
// LLDP neighbours lost on two devices' ports facing one device were two
// incidents even within seconds.
func TestUnresponsiveNotInferred(t *testing.T) {
	f := func(name string, cfg Config, dets []schemas.Detection, want ...string) {
		t.Helper()
		e, err := New(cfg, fabricInventory())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range feed(e, dets) {
			got = append(got, in.Rule+" "+in.Cause)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: incidents\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	l1 := "leaf1:e1 (link spine1:e1 — leaf1:e1)"
	l2 := "leaf2:e1 (link spine1:e2 — leaf2:e1)"
	f("one port", Config{}, []schemas.Detection{spine1Hung()[0], lldpLost(120, "leaf1", "e1")},
		"link LLDP neighbour lost on "+l1+" while the link stays up")
	f("two far ends", Config{}, []schemas.Detection{lldpLost(0, "leaf1", "e1"), lldpLost(5, "leaf2", "e2")},
		"link LLDP neighbour lost on "+l1+" while the link stays up",
		"link LLDP neighbour lost on leaf2:e2 (link spine2:e2 — leaf2:e2) while the link stays up")
	f("far end reports its own", Config{}, []schemas.Detection{
		lldpLost(0, "leaf1", "e1"),
		fire(2, "spine1", mBGP, bgp("10.1.1.1"), "session_down", 0, 1),
		lldpLost(5, "leaf2", "e1"),
	}, "link LLDP neighbour lost on "+l1+", "+l2+" while the link stays up")
	f("minutes apart", Config{}, []schemas.Detection{lldpLost(0, "leaf1", "e1"), lldpLost(200, "leaf2", "e1")},
		"link LLDP neighbour lost on "+l1+" while the link stays up",
		"link LLDP neighbour lost on "+l2+" while the link stays up")
	f("far_end_devices 3", Config{FarEndDevices: 3}, []schemas.Detection{lldpLost(0, "leaf1", "e1"), lldpLost(5, "leaf2", "e1")},
		"link LLDP neighbour lost on "+l1+", "+l2+" while the link stays up")
	f("sessions alone", Config{}, spine1Hung()[:2],
		"session BGP/BFD session reset on leaf1 with no link event (leaf1→10.1.1.0)",
		"session BGP/BFD session reset on leaf2 with no link event (leaf2→10.1.2.0)")
}

// TestUnresponsiveThenLost: the collector reporting the device lost, when
// it does, makes the incident a lost target's as before, whichever
// arrives first: the inference gives way to the collector's view. Before,
// the LLDP losses grouped only through the target's detection.
func TestUnresponsiveThenLost(t *testing.T) {
	lost := fire(60, "spine1", mTarget, "", "target_down", 0, 1)
	for name, dets := range map[string][]schemas.Detection{
		"target late":  append(spine1Hung(), lost),
		"target first": append([]schemas.Detection{lost}, spine1Hung()...),
	} {
		in := one(t, run(t, fabricInventory(), dets...), schemas.RuleDevice, "device spine1 unreachable from the collector")
		if len(in.Evidence) != len(dets) {
			t.Errorf("%s: %q with %d evidence, want %d", name, in.Cause, len(in.Evidence), len(dets))
		}
	}
}
