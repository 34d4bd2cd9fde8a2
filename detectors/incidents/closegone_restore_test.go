package incidents

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// goneStep is one step of a stream: a detection, or (det nil) a new
// inventory.
type goneStep struct {
	inv *schemas.Inventory
	det *schemas.Detection
}

// TestDeviceRemovedLateFiringRestored: a late firing of a removed device's
// alert (the inventory no longer declares it), older than the firing that
// last fired it while the device was declared, gives the same updates
// whether or not the engine was restored, from its whole state or from its
// records, at any cut. Before, it reopened the incident resolved as
// "device removed" and the live engine kept it open, while a restored
// engine resolved it again at its next detection (closeGone looked after
// the restore and found the alert's last firing on a removed device).
func TestDeviceRemovedLateFiringRestored(t *testing.T) {
	steps := []goneStep{
		{det: ptr(fire(0, "leaf2", mOper, "name=e1", "link_down", 0, 1))},
		{det: ptr(fire(0, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30))},
		{inv: withoutLeaf2()},
		{det: ptr(fire(60, "spine1", mOther, "", "robust_z", 9, 5))},
		{det: ptr(fire(-30, "leaf2", mOper, "name=e1", "link_down", 0, 1))}, // late, leaf2 gone
		{det: ptr(fire(120, "spine1", mTemp, "name=Inlet", "robust_z", 40, 30))},
		{det: ptr(fire(180, "leaf1", mOther, "", "robust_z", 9, 5))},
	}
	compareRestored(t, Config{}, removalInventory(), steps)
}

// compareRestored feeds steps to an engine never restored and, for every
// cut, to one restored there from its whole state and to one restored
// from its records (each made with the inventory of the cut), and fails
// at the first update or final state that differs.
func compareRestored(t *testing.T, cfg Config, inv *schemas.Inventory, steps []goneStep) {
	t.Helper()
	run := func(e *Engine, steps []goneStep, log map[string][]byte, inv *schemas.Inventory) (outs [][]*schemas.Incident, _ *schemas.Inventory) {
		for _, s := range steps {
			if s.det == nil {
				e.SetInventory(s.inv)
				inv = s.inv
				continue
			}
			outs = append(outs, e.Add(s.det))
			if log != nil {
				recs, err := e.Changes()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					log[r.Key] = r.Value
				}
			}
		}
		return outs, inv
	}
	live, _ := New(cfg, inv)
	want, _ := run(live, steps, nil, inv)
	wantState, _ := live.MarshalBinary()
	for cut := range len(steps) + 1 {
		for _, whole := range []bool{true, false} {
			first, _ := New(cfg, inv)
			log := map[string][]byte{}
			before, at := run(first, steps[:cut], log, inv)
			var e *Engine
			if whole {
				e = restored(t, first, func() *Engine { x, _ := New(cfg, at); return x })
			} else {
				e = restoredFromLog(t, cfg, at, log)
			}
			after, _ := run(e, steps[cut:], nil, at)
			got := append(before, after...)
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("restored at step %d (whole state %t), detection %d:\n%s\nnever restored:\n%s", cut, whole, i, views(got[i]), views(want[i]))
				}
			}
			if b, _ := e.MarshalBinary(); !bytes.Equal(b, wantState) {
				t.Fatalf("restored at step %d (whole state %t): state\n%s\nnever restored:\n%s", cut, whole, b, wantState)
			}
		}
	}
}

// TestRestoreMatchesLiveRandom: over random streams of every class of
// detection (some alerts sharing a fingerprint across devices), with the
// inventory losing and regaining devices mid stream, an engine restored
// at any cut gives the updates and the state of one never restored.
// Before, an alert that a merge or a reclaim made fire while its last
// firing was on a removed device (seed 57) stayed firing in the live
// engine, and a restored one dropped it (closeGone).
func TestRestoreMatchesLiveRandom(t *testing.T) {
	fewer := fabricInventory()
	fewer.Devices = slices.DeleteFunc(fewer.Devices, func(d schemas.Device) bool { return d.Name == "leaf2" || d.Name == "spine2" })
	for seed := 50; seed < 60; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 61))
		invs := []*schemas.Inventory{withExternal(fabricInventory()), fewer, nil}
		var steps []goneStep
		for _, d := range randomStream(rng, 50) {
			if rng.IntN(100) < 12 {
				steps = append(steps, goneStep{inv: invs[rng.IntN(len(invs))]})
			}
			steps = append(steps, goneStep{det: ptr(d)})
		}
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { compareRestored(t, Config{}, invs[0], steps) })
	}
}
