package ensemble

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// rangeSeries is noise of sigma 1 around 100 (n points) with single-point
// excursions: index → offset in sigmas.
func rangeSeries(n int, ex map[int]float64) ([]int64, []float64) {
	rng := rand.New(rand.NewPCG(41, 42))
	ts, xs := make([]int64, n), make([]float64, n)
	for i := range n {
		ts[i], xs[i] = int64(i)*10e9, 100+rng.NormFloat64()+ex[i]
	}
	return ts, xs
}

func rangeShared(t *testing.T, members ...string) *Shared {
	t.Helper()
	sh, err := NewShared(Config{Detectors: members, MinZ: 6, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

var rangeMembers = []string{"robust_z", "ewma", "seasonal", "cusum", "range_break"}

// TestRangeBreakMember: a single point beyond every level visited and at
// least min_z off fires at once, named range_break; the same level again,
// a break less than min_z off, or the point without the member fires
// nothing (confirm 2).
func TestRangeBreakMember(t *testing.T) {
	f := func(name string, members []string, ex map[int]float64, want []int) {
		t.Helper()
		sh := rangeShared(t, members...)
		ts, xs := rangeSeries(1500, ex)
		var fired []int
		for i, r := range run(t, sh, ts, xs) {
			if r.Transition != Fired {
				continue
			}
			fired = append(fired, i)
			if sh.mask.Has(RangeBreak) && (r.CauseTop != RangeBreak || !r.Cause.Has(RangeBreak) || r.Peak < sh.cfg.Fire) {
				t.Errorf("%s: onset at %d: %+v", name, i, r)
			}
		}
		if !slices.Equal(fired, want) {
			t.Errorf("%s: fired at %v, want %v", name, fired, want)
		}
	}
	f("clean", rangeMembers, nil, nil)
	// The baseline's sigma of this noise is about 1.5: an offset of 12 is
	// about 8 baseline sigmas, 6 about 4.
	f("one point at 12", rangeMembers, map[int]float64{600: 12}, []int{600})
	f("without the member", DefaultDetectors, map[int]float64{600: 12}, nil)
	f("the same level again", rangeMembers, map[int]float64{600: 12, 900: 12}, []int{600})
	f("a higher level later", rangeMembers, map[int]float64{600: 12, 900: 24}, []int{600, 900})
	f("a break below min_z", rangeMembers, map[int]float64{600: 6}, nil)
	f("during the warm-up", rangeMembers, map[int]float64{100: 12}, nil)
}

// TestRangeBreakState: scores of a prefix do not change with more data; a
// restored state continues exactly; a version 4 record (no range_break
// record) restores with the member cold.
func TestRangeBreakState(t *testing.T) {
	sh := rangeShared(t, rangeMembers...)
	ts, xs := rangeSeries(1500, map[int]float64{600: 12, 900: 24})
	full := run(t, sh, ts, xs)
	for _, n := range []int{1, 200, 601, 901} {
		if got := run(t, sh, ts[:n], xs[:n]); !slices.Equal(got, full[:n]) {
			t.Fatalf("prefix %d scores differently", n)
		}
	}
	e := sh.New()
	for i := range 700 {
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
	for i := 700; i < len(xs); i++ {
		if r := f.Update(ts[i], xs[i]); r != full[i] {
			t.Fatalf("restored at %d: %+v, original %+v", i, r, full[i])
		}
	}
	rb, _ := e.rb.MarshalBinary()
	v4 := slices.Clone(b[:len(b)-len(rb)-4])
	v4[1] = 4
	g := sh.New()
	if err := g.UnmarshalBinary(v4); err != nil {
		t.Fatalf("version 4 record: %v", err)
	}
	if g.rb == nil || g.n != e.n {
		t.Fatalf("version 4 record: range_break %v, points %d (want %d)", g.rb, g.n, e.n)
	}
	var fired []int
	for i := 700; i < len(xs); i++ {
		if g.Update(ts[i], xs[i]).Transition == Fired {
			fired = append(fired, i)
		}
	}
	if want := []int{900}; !slices.Equal(fired, want) {
		t.Errorf("restored from version 4 (range_break cold, warm again by 900): fired at %v, want %v", fired, want)
	}
	// A version 5 record of an ensemble without the member restores into
	// one with it, the member cold.
	without := rangeShared(t, DefaultDetectors...).New()
	for i := range 700 {
		without.Update(ts[i], xs[i])
	}
	wb, _ := without.MarshalBinary()
	h := sh.New()
	if err := h.UnmarshalBinary(wb); err != nil || h.n != 700 {
		t.Fatalf("version 5 record without range_break: %v, points %d", err, h.n)
	}
	if err := sh.New().UnmarshalBinary(wb[:len(wb)-1]); err == nil {
		t.Error("a truncated record restored")
	}
}

// TestRangeBreakCalm: on a series seen for a full seasonal period (a day
// of 5-minute points), a break after a calm of at least range_break.calm
// points fires at any distance from the baseline; the same break in the
// first day, or soon after another break, fires only when min_z off.
func TestRangeBreakCalm(t *testing.T) {
	// Offsets of 5 and 6 are about 3.3 and 4 baseline sigmas: below min_z (6).
	f := func(name string, ex map[int]float64, want []int) {
		t.Helper()
		calmFires(t, name, 100, 1, ex, want)
	}
	f("clean", nil, nil)
	f("a calm break after a day", map[int]float64{1500: 5}, []int{1500})
	f("a calm break in the first day", map[int]float64{250: 5}, nil)
	f("a second break soon after", map[int]float64{1500: 5, 1550: 6}, []int{1500})
	f("a second break after a calm", map[int]float64{1500: 5, 1800: 6}, []int{1500, 1800})
}

// calmFires runs the gate with range_break over 2000 five-minute points
// (a day is 288) of noise of sigma around level with single-point
// excursions ex (index → offset), and checks the onsets are want.
func calmFires(t *testing.T, name string, level, sigma float64, ex map[int]float64, want []int) {
	t.Helper()
	sh := rangeShared(t, rangeMembers...)
	ts, xs := rangeSeries(2000, nil)
	for i := range ts {
		ts[i] *= 30
		xs[i] = level + sigma*(xs[i]-100) + ex[i]
	}
	var fired []int
	for i, r := range run(t, sh, ts, xs) {
		if r.Transition == Fired {
			fired = append(fired, i)
			t.Logf("%s: fired at %d: z %.2f cause %v", name, i, r.Z, r.Cause.Names(nil))
		}
	}
	if !slices.Equal(fired, want) {
		t.Errorf("%s: fired at %v, want %v", name, fired, want)
	}
}

// TestRangeBreakCalmFloor: a calm break within the band's floor (robust_z's
// min_mad and min_mad_fraction of |expected|, over MADScale) does not fire:
// a gauge like memory used, whose readings barely move around a large
// level, breaks its warm-up's narrow grid at every step of its growth, and
// a step of a few parts in a thousand is no incident. A calm break beyond
// the floor still fires at any distance below min_z.
func TestRangeBreakCalmFloor(t *testing.T) {
	// Around 1000 with a sigma of 0.2: the floor's sigma is 10/MADScale,
	// about 14.8.
	calmFires(t, "a calm break of 5 (0.3 floor sigmas)", 1000, 0.2, map[int]float64{1500: 5}, nil)
	calmFires(t, "a calm break of 30 (2 floor sigmas)", 1000, 0.2, map[int]float64{1500: 30}, []int{1500})
}

// TestRangeBreakFar: a series seen for a day (5-minute points around 1000,
// sigma 2) that climbs 1 a point, a break at every level or two and never
// a point off the robust baseline that follows it, fires once the climb is
// the visited range's width beyond it (Far, beyond the band's floor of
// about 14.8); a climb that stops 10 beyond fires nothing.
func TestRangeBreakFar(t *testing.T) {
	sh := rangeShared(t, rangeMembers...)
	f := func(name string, climb int, want bool) {
		t.Helper()
		ts, xs := rangeSeries(900+climb+100, nil)
		for i := range ts {
			ts[i] *= 30
			xs[i] = 1000 + 2*(xs[i]-100)
			if i >= 900 {
				xs[i] += float64(min(i-900, climb))
			}
		}
		var fired []int
		for i, r := range run(t, sh, ts, xs) {
			if r.Transition == Fired {
				fired = append(fired, i)
				t.Logf("%s: fired at %d: %.1f, expected %.1f, cause %v", name, i, xs[i], r.Expected, r.Cause.Names(nil))
			}
		}
		if len(fired) > 0 != want || want && fired[0] < 900 {
			t.Errorf("%s: fired at %v, want an onset in the climb: %v", name, fired, want)
		}
	}
	f("a climb of 60", 60, true)
	f("a climb of 10", 10, false)
}
