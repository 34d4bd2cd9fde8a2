package changepoint

import (
	"math"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

type tester interface {
	Update(float64) Score
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

func both(t testing.TB) map[string]func() tester {
	return map[string]func() tester{
		"cusum": func() tester { c, err := NewCUSUM(Config{}); must(t, err); return c },
		"page-hinkley": func() tester {
			p, err := NewPageHinkley(Config{K: 0.5, H: 8})
			must(t, err)
			return p
		},
	}
}

func must(t testing.TB, err error) {
	if err != nil {
		t.Fatal(err)
	}
}

// TestLevelShift: a shift of 3 sigma (each point alone is unremarkable
// at a 6-sigma threshold) alarms within a few points, upwards; the clean
// series does not alarm.
func TestLevelShift(t *testing.T) {
	const at = 1000
	for name, mk := range both(t) {
		_, clean := synth.Series(13, 2000, 0, synth.None, at)
		d := mk()
		for i, x := range clean {
			if s := d.Update(x); s.Alarm {
				t.Errorf("%s: alarm on clean data at %d", name, i)
			}
		}
		_, xs := synth.Series(13, 2000, 0, synth.LevelShift, at)
		d = mk()
		alarm := -1
		for i, x := range xs {
			s := d.Update(x)
			if s.Alarm && alarm < 0 {
				alarm = i
				if s.Dir != 1 {
					t.Errorf("%s: alarm direction %d, want +1", name, s.Dir)
				}
			}
		}
		if alarm < at || alarm > at+10 {
			t.Errorf("%s: first alarm at %d, want within 10 points of %d", name, alarm, at)
		}
	}
}

func TestNoLookAheadAndRoundTrip(t *testing.T) {
	_, xs := synth.Series(14, 1500, 0, synth.LevelShift, 800)
	for name, mk := range both(t) {
		full := make([]Score, len(xs))
		d := mk()
		for i, x := range xs {
			full[i] = d.Update(x)
		}
		d = mk()
		for i, x := range xs[:900] {
			if s := d.Update(x); s != full[i] {
				t.Fatalf("%s: prefix scores differ at %d", name, i)
			}
		}
		st, _ := d.MarshalBinary()
		e := mk()
		must(t, e.UnmarshalBinary(st))
		for i := 900; i < len(xs); i++ {
			if a, b := d.Update(xs[i]), e.Update(xs[i]); a != b || a != full[i] {
				t.Fatalf("%s: restored %+v, original %+v, full run %+v", name, b, a, full[i])
			}
		}
		if math.IsNaN(full[len(xs)-1].Mean) {
			t.Fatal("nan")
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, xs := synth.Series(15, 4096, 10, synth.None, 0)
	for name, mk := range both(b) {
		b.Run(name, func(b *testing.B) {
			d := mk()
			b.ReportAllocs()
			b.SetBytes(8)
			i := 0
			for b.Loop() {
				d.Update(xs[i&4095])
				i++
			}
		})
	}
}

// TestExactInverse: x*exactInverse(h) is x/h bit for bit wherever the
// inverse is used (h a power of two), down to the smallest h whose inverse
// is finite; below it, and for h not a power of two, there is none.
func TestExactInverse(t *testing.T) {
	xs := []float64{0, 1e-300, 1e-10, 0.1, 1, 3, 1e10, 1e300, -7.25, math.SmallestNonzeroFloat64, math.MaxFloat64}
	for _, e := range []int{-1074, -1030, -1024, -1023, -1022, -3, 0, 3, 1000, 1023} {
		h := math.Ldexp(1, e)
		inv := exactInverse(h)
		if e < -1023 {
			if inv != 0 {
				t.Errorf("h = 2^%d: inverse %v, want none (it overflows)", e, inv)
			}
			continue
		}
		for _, x := range xs {
			if got, want := x*inv, x/h; math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("h = 2^%d, x = %v: x*(1/h) = %v, x/h = %v", e, x, got, want)
			}
		}
	}
	for _, h := range []float64{3, 0.3, 5, math.Inf(1)} {
		if inv := exactInverse(h); inv != 0 {
			t.Errorf("h = %v: inverse %v, want none", h, inv)
		}
	}
}

// TestCUSUMDirection: the statistic and direction of each point are the
// ones of the comparisons they are chosen without (the larger side, up on
// a tie, none at 0), on series that sit at their mean (both sides 0),
// drift either way and jump, with H a power of two and not.
func TestCUSUMDirection(t *testing.T) {
	for _, h := range []float64{4, 5} {
		c, err := NewCUSUM(Config{H: h})
		must(t, err)
		var dirs [3]int
		x := 0.0
		for i := range 20000 {
			switch {
			case i%1000 < 300: // flat: both sides stay at 0
			case i%1000 < 600:
				x += math.Sin(float64(i)) * 0.7
			default:
				x = float64(i%7) - 3 + 10*float64(i/3000%2)
			}
			s := c.Update(x)
			if s.Alarm || !s.WarmedUp {
				continue
			}
			up, dir := c.pos, int8(1)
			if !(c.pos >= c.neg) {
				up, dir = c.neg, -1
			}
			stat := up / h
			if c.invH != 0 {
				stat = up * c.invH
			}
			if stat == 0 {
				dir = 0
			}
			if math.Float64bits(s.Stat) != math.Float64bits(stat) || s.Dir != dir {
				t.Fatalf("h %v point %d: stat %v dir %d, want %v %d", h, i, s.Stat, s.Dir, stat, dir)
			}
			dirs[dir+1]++
		}
		if dirs[0] == 0 || dirs[1] == 0 || dirs[2] == 0 {
			t.Errorf("h %v: directions down, none, up seen %v times: a case untested", h, dirs)
		}
	}
}
