package inventory

import (
	"log/slog"
	"slices"
	"testing"
)

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
