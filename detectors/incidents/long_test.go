package incidents

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// spineStorm returns n detections on bigFabric(4, 10) of what the long
// incidents' tallies read: spines losing their leaves' links (down or
// flapping, often coming back, sometimes firing again before), the
// collector losing a spine, shuts, traffic moving to the other uplinks,
// LLDP and sessions, at severities of every rank, shuffled within skew
// seconds.
func spineStorm(rng *rand.Rand, n int) []schemas.Detection {
	var out []schemas.Detection
	sevs := []string{schemas.SeverityCritical, schemas.SeverityWarning, schemas.SeverityInfo}
	add := func(d schemas.Detection) {
		d.Severity = sevs[rng.IntN(len(sevs))]
		out = append(out, d)
	}
	sec := 0
	for len(out) < n {
		sec += []int{2, 30, 200, 900}[rng.IntN(4)]
		s := 1 + rng.IntN(4)
		spine, port := fmt.Sprintf("spine%d", s), fmt.Sprintf("e%d", s)
		if rng.IntN(4) == 0 {
			add(fire(sec+rng.IntN(10), spine, mTarget, "", []string{"target_down", "flapping"}[rng.IntN(2)], 0, 1))
		}
		for l := 1; l <= 10; l++ {
			leaf := fmt.Sprintf("leaf%d", l)
			switch r := rng.IntN(10); {
			case r < 6:
				det := []string{"link_down", "link_down", "flapping"}[rng.IntN(3)]
				at := sec + rng.IntN(4)
				if rng.IntN(8) == 0 {
					add(det2(at-rng.IntN(3), schemas.StateResolved, leaf, mOper, "name="+port, det))
				}
				add(fire(at, leaf, mOper, "name="+port, det, 0, 1))
				if rng.IntN(2) == 0 {
					add(det2(at+rng.IntN(90), schemas.StateResolved, leaf, mOper, "name="+port, det))
				}
				if rng.IntN(3) == 0 {
					add(fire(at+rng.IntN(3), leaf, mIn, fmt.Sprintf("name=e%d", 1+rng.IntN(4)), "ewma", 2e9, 1e9))
				}
			case r == 6:
				add(fire(sec+rng.IntN(4), leaf, mOper, "name="+port, adminDown, 0, 1))
			case r == 7:
				add(lldpLost(sec+rng.IntN(30), leaf, port))
			case r == 8:
				add(fire(sec+rng.IntN(4), leaf, mBGP, bgp(fmt.Sprintf("10.%d.%d.0", s, l)), "session_down", 0, 1))
			}
		}
	}
	return shuffleWithin(rng, out, 1+rng.IntN(20))
}

// det2 is det of a link state, observed 0 against 1.
func det2(sec int, state, device, metric, keys, detector string) schemas.Detection {
	return det(sec, state, device, metric, keys, detector, 0, 1)
}

// TestLongMatchesPlain: an engine that keeps a tally and the entities of
// every incident (long 1), growing them and its memo member by member,
// gives, detection by detection, exactly what one that describes every
// incident by a pass over its members gives, over random storms of a
// spine's links and random streams of every class of detection, with the
// inventory changing and the engine restored (its memos dropped) now and
// then, and small MaxEvidence (so the joined member is found between the
// first and the latest); and its memo answers as a pass over the members
// does (checkMemo).
func TestLongMatchesPlain(t *testing.T) {
	for seed := range 16 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		invs := []*schemas.Inventory{bigFabric(4, 10), withExternal(fabricInventory()), nil}
		inv := invs[0]
		dets := spineStorm(rng, 500)
		if seed%2 == 1 {
			dets = append(dets, randomStream(rng, 200)...)
			inv = invs[seed%3]
		}
		cfg := Config{MaxEvidence: 2 + rng.IntN(12)}
		if seed%4 == 0 {
			cfg = Config{}
		}
		newLong := func() *Engine {
			e, _ := New(cfg, inv)
			e.long = 1
			return e
		}
		e, ref := newLong(), newLong()
		ref.long = math.MaxInt
		for i := range dets {
			switch r := rng.IntN(100); {
			case r < 2:
				inv = invs[rng.IntN(len(invs))]
				e.SetInventory(inv)
				ref.SetInventory(inv)
			case r < 4:
				// The reference is restored too, as compareWide does.
				e, ref = restored(t, e, newLong), restored(t, ref, newLong)
				ref.long = math.MaxInt
			}
			got, want := e.Add(&dets[i]), ref.Add(&dets[i])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, detection %d (%s %s): with tallies\n%s\nby a pass over the members\n%s", seed, i, dets[i].State, dets[i].ID, views(got), views(want))
			}
			checkMemo(t, e, &dets[i], fmt.Sprintf("seed %d, detection %d", seed, i))
		}
		if got, want := e.Open(), ref.Open(); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: incidents held differ:\n%s\n%s", seed, signature(got), signature(want))
		}
	}
}

// checkMemo fails unless, for every incident e holds, the answers its
// memo and e's reach index give are those of a pass over its members:
// its class and target devices, and, for the member of d and the first
// and latest of every incident d may concern, hasPort, recentLinkDown and
// farEndJoins; whether a symptom of another incident would join it
// (anyJoins); and the incidents a merge looks at (nearIncident) those
// filed under any of its device keys (under a wide one, those its roles
// may meet: reach.mayMeet).
func checkMemo(t *testing.T, e *Engine, d *schemas.Detection, where string) {
	t.Helper()
	probes := []member{newMember(d, e.inv)}
	for _, in := range e.nearMember(&probes[0]) {
		probes = append(probes, in.Members[0], in.Members[len(in.Members)-1])
	}
	for _, in := range e.incs {
		if got, want := in.class(), in.classOf(); got != want {
			t.Fatalf("%s: incident %s: class %d, by a pass %d", where, in.ID, got, want)
		}
		var targets []string
		for i := range in.Members {
			if m := &in.Members[i]; m.isTarget() && !m.Effect && !slices.Contains(targets, m.Device) {
				targets = append(targets, m.Device)
			}
		}
		slices.Sort(targets)
		if got := in.targetDevices(); !slices.Equal(got, targets) {
			t.Fatalf("%s: incident %s: target devices %v, by a pass %v", where, in.ID, got, targets)
		}
		for i := range probes {
			m := &probes[i]
			if got, want := e.hasPort(in, m.Device, m.Port), hasPortScan(e, in, m.Device, m.Port); m.Port != "" && got != want {
				t.Fatalf("%s: incident %s: hasPort(%s:%s) %t, by a pass %t", where, in.ID, m.Device, m.Port, got, want)
			}
			if got, want := e.recentLinkDown(in, m), recentLinkDownScan(e, in, m); got != want {
				t.Fatalf("%s: incident %s: recentLinkDown(%s) %t, by a pass %t", where, in.ID, m.ID, got, want)
			}
			if got, want := e.farEndJoins(in, m), farEndJoinsScan(e, in, m); got != want {
				t.Fatalf("%s: incident %s: farEndJoins(%s) %t, by a pass %t", where, in.ID, m.ID, got, want)
			}
		}
		for _, b := range e.incs {
			if b == in {
				continue
			}
			want := false
			for i := range b.Members {
				if m := &b.Members[i]; m.Firing && !m.Effect && e.joins(in, m) {
					want = true
				}
			}
			if got := e.anyJoins(in, b); got != want {
				t.Fatalf("%s: incident %s (class %d): anyJoins(%s) %t, by a pass %t", where, in.ID, in.class(), b.ID, got, want)
			}
		}
		r := e.reachIndex()
		want := e.filed(in, e.spanOf(in), func(add func(string, uint8)) {
			for k, how := range r.keys[in] {
				switch k[0] {
				case 'd':
					add(k, how)
				case 'u':
					add("s", 0)
				case 's':
					add("u", 0)
				}
			}
		})
		if got := e.nearIncident(in); !slices.Equal(got, want) {
			t.Fatalf("%s: incident %s: nearIncident %d incidents, under its keys %d", where, in.ID, len(got), len(want))
		}
	}
}

// hasPortScan is hasPort by a pass over in's members.
func hasPortScan(e *Engine, in *incident, device, iface string) bool {
	peer, hasPeer := e.inv.Peer(schemas.Port{Device: device, Interface: iface})
	for i := range in.Members {
		p := &in.Members[i]
		if p.Port == "" || p.Effect {
			continue
		}
		if (p.Device == device && p.Port == iface) || (hasPeer && p.Device == peer.Device && p.Port == peer.Interface) {
			return true
		}
	}
	return false
}

// recentLinkDownScan is recentLinkDown by a pass over in's members.
func recentLinkDownScan(e *Engine, in *incident, m *member) bool {
	if !m.linkState() {
		return false
	}
	own := false
	for i := range in.Members {
		own = own || !in.Members[i].Effect && in.Members[i].Device == m.Device
	}
	if !own {
		return false
	}
	for i := range in.Members {
		if p := &in.Members[i]; p.linkState() && p.Device == m.Device && e.within(m.Time, p.Time) {
			return true
		}
	}
	return false
}

// farEndJoinsScan is farEndJoins by a pass over in's members.
func farEndJoinsScan(e *Engine, in *incident, m *member) bool {
	if !m.linkState() {
		return false
	}
	q, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port})
	if !ok || q.Device == m.Device {
		return false
	}
	near, own := false, false
	for i := range in.Members {
		if p := &in.Members[i]; !p.Effect {
			own = own || p.Device == q.Device
			near = near || p.Device == q.Device || e.peerDevice(p) == q.Device
		}
	}
	if !near || own {
		return false
	}
	for i := range in.Members {
		p := &in.Members[i]
		if p.Effect || !p.Firing || !p.linkState() || p.Device == m.Device || !e.within(m.Time, p.Time) {
			continue
		}
		if r, ok := e.inv.Peer(schemas.Port{Device: p.Device, Interface: p.Port}); ok && r.Device == q.Device {
			return true
		}
	}
	return false
}

// views formats incidents in full, one a line.
func views(incs []*schemas.Incident) string {
	out := ""
	for _, in := range incs {
		out += fmt.Sprintf("%+v\n", *in)
	}
	return out
}
