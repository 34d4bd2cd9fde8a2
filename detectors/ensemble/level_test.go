package ensemble

import (
	"bytes"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// levelSeries is traffic around 1e6 with a drop to zero at 50 (for 30
// points), a jump ×20 at 400 (for 20 points), and the drop again at 900.
func levelSeries() ([]int64, []float64) {
	ts, xs := make([]int64, 1200), make([]float64, 1200)
	for i := range xs {
		ts[i] = int64(i) * 10e9
		xs[i] = 1e6 * (1 + 0.02*float64(i%7-3))
		switch {
		case i >= 50 && i < 80, i >= 900 && i < 930:
			xs[i] = 0
		case i >= 400 && i < 420:
			xs[i] *= 20
		}
	}
	return ts, xs
}

func levelShared(t *testing.T) *Shared {
	sh, err := NewShared(Config{Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift"}, MinZ: 6, Confirm: 2, Hold: 360})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestLevelShiftMember: the level_shift member fires on each shift and
// resolves it when the series is back, with its band and its name as the
// cause, also while the other members are still warming up; scores of a
// prefix do not change with more data; a restored state (version 4, and
// a version 3 record without pending run scores) continues exactly; a
// version 2 record restores with the member cold.
func TestLevelShiftMember(t *testing.T) {
	sh := levelShared(t)
	ts, xs := levelSeries()
	full := run(t, sh, ts, xs)
	var fired, resolved []int
	for i, r := range full {
		switch r.Transition {
		case Fired:
			fired = append(fired, i)
			if r.CauseTop != LevelShift || !r.Cause.Has(LevelShift) || r.Expected < 9e5 || r.Lower >= xs[i] && xs[i] > 0 {
				t.Errorf("onset at %d: %+v", i, r)
			}
		case Resolved:
			resolved = append(resolved, i)
		}
	}
	if want := []int{51, 401, 901}; !slices.Equal(fired, want) {
		t.Errorf("fired at %v, want %v", fired, want)
	}
	if want := []int{81, 421, 931}; !slices.Equal(resolved, want) {
		t.Errorf("resolved at %v, want %v", resolved, want)
	}
	for _, n := range []int{1, 51, 60, 410} {
		if got := run(t, sh, ts[:n], xs[:n]); !slices.Equal(got, full[:n]) {
			t.Fatalf("prefix %d scores differently", n)
		}
	}
	for _, cut := range []int{60, 500} {
		e := sh.New()
		for i := range cut {
			e.Update(ts[i], xs[i])
		}
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		f := sh.New()
		if err := f.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		for i := cut; i < len(xs); i++ {
			if r := f.Update(ts[i], xs[i]); r != full[i] {
				t.Fatalf("restored at %d, point %d: %+v, original %+v", cut, i, r, full[i])
			}
		}
	}

	// A version 2 record (no level flag, no level_shift record) restores;
	// the member starts cold and fires on the next drop once it has seen
	// MinPoints points.
	e := sh.New()
	for i := range 500 {
		e.Update(ts[i], xs[i])
	}
	v4, _ := e.MarshalBinary()
	ls, _ := e.ls.MarshalBinary()
	head := enc.AppendHeader(nil, enc.TagEnsemble, 4)
	head = enc.AppendBool(head, e.al.Firing)
	head = enc.AppendI(head, int64(e.al.Above))
	head = enc.AppendI(head, int64(e.al.Below))
	head = enc.AppendF64(head, e.al.Peak)
	head = enc.AppendI(head, e.al.StartsAt)
	head = enc.AppendU(head, e.n)
	head = enc.AppendU(head, e.lastOnset)
	head = enc.AppendI(head, int64(e.held))
	head = enc.AppendBool(head, e.armed)
	head = enc.AppendF64(head, e.runPeak)
	head = enc.AppendU(head, uint64(e.runFired))
	head = enc.AppendU(head, uint64(e.runTop))
	// Drop the level flag and the four pending run scores after the head,
	// and the level record (with its 4-byte length) before the
	// calibrators' records.
	members := v4[len(head)+1+4*8:]
	cut := bytes.Index(members, ls) - 4 // the level record's length prefix
	if cut < 0 {
		t.Fatalf("level record not found in the state")
	}
	v2 := slices.Concat(head, members[:cut], members[cut+4+len(ls):])
	v2[1] = 2
	f := sh.New()
	if err := f.UnmarshalBinary(v2); err != nil {
		t.Fatal(err)
	}
	// A version 3 record (no pending run scores) restores and continues
	// exactly when no run was pending.
	if e.pend != ([numMembers]float64{}) {
		t.Fatalf("a run is pending at point 500: %v", e.pend)
	}
	v3rec := slices.Concat(head, []byte{enc.AppendBool(nil, e.byLevel)[0]}, members)
	v3rec[1] = 3
	g := sh.New()
	if err := g.UnmarshalBinary(v3rec); err != nil {
		t.Fatal(err)
	}
	for i := 500; i < len(xs); i++ {
		if r := g.Update(ts[i], xs[i]); r != full[i] {
			t.Fatalf("restored from version 3, point %d: %+v, original %+v", i, r, full[i])
		}
	}

	var again []int
	for i := 500; i < len(xs); i++ {
		if r := f.Update(ts[i], xs[i]); r.Transition == Fired {
			again = append(again, i)
		}
	}
	if !slices.Equal(again, []int{901}) {
		t.Errorf("restored from version 2: fired at %v, want [901]", again)
	}
}

// TestAdoptedLevelAlert: a gauge stuck at 100 from 4 (an average that
// climbs to it over a few points) fires on its first or second point up, by
// the members that see it off; level_shift adopts the alert on the climb past
// ten times the level, and when the average comes back down within its
// band, still far off the other members' baselines, the alert goes on as
// theirs: one alert, resolved once they are calm. Restored before every
// point (version 8 records while the adopted alert is on), it scores the
// same. Before, the adopted alert resolved at 26 and fired again at once.
func TestAdoptedLevelAlert(t *testing.T) {
	const n, up, down = 1200, 1000, 1120
	ts, xs := make([]int64, n), make([]float64, n)
	x := 4.0
	for i := range xs {
		ts[i] = int64(i) * 10e9
		target := 4 + 0.3*float64(i%5-2)
		if i >= up && i < down {
			target = 100
		}
		x += (target - x) * (1 - 0.85) // a one-minute average read every 10 s
		if i < up {
			x = target
		}
		xs[i] = x
	}
	rec, rs := restoreEveryPoint(t, levelShared(t), ts, xs)
	var fired, resolved []int
	adopted := false
	for i, r := range rs {
		switch r.Transition {
		case Fired:
			fired = append(fired, i)
		case Resolved:
			resolved = append(resolved, i)
		}
		if r.Fired.Has(LevelShift) && r.Transition != Fired && i > up {
			adopted = true
		}
	}
	if len(fired) != 1 || fired[0] > up+1 || len(resolved) != 1 || resolved[0] < down || xs[resolved[0]] > 10 {
		t.Errorf("fired at %v, resolved at %v; want one alert from %d or %d to a point after %d below 10", fired, resolved, up, up+1, down)
	}
	if !adopted || rec.adopted == 0 {
		t.Errorf("level_shift adopted the alert: %v; records carrying the adoption: %d; want both", adopted, rec.adopted)
	}
}

// TestDirectionUp: with direction up (a counter of errors) the jump ×20
// of levelSeries fires and resolves, and its two drops to zero fire
// nothing, not even level_shift's: errors falling are a fault clearing.
// With direction down only the drops fire; with both, all three (the
// control). An alert on the rise that the series leaves by falling below
// its baseline resolves.
func TestDirectionUp(t *testing.T) {
	ts, xs := levelSeries()
	for dir, want := range map[string][]int{DirectionUp: {400}, DirectionDown: {51, 901}, DirectionBoth: {51, 400, 901}} {
		sh, err := NewShared(Config{Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift", "range_break"},
			MinZ: 6, Confirm: 2, Hold: 360, Direction: dir})
		if err != nil {
			t.Fatal(err)
		}
		var fired []int
		firing := false
		for i, r := range run(t, sh, ts, xs) {
			if r.Transition == Fired {
				fired = append(fired, i)
			}
			firing = r.Firing
		}
		if !slices.Equal(fired, want) || firing {
			t.Errorf("direction %s: fired at %v, want %v; firing at the end %v", dir, fired, want, firing)
		}
	}
	// A rise that ends in a fall below the baseline resolves.
	sh, err := NewShared(Config{MinZ: 6, Confirm: 2, Hold: 360, Direction: DirectionUp})
	if err != nil {
		t.Fatal(err)
	}
	e := sh.New()
	var on, off int
	for i := range 600 {
		x := 10 + float64(i%5)
		switch {
		case i >= 300 && i < 320:
			x = 500
		case i >= 320:
			x = 0
		}
		switch e.Update(int64(i)*10e9, x).Transition {
		case Fired:
			on = i
		case Resolved:
			off = i
		}
	}
	if on < 300 || on > 302 || off < 320 || off > 325 {
		t.Errorf("rise then fall to 0: fired at %d, resolved at %d; want 300–302 and 320–325", on, off)
	}
}
