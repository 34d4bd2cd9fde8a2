package incidents

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// randomAlert is one series a random stream fires and resolves.
type randomAlert struct{ device, metric, keys, detector string }

// randomAlerts are the alerts of randomStream: every class of member on
// the devices of fabricInventory and on two it does not know (so sessions
// join by time alone there), on ports with and without a peer, sessions
// the inventory knows and does not, hardware of both chains, the
// collector's target state and a metric of no class.
func randomAlerts() []randomAlert {
	const (
		mBFD  = "/bfd/interfaces/interface/peers/peer/state/session-state"
		mRx   = "/components/component/transceiver/state/input-power/instant"
		mBias = "/components/component/transceiver/state/laser-bias-current/instant"
		mFan  = "/components/component/fan/state/speed"
	)
	var out []randomAlert
	for _, d := range []string{"spine1", "spine2", "leaf1", "leaf2", "leaf3", "edge8", "edge9"} {
		for _, p := range []string{"e1", "e2", "e3", "e7"} {
			for _, det := range []string{"link_down", "admin_down", "flapping"} {
				out = append(out, randomAlert{d, mOper, "name=" + p, det})
			}
			out = append(out, randomAlert{d, mIn, "name=" + p, "ewma"}, randomAlert{d, mOut, "name=" + p, "level_shift"},
				randomAlert{d, mBFD, "id=" + p + ",local-discriminator=1", "session_down"})
		}
		for _, n := range []string{"10.1.1.0", "10.1.1.1", "10.2.2.0", "10.2.3.1", "10.0.0.0", "10.9.9.9"} {
			out = append(out, randomAlert{d, mBGP, bgp(n), "session_down"})
		}
		out = append(out, randomAlert{d, mNbrs, "name=default", "neighbors_down"},
			randomAlert{d, mPSU, "name=PSU1", "robust_z"}, randomAlert{d, mTemp, "name=Inlet", "robust_z"},
			randomAlert{d, mFan, "name=Fan1", "cusum"}, randomAlert{d, mRx, "name=Et1-transceiver", "drift"},
			randomAlert{d, mBias, "name=Et1-transceiver", "robust_z"}, randomAlert{d, mTarget, "", "target_down"},
			randomAlert{d, mTarget, "", "flapping"}, randomAlert{d, mOther, "", "robust_z"})
	}
	return out
}

// randomStream returns n detections of randomAlerts in bursts (up to 12
// at one instant, as a fault's symptoms come), each alert firing or
// resolving in turn, with bursts from seconds to an hour apart, shuffled
// within skew seconds. A ninth of the alerts share their fingerprint with
// the same series on the other devices.
func randomStream(rng *rand.Rand, n int) []schemas.Detection {
	alerts := randomAlerts()
	firing := map[int]bool{}
	var out []schemas.Detection
	sec := 0
	for len(out) < n {
		sec += []int{1, 5, 30, 120, 600, 3600}[rng.IntN(6)]
		for range 1 + rng.IntN(12) {
			i := rng.IntN(len(alerts))
			a := alerts[i]
			state := schemas.StateFiring
			if firing[i] {
				state = schemas.StateResolved
			}
			firing[i] = !firing[i]
			d := det(sec+rng.IntN(3), state, a.device, a.metric, a.keys, a.detector, rng.Float64()*2e9, 1e9)
			if i%9 == 0 {
				// A producer whose fingerprints do not name the device:
				// one alert identity on several devices.
				d.Fingerprint = "shared " + a.metric + " " + a.keys
			}
			out = append(out, d)
		}
	}
	return shuffleWithin(rng, out, 1+rng.IntN(60))
}

// TestReachMatchesScan: an engine that checks each detection against the
// incidents reach files it under gives, detection by detection, exactly
// what an engine that checks every incident held gives, over random
// streams of every class of detection, with the inventory changing mid
// stream and the engine restored from its changelog records or its old
// whole-state form now and then (which files every incident again).
func TestReachMatchesScan(t *testing.T) {
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		dets := randomStream(rng, 400)
		invs := []*schemas.Inventory{withExternal(fabricInventory()), nil, testInventory()}
		inv := invs[seed%3]
		ref, _ := New(Config{}, inv)
		ref.scanAll = true
		e, _ := New(Config{}, inv)
		log := map[string][]byte{} // the changelog, compacted
		// flush writes the records of what changed since the last flush
		// to log, before the engine is replaced.
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
			switch r := rng.IntN(100); {
			case r < 2:
				inv = invs[rng.IntN(len(invs))]
				ref.SetInventory(inv)
				e.SetInventory(inv)
			case r < 4:
				flush()
				e = restoredFromLog(t, Config{}, inv, log)
			case r < 5:
				flush()
				b, err := e.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				e, _ = New(Config{}, inv)
				if err := e.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
			}
			got, want := e.Add(&dets[i]), ref.Add(&dets[i])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, detection %d (%s %s): with reach\n%s\nchecking every incident\n%s", seed, i, dets[i].State, dets[i].ID, signature(got), signature(want))
			}
			checkHeld(t, e, fmt.Sprintf("seed %d, detection %d", seed, i))
		}
		if got, want := e.Open(), ref.Open(); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: incidents held differ:\n%s\n%s", seed, signature(got), signature(want))
		}
	}
}

// TestEntities: the entities of every incident held, over random streams
// with the inventory changing (so one session's members may carry
// different ports), are those of a plain pass that asks the inventory for
// every member and keeps each entity's first appearance; past a limit,
// the first of them, with how many in all.
func TestEntities(t *testing.T) {
	plain := func(e *Engine, ms []member) []schemas.Entity {
		var out []schemas.Entity
		seen := map[schemas.Entity]bool{}
		add := func(en schemas.Entity) {
			if d, ok := e.inv.Device(en.Device); ok {
				en.Site, en.Role = d.Site, d.Role
			}
			if !seen[en] {
				seen[en] = true
				out = append(out, en)
			}
		}
		for i := range ms {
			m := &ms[i]
			add(schemas.Entity{Kind: schemas.EntityDevice, Device: m.Device})
			switch {
			case m.Class == classHardware:
				add(schemas.Entity{Kind: schemas.EntityComponent, Device: m.Device, Name: m.Component})
			case m.Neighbor != "":
				add(schemas.Entity{Kind: schemas.EntitySession, Device: m.Device, Name: m.Neighbor, PeerDevice: e.peerDevice(m)})
			case m.Port != "":
				en := schemas.Entity{Kind: schemas.EntityInterface, Device: m.Device, Name: m.Port}
				if p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok {
					en.PeerDevice, en.PeerInterface = p.Device, p.Interface
				}
				add(en)
			}
		}
		return out
	}
	invs := []*schemas.Inventory{withExternal(fabricInventory()), nil, testInventory()}
	checked := 0
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		dets := randomStream(rng, 400)
		e, _ := New(Config{}, invs[seed%3])
		for i := range dets {
			if rng.IntN(50) == 0 {
				e.SetInventory(invs[rng.IntN(len(invs))])
			}
			e.Add(&dets[i])
			for _, in := range e.incs {
				want := plain(e, in.Members)
				if got, named, ds, ss := e.entities(in, nil, math.MaxInt); !reflect.DeepEqual(got, want) || named != len(want) || ds != nil || ss != nil {
					t.Fatalf("seed %d, detection %d, incident %s: entities (%d named; devices %q, sites %q)\n%+v\nwant\n%+v", seed, i, in.ID, named, ds, ss, got, want)
				}
				// Past a limit, the first ones, how many in all, and the
				// devices and sites of all.
				limit := 1 + i%7
				wd, ws := []string(nil), []string(nil)
				if len(want) > limit {
					wd, ws = distinctOf(want)
				}
				if got, named, ds, ss := e.entities(in, nil, limit); !reflect.DeepEqual(got, want[:min(limit, len(want))]) || named != len(want) ||
					!slices.Equal(ds, wd) || !slices.Equal(ss, ws) || (ds == nil) != (wd == nil) {
					t.Fatalf("seed %d, detection %d, incident %s: the first %d entities (%d named; devices %q, sites %q, want %q and %q)\n%+v\nwant %d of\n%+v",
						seed, i, in.ID, limit, named, ds, ss, wd, ws, got, len(want), want)
				}
				checked++
			}
		}
	}
	t.Logf("%d incident views checked", checked)
}

// checkHeld fails unless what the reference engine does not check holds
// for every incident e holds: members in memberOrder (describe reads them
// in it), an expiry no earlier than expireAt (expire skips its look until
// then), and a memo that claims to be current equal to one taken afresh
// (rememberAdded grows it member by member).
func checkHeld(t *testing.T, e *Engine, where string) {
	t.Helper()
	for _, in := range e.incs {
		if !slices.IsSortedFunc(in.Members, memberOrder) {
			t.Fatalf("%s: incident %s: members out of order", where, in.ID)
		}
		if e.expireAt != 0 && in.Resolved != 0 && e.expiry(in) < e.expireAt {
			t.Fatalf("%s: incident %s expires at %d, before expireAt %d", where, in.ID, e.expiry(in), e.expireAt)
		}
		if mo := in.memo; mo.devN != 0 && mo.devN == len(in.Members) && mo.devInv == e.invGen {
			fresh := &incident{Members: in.Members}
			e.remember(fresh)
			if !maps.Equal(fresh.memo.own, mo.own) || !maps.Equal(fresh.memo.near, mo.near) || !maps.Equal(fresh.memo.alerts, mo.alerts) {
				t.Fatalf("%s: incident %s: memo %v %v %v, taken afresh %v %v %v", where, in.ID,
					mo.own, mo.near, mo.alerts, fresh.memo.own, fresh.memo.near, fresh.memo.alerts)
			}
		}
	}
}

// TestExpiryLongLateness: an incident resolved 10 s ago is held however
// far the configured lateness puts its expiry, even past what time can
// say (250 years).
func TestExpiryLongLateness(t *testing.T) {
	e, _ := New(Config{Lateness: 250 * 365 * 24 * time.Hour}, testInventory())
	e.Add(ptr(fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1)))
	e.Add(ptr(det(10, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1)))
	e.Add(ptr(fire(20, "leaf2", mOper, "name=e9", "link_down", 0, 1)))
	if len(e.incs) != 2 {
		t.Errorf("%d incidents held, want 2 (leaf1's resolved 10 s ago, lateness 250 years)", len(e.incs))
	}
}

func ptr[T any](v T) *T { return &v }

// withExternal adds to inv a session of spine1 and one of leaf1 to an
// external peer (10.9.9.9, no peer device), as inventories list transit
// providers.
func withExternal(inv *schemas.Inventory) *schemas.Inventory {
	for _, d := range []string{"spine1", "leaf1"} {
		inv.Sessions = append(inv.Sessions, schemas.Session{Device: d, Protocol: schemas.ProtocolBGP, Neighbor: "10.9.9.9", Interface: "e7"})
	}
	return inv
}

// restoredFromLog returns an engine of cfg and inv restored from the
// latest record of every key of log.
func restoredFromLog(t *testing.T, cfg Config, inv *schemas.Inventory, log map[string][]byte) *Engine {
	t.Helper()
	e, _ := New(cfg, inv)
	return replayed(t, e, log)
}

// compareScan feeds dets to an engine that checks every incident and to one
// that uses reach, and fails at the first update that differs.
func compareScan(t *testing.T, inv *schemas.Inventory, dets []schemas.Detection) (ref, e *Engine) {
	t.Helper()
	ref, _ = New(Config{}, inv)
	ref.scanAll = true
	e, _ = New(Config{}, inv)
	for i := range dets {
		got, want := e.Add(&dets[i]), ref.Add(&dets[i])
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("detection %d (%s): with reach\n%s\nchecking every incident\n%s", i, dets[i].ID, signature(got), signature(want))
		}
	}
	return ref, e
}

// TestReachEmptyDevice: a detection with an empty device (Add does not
// validate it; the correlate stage's decoder does) opens its own incident
// either way. The memo once took a member with no inventory peer as near
// the device "", so checking every incident joined the target state to
// ghost's link incident, where reach opened a new one.
func TestReachEmptyDevice(t *testing.T) {
	compareScan(t, testInventory(), []schemas.Detection{
		fire(0, "ghost", mOper, "name=x1", "link_down", 0, 1),
		fire(1, "", mTarget, "", "target_down", 0, 1),
	})
}

// TestReachEffectFirst: a traffic incident whose Members[0] is an effect
// on another device: joins' traffic rule compares m.Device with
// Members[0].Device, so traffic on spine2 (any port) joins leaf1's traffic
// incident. Reach finds it only because effects are filed under their own
// device too, a path TestReachMatchesScan's streams do not reach.
func TestReachEffectFirst(t *testing.T) {
	ref, _ := compareScan(t, fabricInventory(), []schemas.Detection{
		fire(10, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1), // session incident on leaf1:e1 (peer spine1)
		fire(5, "spine2", mIn, "name=e1", "ewma", 0, 1),                // effect: spine2:e1 faces leaf1:e2
		fire(7, "leaf1", mIn, "name=e1", "ewma", 0, 1),                 // joins by port: class becomes traffic
		fire(20, "spine2", mIn, "name=e3", "ewma", 0, 1),               // joins: Members[0] (the effect) is on spine2
	})
	if n := len(ref.incs); n != 1 {
		t.Fatalf("%d incidents, want 1 (the path is not exercised)", n)
	}
	if in := ref.incs[0]; !in.Members[0].Effect || in.class() != classTraffic {
		t.Fatalf("Members[0] effect %v, class %d: the path is not exercised", in.Members[0].Effect, in.class())
	}
}

// TestReachRestoreIntoUsedEngine: a restore into an engine that has
// already filed its incidents (TestReachMatchesScan restores into new
// engines only), by UnmarshalBinary and by RestoreRecord: leaf1's
// incident replaces leaf2's, and the next detections find it.
func TestReachRestoreIntoUsedEngine(t *testing.T) {
	inv := fabricInventory()
	a, _ := New(Config{}, inv)
	a.Add(ptr(fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1)))
	snap, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := a.Changes()
	if err != nil {
		t.Fatal(err)
	}
	for name, restore := range map[string]func(*Engine) error{
		"UnmarshalBinary": func(x *Engine) error { return x.UnmarshalBinary(snap) },
		"RestoreRecord": func(x *Engine) error {
			for _, r := range recs {
				if err := x.RestoreRecord(r.Key, r.Value); err != nil {
					return err
				}
			}
			return nil
		},
	} {
		e, _ := New(Config{}, inv)
		ref, _ := New(Config{}, inv)
		ref.scanAll = true
		for _, x := range []*Engine{e, ref} {
			x.Add(ptr(fire(0, "leaf2", mOper, "name=e1", "link_down", 0, 1)))
			if err := restore(x); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []schemas.Detection{fire(5, "leaf1", mOper, "name=e2", "link_down", 0, 1), fire(6, "leaf2", mOper, "name=e2", "link_down", 0, 1)} {
			if got, want := e.Add(&d), ref.Add(&d); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %s: with reach\n%s\nchecking every incident\n%s", name, d.ID, signature(got), signature(want))
			}
		}
	}
}

// externalInventory is n edge routers, each with a BGP session to a
// transit provider the inventory does not list (PeerDevice ""), as
// inventories list external peers.
func externalInventory(n int) *schemas.Inventory {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	for i := range n {
		d := fmt.Sprintf("edge%04d", i)
		inv.Devices = append(inv.Devices, schemas.Device{Name: d, Site: "fra1", Role: "edge"})
		inv.Sessions = append(inv.Sessions, schemas.Session{Device: d, Protocol: schemas.ProtocolBGP, Neighbor: "192.0.2.1", Interface: "et1"})
	}
	return inv
}

// TestReachExternalPeerNotShared: a session to an external peer (no peer
// device in the inventory) is not filed under the empty device, which
// every such incident would share: an eBGP storm would be checked
// incident by incident again.
func TestReachExternalPeerNotShared(t *testing.T) {
	const n = 200
	e, _ := New(Config{}, externalInventory(n))
	for i := range n {
		e.Add(ptr(fire(i, fmt.Sprintf("edge%04d", i), mBGP, bgp("192.0.2.1"), "session_down", 0, 1)))
	}
	if len(e.incs) != n {
		t.Fatalf("%d incidents, want %d", len(e.incs), n)
	}
	d := fire(n, "edge0000", mBGP, "name=vrf2,neighbor-address=192.0.2.1", "session_down", 0, 1)
	m := newMember(&d, e.inv)
	if got := len(e.nearMember(&m)); got > 1 {
		t.Errorf("a session reset on edge0000 is checked against %d incidents, want 1 (its own device's)", got)
	}
	if got := len(e.nearIncident(e.incs[0])); got > 0 {
		t.Errorf("edge0000's incident is a merge candidate of %d others, want 0", got)
	}
	if _, ok := e.reach.of["d"]; ok {
		t.Errorf(`%d incidents filed under "d" (the empty device)`, len(e.reach.of["d"]))
	}
}
