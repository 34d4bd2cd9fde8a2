package incidents

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// rolesFabric is bigFabric(spines, leaves) with what a wide key's roles
// may miss: a leaf's port to no device, an edge device the inventory does
// not know, sessions to an external peer, a leaf's multihop session to
// another leaf over its first uplink (the session's peer is not its port's)
// and, rewired, each leaf's uplinks moved one spine over, its sessions
// following them.
func rolesFabric(spines, leaves int, rewired bool) *schemas.Inventory {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	for s := 1; s <= spines; s++ {
		inv.Devices = append(inv.Devices, schemas.Device{Name: fmt.Sprintf("spine%d", s), Site: "fra1", Role: "spine"})
	}
	for l := 1; l <= leaves; l++ {
		leaf := fmt.Sprintf("leaf%d", l)
		inv.Devices = append(inv.Devices, schemas.Device{Name: leaf, Site: "fra1", Role: "leaf"})
		for s := 1; s <= spines; s++ {
			to := s
			if rewired {
				to = s%spines + 1
			}
			spine := fmt.Sprintf("spine%d", to)
			sp, lp := schemas.Port{Device: spine, Interface: fmt.Sprintf("e%d", l)}, schemas.Port{Device: leaf, Interface: fmt.Sprintf("e%d", s)}
			inv.Links = append(inv.Links, schemas.InvLink{A: sp, B: lp})
			inv.Sessions = append(inv.Sessions,
				schemas.Session{Device: leaf, Protocol: schemas.ProtocolBGP, Neighbor: fmt.Sprintf("10.%d.%d.0", s, l), Interface: lp.Interface, PeerDevice: spine},
				schemas.Session{Device: spine, Protocol: schemas.ProtocolBGP, Neighbor: fmt.Sprintf("10.%d.%d.1", to, l), Interface: sp.Interface, PeerDevice: leaf})
		}
		inv.Sessions = append(inv.Sessions,
			schemas.Session{Device: leaf, Protocol: schemas.ProtocolBGP, Neighbor: "10.9.9.9", Interface: "e9"},
			schemas.Session{Device: leaf, Protocol: schemas.ProtocolBGP, Neighbor: "10.8.8.8", Interface: "e1", PeerDevice: fmt.Sprintf("leaf%d", l%leaves+1)})
	}
	return inv
}

// messyFabric is rolesFabric(spines, leaves, false) with what an
// operator's file may hold: a spine's port linked to itself, leaf1:e1
// linked again to spine2 (its peer is spine2's, spine1:e1's still
// leaf1:e1), leaf2's session over e1 naming no peer device and leaf3:e8
// linked to a device it does not list.
func messyFabric(spines, leaves int) *schemas.Inventory {
	inv := rolesFabric(spines, leaves, false)
	inv.Links = append(inv.Links,
		schemas.InvLink{A: schemas.Port{Device: "spine1", Interface: "e98"}, B: schemas.Port{Device: "spine1", Interface: "e99"}},
		schemas.InvLink{A: schemas.Port{Device: "spine2", Interface: "e50"}, B: schemas.Port{Device: "leaf1", Interface: "e1"}},
		schemas.InvLink{A: schemas.Port{Device: "leaf3", Interface: "e8"}, B: schemas.Port{Device: "ghost", Interface: "e1"}})
	inv.Sessions = append(inv.Sessions, schemas.Session{Device: "leaf2", Protocol: schemas.ProtocolBGP, Neighbor: "10.6.6.6", Interface: "e1"})
	return inv
}

// rolesStream returns n detections on rolesFabric(spines, leaves) in
// bursts about one spine, each burst of one or two kinds: the spine hung
// (its leaves' sessions to it, their LLDP facing it, its sessions to
// them), lost (its target state, its leaves' links to it down or
// flapping, shut), silent, traffic moving on the ports facing it or on
// other ports, BFD over the uplinks, a leaf lost, a leaf's own faults,
// the multihop and external sessions, an edge device unknown to the
// inventory, hardware and metrics of no class; each alert firing or
// resolving in turn, the bursts seconds to an hour apart, shuffled
// within a few seconds.
func rolesStream(rng *rand.Rand, n, spines, leaves int) []schemas.Detection {
	const mBFD = "/bfd/interfaces/interface/peers/peer/state/session-state"
	firing := map[string]bool{}
	var out []schemas.Detection
	add := func(sec int, device, metric, keys, detector string, obs, exp float64) {
		k := device + metric + keys
		state := schemas.StateFiring
		if firing[k] && rng.IntN(4) > 0 {
			state = schemas.StateResolved
		}
		firing[k] = state == schemas.StateFiring
		d := det(sec, state, device, metric, keys, detector, obs, exp)
		if len(k)%9 == 0 {
			// A producer whose fingerprints do not name the device.
			d.Fingerprint = "shared " + metric + " " + keys
		}
		if metric == schemas.MetricLLDPNeighbors {
			d.Detector = "lldp_neighbor_lost"
		}
		out = append(out, d)
	}
	// Half the streams are of what reaches a spine with no role (its
	// leaves' sessions and LLDP facing it, shuts) beside what does by a
	// link state or traffic, and never anything on the spine itself.
	quiet := rng.IntN(2) == 0
	sec := 0
	for len(out) < n {
		sec += []int{1, 5, 20, 61, 200, 400, 3600}[rng.IntN(7)]
		s := 1 + rng.IntN(spines)
		spine := fmt.Sprintf("spine%d", s)
		kinds := 1 + rng.IntN(2)
		for range kinds {
			kind := rng.IntN(12)
			if quiet {
				kind = []int{0, 0, 0, 4, 4, 2, 5, 7, 9}[rng.IntN(9)]
			}
			for l := 1; l <= leaves; l++ {
				if rng.IntN(3) == 0 {
					continue
				}
				leaf, at := fmt.Sprintf("leaf%d", l), sec+rng.IntN(5)
				up, down := fmt.Sprintf("name=e%d", s), fmt.Sprintf("name=e%d", l)
				switch kind {
				case 0: // hung
					add(at, leaf, mBGP, bgp(fmt.Sprintf("10.%d.%d.0", s, l)), "session_down", 0, 1)
					add(at+rng.IntN(40), leaf, schemas.MetricLLDPNeighbors, up, "", 0, 1)
				case 1: // its sessions to its leaves
					add(at, spine, mBGP, bgp(fmt.Sprintf("10.%d.%d.1", s, l)), "session_down", 0, 1)
				case 2: // links down seen from the leaves
					add(at, leaf, mOper, up, []string{"link_down", "flapping"}[rng.IntN(2)], 0, 1)
				case 3: // and from the spine
					add(at, spine, mOper, down, []string{"link_down", "flapping", adminDown}[rng.IntN(3)], 0, 1)
				case 4: // shut
					add(at, leaf, mOper, up, adminDown, 0, 1)
				case 5: // traffic facing it, or moved
					add(at, leaf, []string{mIn, mOut}[rng.IntN(2)], []string{up, "name=e9", fmt.Sprintf("name=e%d", 1+rng.IntN(spines))}[rng.IntN(3)], "ewma", 2e9, 1e9)
				case 6: // BFD over the uplink, and the spine's traffic
					add(at, leaf, mBFD, "id=e"+fmt.Sprint(s)+",local-discriminator=1", "session_down", 0, 1)
					add(at, spine, mIn, down, "ewma", 0, 1e9)
				case 7: // the leaf's own faults
					switch rng.IntN(5) {
					case 0:
						add(at, leaf, mTarget, "", []string{"target_down", "flapping"}[rng.IntN(2)], 0, 1)
					case 1:
						add(at, leaf, mBGP, bgp("10.8.8.8"), "session_down", 0, 1)
					case 2:
						add(at, leaf, mBGP, bgp("10.9.9.9"), "session_down", 0, 1)
					case 3:
						add(at, leaf, mPSU, "name=PSU1", "robust_z", 3, 2)
					case 4:
						add(at, leaf, mNbrs, "name=default", "neighbors_down", 1, 2)
					}
				case 8: // the LLDP the spine loses
					add(at, spine, schemas.MetricLLDPNeighbors, down, "", 0, 1)
				case 9: // an edge device nobody lists, its sessions reset
					add(at, fmt.Sprintf("edge%d", l%3), mBGP, bgp(fmt.Sprintf("10.7.%d.%d", s, l)), "session_down", 0, 1)
				case 10: // no class, and messyFabric's odd links and sessions
					switch rng.IntN(6) {
					case 0:
						add(at, leaf, mOther, "", "robust_z", 3, 2)
					case 1:
						add(at, "spine1", mOper, []string{"name=e98", "name=e99"}[rng.IntN(2)], "link_down", 0, 1)
					case 2:
						add(at, "leaf3", mOper, "name=e8", "link_down", 0, 1)
					case 3:
						add(at, "leaf2", mBGP, bgp("10.6.6.6"), "session_down", 0, 1)
					case 4:
						add(at, "ghost", mOper, "name=e1", "link_down", 0, 1)
					case 5:
						add(at, "spine2", mOper, "name=e50", "link_down", 0, 1)
					}
				}
			}
			if kind == 11 || !quiet && rng.IntN(5) == 0 {
				add(sec+rng.IntN(5), spine, mTarget, "", []string{"target_down", "flapping"}[rng.IntN(2)], 0, 1)
			}
		}
	}
	return shuffleWithin(rng, out, 1+rng.IntN(5))
}

// TestWideKeyRolesStreams: rolesStream, on fabrics of 2 to 4 spines and 5
// to 12 leaves, with keys wide from 1 to 4 incidents or at the default,
// the inventory swapped (rewired, another fabric, none) and the engine
// restored from its changelog or its whole state now and then, gives
// detection by detection what the engine checking every incident under
// a wide key gives (wideAll), and what one checking every incident gives
// (scanAll), and with every memo kept (long 1) too; its index finds every
// incident a rule may pair (checkWide). 500 seeds passed at a80d270.
// Before, no stream compared against wideAll rewired the inventory (a
// leaf's port facing another spine, its incidents filed under the old),
// held only role-less kinds beside a spine for long, restored the engine
// from its changelog, or ran with StaleAfter or another Window.
func TestWideKeyRolesStreams(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 61))
		spines, leaves := 2+rng.IntN(3), 5+rng.IntN(8)
		dets := rolesStream(rng, 600, spines, leaves)
		invs := []*schemas.Inventory{rolesFabric(spines, leaves, false), rolesFabric(spines, leaves, true), withExternal(fabricInventory()), nil, messyFabric(spines, leaves)}
		narrow := []int{1, 2, 3, 4, 0}[seed%5]
		cfg := []Config{{}, {StaleAfter: 10 * time.Minute}, {Window: 10 * time.Second}, {Window: 3 * time.Minute, SessionSpan: 5 * time.Minute}}[seed%4]
		compareWide(t, fmt.Sprintf("seed %d", seed), rng, dets, invs, cfg, narrow)
	}
}

// compareWide feeds dets to an engine of cfg on invs[0] with keys wide
// from narrow incidents (0: the default), swapping the inventory for one
// of invs and restoring the engine from its changelog or its whole state
// now and then, and fails unless it gives, detection by detection, what
// the engine checking every incident under a wide key gives (wideAll),
// what one checking every incident gives (scanAll) and what one keeping
// every memo gives (long 1), and its index finds every incident a rule
// may pair (checkWide).
func compareWide(t *testing.T, name string, rng *rand.Rand, dets []schemas.Detection, invs []*schemas.Inventory, cfg Config, narrow int) {
	t.Helper()
	inv := invs[0]
	newEngine := func() *Engine {
		e, _ := New(cfg, inv)
		e.narrow = narrow
		return e
	}
	e, ref, scan, lng := newEngine(), newEngine(), newEngine(), newEngine()
	ref.wideAll, scan.scanAll, lng.long = true, true, 1
	log := map[string][]byte{}
	flush := func() {
		recs, err := e.Changes()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			log[r.Key] = r.Value
		}
	}
	for i := range dets {
		switch r := rng.IntN(200); {
		case r < 3:
			inv = invs[rng.IntN(len(invs))]
			if rng.IntN(3) > 0 {
				inv = invs[rng.IntN(min(2, len(invs)))]
			}
			for _, x := range []*Engine{e, ref, scan, lng} {
				x.SetInventory(inv)
			}
		case r < 7:
			// A restored engine looks for incidents of removed devices
			// at its next detection (closeGone): so do the references,
			// restored from their whole state.
			flush()
			if r < 5 {
				e = restored(t, e, newEngine)
			} else {
				e = replayed(t, newEngine(), log)
			}
			ref, scan, lng = restored(t, ref, newEngine), restored(t, scan, newEngine), restored(t, lng, newEngine)
			ref.wideAll, scan.scanAll, lng.long = true, true, 1
		}
		d := &dets[i]
		got, want, all, long := e.Add(d), ref.Add(d), scan.Add(d), lng.Add(d)
		if !reflect.DeepEqual(long, want) {
			t.Fatalf("%s, detection %d (%s %s): with every memo\n%s\nchecking every incident under wide keys\n%s", name, i, d.State, d.ID, views(long), views(want))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s, detection %d (%s %s): by the roles under wide keys\n%s\nchecking every incident under them\n%s", name, i, d.State, d.ID, views(got), views(want))
		}
		if !reflect.DeepEqual(want, all) {
			t.Fatalf("%s, detection %d (%s %s): checking every incident under wide keys\n%s\nchecking every incident\n%s", name, i, d.State, d.ID, views(want), views(all))
		}
		checkWide(t, e, d, fmt.Sprintf("%s, detection %d", name, i))
	}
}

// replayed restores e, a new engine, from log, its changelog's latest
// record per key, and returns it.
func replayed(t *testing.T, e *Engine, log map[string][]byte) *Engine {
	t.Helper()
	for k, v := range log {
		if err := e.RestoreRecord(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// restored returns an engine of newEngine restored from e's whole state.
func restored(t *testing.T, e *Engine, newEngine func() *Engine) *Engine {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	x := newEngine()
	if err := x.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return x
}
