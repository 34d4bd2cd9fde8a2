package inventory

import (
	"log/slog"
	"slices"
	"testing"
)

// TestLLDPShortPortIDs: an LLDP port id is the neighbour's port as its
// own LLDP agent names it, often the short form of the name its telemetry
// uses (Gi0/0/0/3 for GigabitEthernet0/0/0/3, Et1 for Ethernet1, BE7 for
// Bundle-Ether7). Where the
// neighbour reports LLDP neighbours too, a port id that is not one of its
// ports but abbreviates exactly one of them is that port: one cable
// reported from both ends is one link, on the interface names the
// devices' samples carry, so an incident groups the two ends' alerts. An
// id that abbreviates none (an ifIndex) or several (Te1/1 of a switch
// with TenGigabitEthernet1/1 and TwentyFiveGigE1/1) is kept as it is. Before, the id was taken verbatim: the cable gave two
// links, each with one end on an interface no sample names.
func TestLLDPShortPortIDs(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(
		nb{0, "leaf1", "Ethernet1", "spine1", "Gi0/0/0/3"},
		nb{0, "spine1", "GigabitEthernet0/0/0/3", "leaf1", "Et1"},
		nb{0, "leaf2", "Port-Channel7", "spine1", "BE7"},
		nb{0, "spine1", "Bundle-Ether7", "leaf2", "Po7"},
		// Two ports of leaf3 that Te1/1 could abbreviate: kept verbatim.
		nb{0, "leaf3", "TenGigabitEthernet1/1", "spine2", "Ethernet9"},
		nb{0, "leaf3", "TwentyFiveGigE1/1", "spine2", "Ethernet8"},
		nb{0, "spine2", "Ethernet9", "leaf3", "Te1/1"},
		// An id that is an ifIndex abbreviates nothing.
		nb{0, "spine2", "Ethernet12", "leaf4", "527"},
		nb{0, "leaf4", "xe-0/0/1", "spine2", "Ethernet12"},
	)
	want := []string{
		"leaf1:Ethernet1-spine1:GigabitEthernet0/0/0/3",
		"leaf2:Port-Channel7-spine1:Bundle-Ether7",
		"leaf3:Te1/1-spine2:Ethernet9",
		"leaf3:TenGigabitEthernet1/1-spine2:Ethernet9",
		"leaf3:TwentyFiveGigE1/1-spine2:Ethernet8",
		"leaf4:527-spine2:Ethernet12",
		"leaf4:xe-0/0/1-spine2:Ethernet12",
	}
	if got := links(f.read()); !slices.Equal(got, want) {
		t.Errorf("links\n got %q\nwant %q", got, want)
	}
}

// TestAbbreviates: the forms vendors' LLDP agents give their ports.
func TestAbbreviates(t *testing.T) {
	for _, c := range []struct {
		short, long string
		want        bool
	}{
		{"Gi0/0/0/3", "GigabitEthernet0/0/0/3", true},
		{"Et1", "Ethernet1", true},
		{"eth1/1", "Ethernet1/1", true},
		{"BE7", "Bundle-Ether7", true},
		{"Hu0/0/0/1", "HundredGigE0/0/0/1", true},
		{"Po7", "Port-Channel7", true},
		{"Mg0", "MgmtEth0", true},
		{"Gi0/0/0/3", "GigabitEthernet0/0/0/4", false}, // another port
		{"Gi0/3", "GigabitEthernet0/0/0/3", false},
		{"Ethernet1", "Ethernet1", false}, // not shorter
		{"Xe1", "Ethernet1", false},
		{"527", "xe-0/0/1", false},
		{"Et", "Ethernet", false}, // no number
	} {
		if got := abbreviates(c.short, c.long); got != c.want {
			t.Errorf("abbreviates(%q, %q) = %v, want %v", c.short, c.long, got, c.want)
		}
	}
}
