package sim

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestLLDPNeighbors runs a fabric with a link down and a link flapping and
// checks every cabled port's LLDP neighbour, tick by tick, on both ends:
// the peer's device and interface while the link is up (the same tick as
// oper-status UP), no sample while it is down; ports without a cable have
// none, and a fleet without a topology has none at all.
func TestLLDPNeighbors(t *testing.T) {
	tick := func(n int) time.Duration { return time.Duration(n) * 10 * time.Second }
	cfg := fabric(
		Fault{Device: "sim-03", Interface: "Ethernet1", Kind: FaultLinkDown, After: tick(3), Duration: tick(3)},
		Fault{Device: "sim-04", Interface: "Ethernet2", Kind: FaultLinkFlap, After: tick(10), Duration: tick(4)},
	)
	const ticks = 16
	got, f := runTrace(t, cfg, ticks)
	lldp := 0
	for k := range got {
		if k.Metric == schemas.MetricLLDPNeighborSystemName || k.Metric == schemas.MetricLLDPNeighborPortID {
			lldp++
		}
	}
	if want := 2 * 2 * len(f.Links()); lldp != want {
		t.Fatalf("%d LLDP series, want 2 per end of each of the %d links", lldp, len(f.Links()))
	}
	for _, l := range f.Links() {
		for _, e := range [][2]Endpoint{{l.A, l.B}, {l.B, l.A}} {
			local, peer := e[0], e[1]
			keys := schemas.LLDPNeighborKeys(local.Interface, peer.Device)
			oper := got.get(t, local.Device, schemas.MetricOperStatus, "name="+local.Interface)
			for m, want := range map[string]string{schemas.MetricLLDPNeighborSystemName: peer.Device, schemas.MetricLLDPNeighborPortID: peer.Interface} {
				s := got[schemas.SeriesKey{Device: local.Device, Metric: m, Keys: keys}]
				j := 0
				for i, o := range oper {
					if o.Str != "UP" {
						continue // the neighbour entry is gone
					}
					if j >= len(s) || s[j].TS != o.TS || s[j].Str != want || s[j].Kind != schemas.KindState {
						t.Fatalf("%s %s %s: tick %d (oper-status UP) has no sample %q", local.Device, m, keys, i, want)
					}
					j++
				}
				if j != len(s) {
					t.Fatalf("%s %s %s: %d samples, %d ticks up", local.Device, m, keys, len(s), j)
				}
			}
		}
	}
	// The faults took the neighbours away: 3 ticks of link_down, 2 of the
	// flap (down on every other tick of 4).
	for _, c := range []struct {
		dev, ifc string
		up       int
	}{{"sim-03", "Ethernet1", ticks - 3}, {"sim-04", "Ethernet2", ticks - 2}} {
		l := peerOf(t, f, c.dev, c.ifc)
		if n := len(got.get(t, c.dev, schemas.MetricLLDPNeighborSystemName, schemas.LLDPNeighborKeys(c.ifc, l.A.Device))); n != c.up {
			t.Errorf("%s %s: neighbour on %d ticks, want %d", c.dev, c.ifc, n, c.up)
		}
	}

	// Without a topology, no LLDP.
	plain, _ := run(t, Config{Devices: 3, Interfaces: 2, Start: t0}, 2)
	for k := range plain {
		if k.Metric == schemas.MetricLLDPNeighborSystemName || k.Metric == schemas.MetricLLDPNeighborPortID {
			t.Fatalf("a fleet without topology served %v", k)
		}
	}
}

// TestNextFixed checks that NextFixed yields LeavesPerTick samples in the
// order of DeviceLeaves on every tick, a vanished neighbour as an empty
// value, and the same samples as Next otherwise, but the LLDP neighbour
// counts, which Next emits on every tick (0 while the link is down) and
// NextFixed never.
func TestNextFixed(t *testing.T) {
	cfg := fabric(Fault{Device: "sim-03", Interface: "Ethernet1", Kind: FaultLinkDown, After: 10 * time.Second, Duration: 20 * time.Second})
	cfg.Power = true
	fixed, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(cfg)
	for tick := range 5 {
		var a, b []schemas.Sample
		fixed.NextFixed(func(s *schemas.Sample) { a = append(a, *s) })
		zeros := 0
		plain.Next(func(s *schemas.Sample) {
			if s.Metric == schemas.MetricLLDPNeighbors {
				if s.Kind != schemas.KindGauge || (s.F64 != 0 && s.F64 != 1) {
					t.Fatalf("tick %d: count %+v", tick, s)
				}
				if s.F64 == 0 {
					zeros++
				}
				return
			}
			b = append(b, *s)
		})
		if len(a) != fixed.LeavesPerTick() {
			t.Fatalf("tick %d: NextFixed gave %d samples, LeavesPerTick %d", tick, len(a), fixed.LeavesPerTick())
		}
		empty, j := 0, 0
		for i, s := range a {
			isLLDP := s.Metric == schemas.MetricLLDPNeighborSystemName || s.Metric == schemas.MetricLLDPNeighborPortID
			if isLLDP && s.Str == "" {
				empty++
				continue
			}
			if j >= len(b) || b[j] != s {
				t.Fatalf("tick %d: sample %d of NextFixed %+v is not Next's %+v", tick, i, s, b[min(j, len(b)-1)])
			}
			j++
		}
		if want := map[bool]int{true: 4, false: 0}[tick == 1 || tick == 2]; empty != want || j != len(b) || zeros != want/2 {
			t.Fatalf("tick %d: %d vanished neighbour values (want %d), %d of Next's %d samples, %d counts 0 (want %d)",
				tick, empty, want, j, len(b), zeros, want/2)
		}
	}
	testSeriesOrder(t, cfg)
}
