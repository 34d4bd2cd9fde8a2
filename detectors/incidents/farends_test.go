package incidents

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// spinesSilent is both spines of fabricInventory going down within two
// seconds while no collector reports them (a power feed they share):
// every leaf's links to both go down from the leaf's end.
func spinesSilent() []schemas.Detection {
	return []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		fire(0, "leaf1", mOper, "name=e2", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e1", "link_down", 0, 1),
		fire(1, "leaf2", mOper, "name=e2", "link_down", 0, 1),
		fire(2, "leaf3", mOper, "name=e2", "link_down", 0, 1),
		fire(2, "leaf3", mOper, "name=e1", "link_down", 0, 1),
		fire(2, "leaf1", mNbrs, "name=default", "neighbors_down", 0, 2),
	}
}

// TestFarEndsInferred: links of several devices to two devices that
// report nothing, going down together, every link facing one of them and
// each faced by far_end_devices devices, are one device incident naming
// both as down by inference (one cause, such as the power feed they
// share), both first among its entities. Before, the incident fell back
// to the link rule, listing the six links and naming neither spine.
func TestFarEndsInferred(t *testing.T) {
	dets := spinesSilent()
	incs := run(t, fabricInventory(), dets...)
	in := one(t, incs, schemas.RuleDevice, "devices spine1, spine2 down (inferred from their neighbours: 6 links to them down at once: leaf1:e1, leaf1:e2, leaf2:e1, leaf2:e2, leaf3:e1, leaf3:e2)")
	if len(in.Evidence) != len(dets) || in.Confidence != 0.7 {
		t.Errorf("%d evidence, confidence %v; want %d, 0.7", len(in.Evidence), in.Confidence, len(dets))
	}
	var first []string
	for _, en := range in.Entities[:min(2, len(in.Entities))] {
		first = append(first, en.Kind+" "+en.Device+" "+en.Role)
	}
	if want := []string{"device spine1 spine", "device spine2 spine"}; !slices.Equal(first, want) {
		t.Errorf("first entities %q, want %q", first, want)
	}
	if !strings.Contains(in.Action, "check spine1, spine2") {
		t.Errorf("action %q does not name both spines", in.Action)
	}
	want1 := signature(incs)
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 300 {
		order := shuffleWithin(rng, dets, 1+i%5)
		if got := signature(run(t, fabricInventory(), order...)); !slices.Equal(got, want1) {
			t.Fatalf("order %d gives\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want1, "\n"))
		}
	}
}

// TestFarEndsApart: the two spines going down minutes apart are two
// causes and two incidents, each naming its spine; one spine's links with
// one other link beside them name no device (that link is not the
// spine's, and one leaf's link does not make spine2 down). Before, the
// first case gave the same two incidents and the second the same link
// incident; this holds that naming two devices reaches no further.
func TestFarEndsApart(t *testing.T) {
	var apart []schemas.Detection
	for _, d := range spinesSilent()[:6] {
		if d.Keys == "name=e2" {
			d = fire(300+int(d.EventTime.Sub(t0).Seconds()), d.Device, d.Metric, d.Keys, d.Detector, 0, 1)
		}
		apart = append(apart, d)
	}
	var got []string
	for _, in := range run(t, fabricInventory(), apart...) {
		got = append(got, in.Rule+" "+in.Cause)
	}
	want := []string{
		"device device spine1 down (inferred from its neighbours: 3 links to it down at once: leaf1:e1, leaf2:e1, leaf3:e1)",
		"device device spine2 down (inferred from its neighbours: 3 links to it down at once: leaf1:e2, leaf2:e2, leaf3:e2)",
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Errorf("minutes apart: incidents\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	one(t, run(t, fabricInventory(), append(spine1Silent()[:3], fire(1, "leaf1", mOper, "name=e2", "link_down", 0, 1))...),
		schemas.RuleLink, "links spine1:e1 — leaf1:e1, spine2:e1 — leaf1:e2, spine1:e2 — leaf2:e1, spine1:e3 — leaf3:e1 down")
}
