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
