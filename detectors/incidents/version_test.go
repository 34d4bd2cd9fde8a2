package incidents

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestUpdateVersionMonotonic feeds random detections (firing and resolved,
// out of order by up to minutes, on both ends of a link and its session)
// with a small max_evidence and stale_after, and an inventory that drops a
// device and gets it back, to engines, and checks that every update the
// engine publishes of one incident has a schemas.IncidentUpdateVersion at
// least that of the update before it, equal only for the same update
// (ReplacingMergeTree keeps the highest, so a lower one would be a newer
// state FINAL never shows). It covers reopenings, merges, the max_evidence
// cap, and stale and device_removed closes.
func TestUpdateVersionMonotonic(t *testing.T) {
	type series struct{ device, metric, keys, detector string }
	ss := []series{
		{"leaf1", mOper, "interface=e1", "state"},
		{"spine1", mOper, "interface=e3", "state"},
		{"leaf1", mBGP, "neighbor=10.0.0.0", "state"},
		{"leaf1", mIn, "interface=e1", "mad"},
		{"spine1", mPSU, "component=psu1", "mad"},
		{"leaf1", mOther, "", "mad"},
	}
	full := testInventory()
	noSpine := testInventory()
	noSpine.Devices = noSpine.Devices[1:]
	noSpine.Links, noSpine.Sessions = nil, nil
	kinds := map[string]int{}
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		e, err := New(Config{MaxEvidence: 2 + rng.IntN(4), StaleAfter: time.Duration(1+rng.IntN(10)) * time.Minute, Reopen: time.Duration(1+rng.IntN(10)) * time.Minute}, full)
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]*schemas.Incident{}
		clock := 0
		for i := range 200 {
			switch rng.IntN(40) {
			case 0:
				e.SetInventory(noSpine)
			case 1:
				e.SetInventory(full)
			}
			clock += rng.IntN(90)
			sec := clock - rng.IntN(600) // late by up to 10 min
			s := ss[rng.IntN(len(ss))]
			state := schemas.StateFiring
			if rng.IntN(2) == 0 {
				state = schemas.StateResolved
			}
			d := det(sec, state, s.device, s.metric, s.keys, s.detector, 0, 1)
			for _, in := range e.Add(&d) {
				v := schemas.IncidentUpdateVersion(in)
				switch {
				case strings.Contains(in.Cause, "removed from the inventory"):
					kinds["device_removed"]++
				case strings.Contains(in.Cause, "no evidence for"):
					kinds["stale"]++
				case in.MergedInto != "":
					kinds["merged"]++
				case in.State == schemas.IncidentResolved:
					kinds["resolved"]++
				case in.EvidenceOmitted > 0:
					kinds["capped"]++
				}
				if p := last[in.ID]; p != nil {
					pv := schemas.IncidentUpdateVersion(p)
					if p.State == schemas.IncidentResolved && in.State == schemas.IncidentOpen {
						kinds["reopened"]++
					}
					if v < pv || v == pv && !reflect.DeepEqual(p, in) {
						t.Fatalf("seed %d, detection %d: incident %s update_version %d after %d:\nbefore %+v\nnow    %+v", seed, i, in.ID, v, pv, p, in)
					}
				}
				last[in.ID] = in
			}
		}
	}
	t.Logf("updates seen: %v", kinds)
	for _, k := range []string{"merged", "resolved", "capped", "reopened", "stale", "device_removed"} {
		if kinds[k] == 0 {
			t.Errorf("no %s update in the sequences", k)
		}
	}
}
