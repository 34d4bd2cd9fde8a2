package inventory

import (
	"log/slog"
	"slices"
	"testing"
)

// TestRenamedDeviceLeaves: a device renamed (its LLDP samples now come
// under another name) leaves the inventory, with a tombstone, once its old
// name sent no LLDP sample for lldp_expiry: a device that once reported
// stayed in the inventory for good.
func TestRenamedDeviceLeaves(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{0, "spine1", "e3", "leaf1", "e1"})
	for sec := 60; sec <= 300; sec += 60 {
		f.add(nb{sec, "spine-a", "e3", "leaf1", "e1"})
	}
	inv := f.read()
	if got := names(inv); !slices.Equal(got, []string{"leaf1", "spine-a"}) {
		t.Fatalf("4m after spine1 became spine-a: devices %v, links %v; want [leaf1 spine-a]", got, links(inv))
	}
	if _, ok := f.records()["spine1"]; ok {
		t.Error("spine1's record is still on the topic, want a tombstone")
	}
}

// TestLateLLDPSample: an LLDP sample older than the latest of its
// neighbour (a late or re-ordered one) neither changes the neighbour nor
// removes it.
func TestLateLLDPSample(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{0, "spine1", "e3", "leaf1", "e1"})
	f.add(nb{60, "spine1", "e3", "leaf2", "e1"}) // recabled
	f.add(nb{30, "spine1", "e3", "leaf1", "e1"}) // late
	if got := links(f.read()); !slices.Equal(got, []string{"leaf2:e1-spine1:e3"}) {
		t.Errorf("after a late sample of the old cable: links %v, want [leaf2:e1-spine1:e3]", got)
	}
	f.add(nb{45, "spine1", "e3", "", ""}) // a late "gone"
	if got := links(f.read()); !slices.Equal(got, []string{"leaf2:e1-spine1:e3"}) {
		t.Errorf("after a late sample saying the neighbour went: links %v, want [leaf2:e1-spine1:e3]", got)
	}
}

// TestLLDPSkewedClocksKeepOtherLinks: each device's neighbours expire by
// its own clock, so one device whose clock runs an hour ahead (a timezone
// set wrong; the gNMI collector accepts up to a day ahead) does not expire
// the links every other device keeps reporting, nor does a device an hour
// behind lose its own; the skewed device, silent afterwards, still leaves
// after lldp_expiry.
func TestLLDPSkewedClocksKeepOtherLinks(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{0, "spine1", "e3", "leaf1", "e1"}, nb{-3600, "edge7", "e1", "edge6", "e1"})
	f.add(nb{3600, "edge9", "e1", "edge8", "e1"}) // an hour ahead, once
	want := []string{"edge6:e1-edge7:e1", "leaf1:e1-spine1:e3"}
	for sec := 30; sec <= 300; sec += 30 {
		f.add(nb{sec, "spine1", "e3", "leaf1", "e1"}, nb{sec - 3600, "edge7", "e1", "edge6", "e1"})
		got := links(f.read())
		if !slices.Contains(got, want[0]) || !slices.Contains(got, want[1]) {
			t.Fatalf("at %ds, with edge9 an hour ahead and edge7 an hour behind: links %v, want %v among them", sec, got, want)
		}
	}
	if got := links(f.read()); !slices.Equal(got, want) {
		t.Errorf("5m after edge9's only sample: links %v, want %v", got, want)
	}
}

// TestLateLLDPSampleAfterGone: a sample from before a newer one said the
// neighbour went (late, or re-ordered) does not bring it back.
func TestLateLLDPSampleAfterGone(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{0, "spine1", "e3", "leaf1", "e1"})
	f.add(nb{60, "spine1", "e3", "", ""})        // gone
	f.add(nb{30, "spine1", "e3", "leaf1", "e1"}) // late, from before it went
	if got := links(f.read()); len(got) != 0 {
		t.Errorf("after a late sample from before the neighbour went: links %v, want none", got)
	}
	f.add(nb{90, "spine1", "e3", "leaf2", "e1"}) // a new neighbour since
	if got := links(f.read()); !slices.Equal(got, []string{"leaf2:e1-spine1:e3"}) {
		t.Errorf("after a newer sample: links %v, want [leaf2:e1-spine1:e3]", got)
	}
}
