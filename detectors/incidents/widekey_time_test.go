package incidents

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestWideKeyByTime: under a wide device key, a detection or a merge
// reaching the device only by link states or traffic facing it (not a
// member on it) meets only the incidents with a member on it or within
// Window of its time: of BenchmarkSmallIncidents' leaves, each losing its
// uplink to spine1 two minutes after the previous one (its traffic moved
// to spine2), the last leaf's link state and traffic, and its incident,
// meet none of the others.
// Before, each met every other leaf's incident under spine1 (link states
// facing it) and spine2 (traffic facing it), and checked them for a join
// and a merge: BenchmarkSmallIncidents took 0.2 s at 500 leaves, 3.6 s
// at 2 000.
func TestWideKeyByTime(t *testing.T) {
	const n = 40
	e, _ := New(Config{}, bigFabric(4, n))
	for l := 1; l <= n; l++ {
		leaf, at := fmt.Sprintf("leaf%d", l), 120*l
		dets := []schemas.Detection{fire(at, leaf, mOper, "name=e1", "link_down", 0, 1),
			fire(at, leaf, mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1),
			fire(at+1, leaf, mIn, "name=e2", "ewma", 2e9, 1e9)}
		for i := range dets {
			if l == n {
				m := newMember(&dets[i], e.inv)
				if near := e.nearMember(&m); len(near) > 1 {
					t.Fatalf("%s %s of the last leaf: %d incidents near, want its own at most", dets[i].Metric, dets[i].Keys, len(near))
				}
			}
			e.Add(&dets[i])
		}
	}
	if got := e.OpenCount(); got != n {
		t.Fatalf("%d incidents open, want %d", got, n)
	}
	if near := e.nearIncident(e.incs[n-1]); len(near) > 0 {
		t.Fatalf("the last leaf's incident: %d incidents near for a merge, want none", len(near))
	}
}

// minutesApart returns BenchmarkSmallIncidents' stream on bigFabric(4,
// leaves), each leaf's uplink to spine1 down (its session, its traffic
// moved to spine2) about two minutes after the previous leaf's, some
// resolving, with what meets them under a wide key at any time beside:
// spine1's port facing a leaf down or its traffic surging minutes
// before or after the leaf's link, spine1 lost, a leaf's link to spine2
// down, all shuffled within skew seconds.
func minutesApart(rng *rand.Rand, leaves, skew int) []schemas.Detection {
	var out []schemas.Detection
	for l := 1; l <= leaves; l++ {
		leaf, at := fmt.Sprintf("leaf%d", l), 120*l+rng.IntN(40)-20
		out = append(out, fire(at, leaf, mOper, "name=e1", "link_down", 0, 1),
			fire(at, leaf, mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1),
			fire(at+1, leaf, mIn, "name=e2", "ewma", 2e9, 1e9))
		if rng.IntN(4) == 0 {
			out = append(out, det2(at+rng.IntN(200), schemas.StateResolved, leaf, mOper, "name=e1", "link_down"))
		}
		switch rng.IntN(6) {
		case 0:
			out = append(out, fire(at+rng.IntN(600)-300, "spine1", mOper, fmt.Sprintf("name=e%d", l), "link_down", 0, 1))
		case 1:
			out = append(out, fire(at+rng.IntN(600)-300, "spine1", mIn, fmt.Sprintf("name=e%d", l), "ewma", 2e9, 1e9))
		case 2:
			out = append(out, fire(at+rng.IntN(600)-300, leaf, mOper, "name=e2", "link_down", 0, 1))
		case 3:
			out = append(out, fire(at+rng.IntN(600)-300, "spine1", mTarget, "", "target_down", 0, 1))
		}
	}
	return shuffleWithin(rng, out, skew)
}
