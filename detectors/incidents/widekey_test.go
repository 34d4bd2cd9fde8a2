package incidents

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestHungSpineNotShared: in a hung spine's storm (BenchmarkStormFarEnd's
// "hung": every leaf's session to spine1 down, then its LLDP on the port
// facing spine1 lost), every leaf's incident is filed under spine1, the
// peer of its session and port, but none has a member on spine1 or a
// link state or traffic facing it, so none can take another's detection
// or merge with it: a leaf's next detection is checked against its own
// leaf's incident only, and no incident is a merge candidate of another.
// Before, each was checked against every leaf's incident filed under
// spine1, and each new incident paired with every one for a merge
// (leaves=2000: 7.3 s, 551 detections/s).
func TestHungSpineNotShared(t *testing.T) {
	const n = 100
	e, _ := New(Config{}, bigFabric(4, n))
	check := func(phase string) {
		t.Helper()
		if len(e.incs) != n {
			t.Fatalf("%s: %d incidents, want %d (one per leaf)", phase, len(e.incs), n)
		}
		d := lldpLost(200, "leaf1", "e1")
		m := newMember(&d, e.inv)
		if got := len(e.nearMember(&m)); got != 1 {
			t.Errorf("%s: leaf1's LLDP loss facing spine1 is checked against %d incidents, want 1 (leaf1's)", phase, got)
		}
		if got := len(e.nearIncident(e.incs[0])); got > 0 {
			t.Errorf("%s: leaf1's incident is a merge candidate of %d others, want 0", phase, got)
		}
	}
	for l := 1; l <= n; l++ {
		e.Add(ptr(fire(90+l%10, fmt.Sprintf("leaf%d", l), mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1)))
	}
	check("sessions down")
	for l := 1; l <= n; l++ {
		e.Add(ptr(lldpLost(120+l%30, fmt.Sprintf("leaf%d", l), "e1")))
	}
	check("LLDP lost")
}

// TestWideKeyMatchesAll: an engine that checks a detection, or a merge,
// only against the incidents under a wide device key that their roles
// may meet (reach.mayMeet) gives, detection by detection, exactly what
// one that checks every incident filed under the key gives (wideAll),
// with keys wide from 2, 3 or 4 incidents on or at the default, over
// far-end minutes (silent, hung and lost spines, farEndScenario) and
// BenchmarkStormFarEnd's storms on 40 leaves in shuffled orders, leaves
// minutes apart with what meets them at any time (minutesApart), spine
// storms (spineStorm) and random streams, with the inventory changing
// and the engine restored (its index and memos dropped) now and then; and
// its index finds every incident a rule may pair (checkWide).
func TestWideKeyMatchesAll(t *testing.T) {
	type stream struct {
		name string
		inv  *schemas.Inventory
		dets []schemas.Detection
	}
	var streams []stream
	for seed := range uint64(80) {
		rng := rand.New(rand.NewPCG(seed, 51))
		dets := farEndScenario(rng)
		streams = append(streams, stream{fmt.Sprintf("far end %d", seed), bigFabric(3, 6), shuffleWithin(rng, dets, 1+rng.IntN(5))})
	}
	storms := farEndStorms(40)
	for i, name := range []string{"down", "hung", "lost"} {
		rng := rand.New(rand.NewPCG(uint64(i), 52))
		streams = append(streams, stream{name, bigFabric(4, 40), shuffleWithin(rng, storms[name], 1+rng.IntN(5))})
	}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 53))
		dets, inv := spineStorm(rng, 300), bigFabric(4, 10)
		if seed%2 == 1 {
			dets, inv = append(dets, randomStream(rng, 150)...), withExternal(fabricInventory())
		}
		streams = append(streams, stream{fmt.Sprintf("spines %d", seed), inv, dets})
	}
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 55))
		streams = append(streams, stream{fmt.Sprintf("minutes apart %d", seed), bigFabric(4, 30), minutesApart(rng, 30, 1+rng.IntN(5))})
	}
	for i, s := range streams {
		rng := rand.New(rand.NewPCG(uint64(i), 54))
		narrow := []int{1, 2, 3, 0}[i%4]
		inv := s.inv
		invs := []*schemas.Inventory{inv, withExternal(fabricInventory()), nil}
		newEngine := func(all bool) *Engine {
			e, _ := New(Config{}, inv)
			e.narrow, e.wideAll = narrow, all
			return e
		}
		e, ref := newEngine(false), newEngine(true)
		for j := range s.dets {
			switch r := rng.IntN(100); {
			case r < 2:
				inv = invs[rng.IntN(len(invs))]
				e.SetInventory(inv)
				ref.SetInventory(inv)
			case r < 4:
				// The reference is restored with it, as compareWide does:
				// the comparison is of the index, not of a restore.
				e = restored(t, e, func() *Engine { return newEngine(false) })
				ref = restored(t, ref, func() *Engine { return newEngine(true) })
			}
			d := &s.dets[j]
			got, want := e.Add(d), ref.Add(d)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, detection %d (%s %s): by the roles under wide keys\n%s\nchecking every incident under them\n%s", s.name, j, d.State, d.ID, views(got), views(want))
			}
			checkWide(t, e, d, fmt.Sprintf("%s, detection %d", s.name, j))
		}
		if got, want := e.Open(), ref.Open(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: incidents held differ:\n%s\n%s", s.name, signature(got), signature(want))
		}
	}
}

// checkWide fails unless e's index finds every incident a rule may pair:
// among those nearMember returns for the member of d, every incident
// held that it would join or be an effect of, or that holds its alert;
// among those nearIncident returns for an incident, every other one of
// which a firing symptom would join it or be its effect, or that has one
// that would join or be an effect of the other.
func checkWide(t *testing.T, e *Engine, d *schemas.Detection, where string) {
	t.Helper()
	m := newMember(d, e.inv)
	near := e.nearMember(&m)
	for _, in := range e.incs {
		e.remember(in)
		if (in.memo.alerts[m.Fingerprint] || meets(e, in, &m)) && !slices.Contains(near, in) {
			t.Fatalf("%s: %s %s concerns incident %s (class %d), which its keys do not find", where, d.State, d.ID, in.ID, in.class())
		}
	}
	for _, in := range e.incs {
		cands := e.nearIncident(in)
		for _, o := range e.incs {
			if o != in && (anyMeets(e, in, o) || anyMeets(e, o, in)) && !slices.Contains(cands, o) {
				t.Fatalf("%s: incident %s (class %d) may pair with %s (class %d), which nearIncident does not find", where, in.ID, in.class(), o.ID, o.class())
			}
		}
	}
}

// meets reports whether m would join in, or be its effect.
func meets(e *Engine, in *incident, m *member) bool {
	return e.joins(in, m) || m.Class == classTraffic && e.effectOf(in, m)
}

// anyMeets reports whether a firing symptom of b (not an effect) would
// join a, or be its effect: what every rule of a merge needs (pair).
func anyMeets(e *Engine, a, b *incident) bool {
	for i := range b.Members {
		if m := &b.Members[i]; m.Firing && !m.Effect && meets(e, a, m) {
			return true
		}
	}
	return false
}
