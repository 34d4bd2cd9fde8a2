package rangebreak

import (
	"math"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Bins: -1}, {Bins: 1<<20 + 1}, {Warm: 1}, {Warm: -3}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
}

// A spike, a dip, a level shift and a variance change break the range
// within 50 points of their start; clean noise, with or without a
// daily cycle, breaks it rarely (its extremes grow slowly) and less and
// less often; a seasonal break (flat at the mean) is inside the range and
// does not break it, nor does a dip that stays inside the daily swing
// (that is the seasonal baseline's job).
func TestAnomalies(t *testing.T) {
	const n, at = 4000, 3000
	for _, tc := range []struct {
		kind  synth.Kind
		amp   float64
		found bool
	}{
		{synth.Spike, 0, true}, {synth.Dip, 0, true}, {synth.LevelShift, 0, true},
		{synth.VarianceRatio, 0, true}, {synth.Spike, 10, true}, {synth.Dip, 10, false},
		{synth.SeasonalBreak, 10, false}, {synth.None, 0, false}, {synth.None, 10, false},
	} {
		for seed := uint64(1); seed <= 5; seed++ {
			_, xs := synth.Series(seed, n, tc.amp, tc.kind, at)
			d, _ := New(Config{})
			before, found := 0, false
			for i, x := range xs {
				s := d.Update(x)
				switch {
				case i < DefaultWarm-1 && (s.WarmedUp || s.Break):
					t.Fatalf("point %d scored during warm-up: %+v", i, s)
				case s.Break && i < at:
					before++
				case s.Break && i <= at+50:
					found = true
				}
			}
			if found != tc.found {
				t.Errorf("kind %d amp %g seed %d: break at the anomaly %v, want %v", tc.kind, tc.amp, seed, found, tc.found)
			}
			if before > 8 {
				t.Errorf("kind %d amp %g seed %d: %d breaks on the clean part", tc.kind, tc.amp, seed, before)
			}
		}
	}
}

// A series that returns to extremes it visited long ago does not break
// again, and the gap counts the points since the previous break.
func TestRecurringExtremes(t *testing.T) {
	d, _ := New(Config{Bins: 10, Warm: 10})
	var breaks []int
	var gaps []uint64
	for i := range 5000 {
		x := float64(i % 10) // warm-up range 0..9
		if i%1000 == 500 {
			x = 50 // the same excursion every 1000 points
		}
		if i == 4200 {
			x = -40
		}
		if s := d.Update(x); s.Break {
			breaks, gaps = append(breaks, i), append(gaps, s.Gap)
		}
	}
	if len(breaks) != 2 || breaks[0] != 500 || breaks[1] != 4200 || gaps[0] != 501 || gaps[1] != 3700 {
		t.Errorf("breaks at %v (gaps %v), want [500 4200] ([501 3700])", breaks, gaps)
	}
}

// A flat warm-up gets a grid of a thousandth of the value.
func TestFlatWarmUp(t *testing.T) {
	d, _ := New(Config{Warm: 5})
	for range 5 {
		d.Update(100)
	}
	if s := d.Update(100.05); s.Break {
		t.Errorf("100.05 after a flat 100 broke the range: %+v", s)
	}
	if s := d.Update(100.2); !s.Break {
		t.Errorf("100.2 after a flat 100 did not break the range: %+v", s)
	}
	if s := d.Update(1e300); !s.Break || s.Level != maxLevel {
		t.Errorf("1e300: %+v", s)
	}
}

// Scores of a prefix do not change when more points follow; NaN and
// infinities are ignored.
func TestPrefix(t *testing.T) {
	_, xs := synth.Series(7, 3000, 10, synth.LevelShift, 2000)
	a, _ := New(Config{})
	b, _ := New(Config{})
	want := make([]Score, 2500)
	for i, x := range xs[:2500] {
		want[i] = a.Update(x)
	}
	for i, x := range xs {
		if i == 1000 {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				if s := b.Update(bad); s != (Score{}) {
					t.Fatalf("%v scored %+v", bad, s)
				}
			}
		}
		if s := b.Update(x); i < 2500 && s != want[i] {
			t.Fatalf("point %d: %+v, alone %+v", i, s, want[i])
		}
	}
}

// A detector restored from its state at any point scores bit-for-bit
// like the original from then on.
func TestRoundTrip(t *testing.T) {
	_, xs := synth.Series(3, 3000, 10, synth.VarianceRatio, 2000)
	for _, cut := range []int{0, 50, DefaultWarm, 1500, 2500} {
		a, _ := New(Config{})
		for _, x := range xs[:cut] {
			a.Update(x)
		}
		st, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(Config{})
		if err := b.UnmarshalBinary(st); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		for i, x := range xs[cut:] {
			if sa, sb := a.Update(x), b.Update(x); sa != sb {
				t.Fatalf("cut %d: point %d: restored %+v, original %+v", cut, cut+i, sb, sa)
			}
		}
	}
	a, _ := New(Config{})
	for _, x := range xs[:500] {
		a.Update(x)
	}
	st, _ := a.MarshalBinary()
	b, _ := New(Config{Bins: 8})
	if err := b.UnmarshalBinary(st); err == nil {
		t.Error("state restored into a detector of another configuration")
	}
	bad := append([]byte(nil), st...)
	bad[1] = 9
	if err := a.UnmarshalBinary(bad); err == nil {
		t.Error("unknown version accepted")
	}
	bad[0], bad[1] = 1, st[1]
	if err := a.UnmarshalBinary(bad); err == nil {
		t.Error("record of another kind accepted")
	}
	if err := a.UnmarshalBinary(st[:len(st)/2]); err == nil {
		t.Error("truncated record accepted")
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, xs := synth.Series(1, 4096, 10, synth.None, 0)
	d, _ := New(Config{})
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(xs[i&4095])
		i++
	}
}

// farRamp is a warm-up over 0…9 (levels 0 to 10 of 0.9), 100 points
// inside it, then a climb of 0.5 a point to top, pausing inside the range
// for pause points when it first reaches pauseAt (0: no pause).
func farRamp(top, pauseAt float64, pause int) []float64 {
	var xs []float64
	for i := range 110 {
		xs = append(xs, float64(i%10))
	}
	for x := 9.5; x <= top; x += 0.5 {
		xs = append(xs, x)
		if x == pauseAt {
			for i := range pause {
				xs = append(xs, float64(i%10))
			}
		}
	}
	return xs
}

// TestFar: a climb off the visited range, a break every level or two, is
// Far on the break that takes it the range's width (11 levels) beyond the
// range, and again at twice and four times that; a climb that pauses in
// the range for a calm starts a new run against the wider range. A
// detector restored mid-climb flags the same breaks.
func TestFar(t *testing.T) {
	far := func(xs []float64, cut int) (at []float64, beyond []float64) {
		d, _ := New(Config{Bins: 10, Warm: 10})
		for i, x := range xs {
			if i == cut {
				st, err := d.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if st[1] != 2 {
					t.Errorf("mid-run record version %d, want 2", st[1])
				}
				if d, _ = New(Config{Bins: 10, Warm: 10}); d.UnmarshalBinary(st) != nil {
					t.Fatal("restore failed")
				}
			}
			if s := d.Update(x); s.Far {
				at, beyond = append(at, x), append(beyond, s.Beyond)
			}
		}
		return at, beyond
	}
	// Levels 21, 32 and 54: 11, 22 and 44 beyond the range's top (10).
	for _, cut := range []int{-1, 140} {
		if at, beyond := far(farRamp(60, 0, 0), cut); !slices.Equal(at, []float64{19, 29, 49}) || len(beyond) != 3 || math.Abs(beyond[0]-9.9) > 1e-9 {
			t.Errorf("cut %d: Far at %v (beyond %v), want [19 29 49] (beyond 9.9 first)", cut, at, beyond)
		}
	}
	// Up to 15 (level 16), a calm inside, then on: the run starts again
	// against 0…16, width 17, so level 33 (29.7) is the first Far.
	if at, _ := far(farRamp(35, 15, 20), -1); !slices.Equal(at, []float64{30}) {
		t.Errorf("paused climb: Far at %v, want [30]", at)
	}
	// A record without a run under way is version 1, as before.
	d, _ := New(Config{Bins: 10, Warm: 10})
	for _, x := range farRamp(9, 0, 0) {
		d.Update(x)
	}
	if st, _ := d.MarshalBinary(); st[1] != 1 {
		t.Errorf("record without a run: version %d, want 1", st[1])
	}
}
