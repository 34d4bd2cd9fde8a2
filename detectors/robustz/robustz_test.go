package robustz

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 80; n++ {
		for trial := 0; trial < 20; trial++ {
			w := make([]float64, n)
			for i := range w {
				w[i] = float64(rng.IntN(10)) // many ties
			}
			s := slices.Clone(w)
			slices.Sort(s)
			want := s[n/2]
			if n%2 == 0 {
				want = (s[n/2-1] + s[n/2]) / 2
			}
			if got := median(w); got != want {
				t.Fatalf("n=%d: median %v, want %v (%v)", n, got, want, s)
			}
		}
	}
}

func TestDetectsSpikeNotNoise(t *testing.T) {
	d := mustNew(t, Config{}.WithDefaults())
	rng := rand.New(rand.NewPCG(3, 4))
	maxNoise := 0.0
	for i := 0; i < 2000; i++ {
		s := d.Update(1000 + rng.NormFloat64()*10)
		maxNoise = math.Max(maxNoise, math.Abs(s.Z))
	}
	if maxNoise > 6 {
		t.Errorf("gaussian noise scored |z| up to %.1f, want < 6", maxNoise)
	}
	s := d.Update(1300) // 30 sigma
	if s.Z < 20 || math.Abs(s.Median-1000) > 5 {
		t.Errorf("spike scored %+v, want z > 20 around median 1000", s)
	}
	s = d.Update(700)
	if s.Z > -20 {
		t.Errorf("dip scored %+v, want z < -20", s)
	}
}

func TestWarmUpAndFlat(t *testing.T) {
	d := mustNew(t, Config{Window: 10, MinPoints: 5}.WithDefaults())
	for i := 0; i < 5; i++ {
		if s := d.Update(0); s.WarmedUp {
			t.Fatalf("warmed up after %d points", i)
		}
	}
	if s := d.Update(0); !s.WarmedUp || s.Z != 0 {
		t.Fatalf("flat zero series: %+v", s)
	}
	if s := d.Update(1); s.Z < 1000 {
		t.Fatalf("change on an exactly flat series should be extreme, got %+v", s)
	}
}

// TestNoLookAhead proves a score depends only on the values before it.
func TestNoLookAhead(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	run := func(n int) []Score {
		d := mustNew(t, Config{}.WithDefaults())
		out := make([]Score, n)
		for i := range out {
			out[i] = d.Update(xs[i])
		}
		return out
	}
	full := run(len(xs))
	prefix := run(300)
	for i := range prefix {
		if prefix[i] != full[i] {
			t.Fatalf("score %d changed when data was appended: %+v vs %+v", i, prefix[i], full[i])
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Window: 2, MinPoints: 2}, {Window: 10, MinPoints: 11}, {Window: 10, MinPoints: 5, MinMAD: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, w := range []int{30, 60, 240} {
		b.Run("window="+strconv.Itoa(w), func(b *testing.B) {
			d := mustNew(b, Config{Window: w}.WithDefaults())
			rng := rand.New(rand.NewPCG(1, 1))
			xs := make([]float64, 4096)
			for i := range xs {
				xs[i] = rng.NormFloat64()
			}
			b.ReportAllocs()
			b.SetBytes(8)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Update(xs[i&4095])
			}
		})
	}
}

func TestScoreDoesNotAdd(t *testing.T) {
	d := mustNew(t, Config{Window: 10, MinPoints: 5}.WithDefaults())
	for i := 0; i < 10; i++ {
		d.Add(100 + float64(i%3))
	}
	a := d.Score(500)
	for i := 0; i < 50; i++ {
		if b := d.Score(500); b != a {
			t.Fatalf("Score changed the window: %+v then %+v", a, b)
		}
	}
	if a.Z < 100 {
		t.Fatalf("500 against ~101 scored %+v", a)
	}
}

// TestSortedWindowMatchesSelection checks the sorted-window median and MAD
// against a selection over a copy of the window, on data with many ties.
func TestSortedWindowMatchesSelection(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{3, 4, 5, 10, 60, 61} {
		d := mustNew(t, Config{Window: w, MinPoints: 3}.WithDefaults())
		for i := 0; i < 2000; i++ {
			x := float64(rng.IntN(7))
			if i%3 == 0 {
				x = rng.NormFloat64() * 100
			}
			d.Add(x)
			win := d.AppendWindow(nil)
			med := median(slices.Clone(win))
			dev := make([]float64, len(win))
			for j, v := range win {
				dev[j] = math.Abs(v - med)
			}
			mad := median(dev)
			if got := d.Median(); got != med {
				t.Fatalf("w=%d i=%d: median %v, want %v", w, i, got, med)
			}
			if got := d.MAD(); got != mad {
				t.Fatalf("w=%d i=%d: MAD %v, want %v (window %v)", w, i, got, mad, win)
			}
		}
	}
}

// mustNew returns New(c), failing tb on an error.
func mustNew(tb testing.TB, c Config) *Detector {
	tb.Helper()
	d, err := New(c)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestNewRejectsBadConfig: New validates its Config and names the field.
func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{Window: 2}); err == nil || !strings.Contains(err.Error(), "robustz: window: 2 is too small") {
		t.Errorf("New(window 2) = %v, want the window error", err)
	}
}

// TestWhole: Whole is true for a window of whole numbers only, and false
// while empty; a fraction evicted from a full window makes it whole again.
func TestWhole(t *testing.T) {
	f := func(window int, xs []float64, want bool) {
		t.Helper()
		d, err := New(Config{Window: window})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			d.Add(x)
		}
		if got := d.Whole(); got != want {
			t.Errorf("window %d of %v: Whole %v, want %v", window, xs, got, want)
		}
	}
	f(4, nil, false)
	f(4, []float64{3, 4, 0, -2}, true)
	f(4, []float64{3, 4.5, 0}, false)
	f(4, []float64{1e15, 7}, true)
	f(3, []float64{0.25, 1, 2, 3}, true)
}

// TestWholeCounted: Whole, kept as a count of the window's fractions, agrees
// at every point with a scan of the window, through evictions, an equal
// value replacing its like, and a window restored by SetWindow.
func TestWholeCounted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d, _ := New(Config{Window: 8})
	for i := 0; i < 5000; i++ {
		x := float64(rng.IntN(3))
		if rng.IntN(40) == 0 {
			x += 0.5
		}
		d.Add(x)
		if i%97 == 0 {
			r, _ := New(Config{Window: 8})
			if err := r.SetWindow(d.AppendWindow(nil)); err != nil {
				t.Fatal(err)
			}
			d = r
		}
		scan := d.Len() > 0
		for _, v := range d.AppendWindow(nil) {
			scan = scan && v == math.Trunc(v)
		}
		if d.Whole() != scan {
			t.Fatalf("point %d: Whole %v, the window %v says %v", i, d.Whole(), d.AppendWindow(nil), scan)
		}
	}
}

// TestEqualEvictionSameBits checks Add's shortcut for a value equal to the
// one it evicts: the sorted window stays bit for bit what replacing it
// gives, on values with many repeats and zeros of both signs (with and
// without a −0 restored by SetWindow).
func TestEqualEvictionSameBits(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, vals := range [][]float64{{0, 1, 2}, {0, negZero, 1}} {
		for _, restore := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(3, 4))
			d := mustNew(t, Config{Window: 8, MinPoints: 3}.WithDefaults())
			var ring, sorted []float64 // the reference: replaceSorted on every add
			if restore {
				ring = []float64{negZero, 1}
				if err := d.SetWindow(ring); err != nil {
					t.Fatal(err)
				}
				sorted = []float64{negZero, 1}
			}
			for i := 0; i < 5000; i++ {
				x := vals[rng.IntN(len(vals))]
				if len(ring) < 8 {
					sorted = insertSorted(append(make([]float64, 0, 8), sorted...), x)
					ring = append(ring, x)
				} else {
					replaceSorted(sorted, ring[0], x)
					ring = append(ring[1:], x)
				}
				d.Add(x)
				for j := range sorted {
					if math.Float64bits(d.sorted[j]) != math.Float64bits(sorted[j]) {
						t.Fatalf("values %v, restored %v, add %d: sorted %v, want %v", vals, restore, i, d.sorted, sorted)
					}
				}
			}
		}
	}
}

// TestScoreReusesOnlySameWindow checks that Score, which reuses the
// median and MAD of a window that did not change, scores bit for bit as
// a detector given the same window afresh, on values with many repeats
// and points scored without being added (held).
func TestScoreReusesOnlySameWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := mustNew(t, Config{Window: 12, MinPoints: 3}.WithDefaults())
	fresh := mustNew(t, Config{Window: 12, MinPoints: 3}.WithDefaults())
	for i := 0; i < 5000; i++ {
		x := float64(rng.IntN(3))
		if rng.IntN(4) == 0 {
			x = rng.NormFloat64()
		}
		if err := fresh.SetWindow(d.AppendWindow(nil)); err != nil {
			t.Fatal(err)
		}
		got, want := d.Score(x), fresh.Score(x)
		if got.WarmedUp != want.WarmedUp || math.Float64bits(got.Z) != math.Float64bits(want.Z) ||
			math.Float64bits(got.Median) != math.Float64bits(want.Median) || math.Float64bits(got.Sigma) != math.Float64bits(want.Sigma) {
			t.Fatalf("point %d (%v): %+v, afresh %+v", i, x, got, want)
		}
		if rng.IntN(5) != 0 { // else held: scored, not added
			d.Add(x)
		}
	}
}

// TestOddWindowNoShortcut: a window restored with a NaN or an infinity
// (Add refuses them) is updated and scored as before Add's and Score's
// shortcuts: the sorted window and the scores are those of replacing the
// evicted value and searching the window on every point.
func TestOddWindowNoShortcut(t *testing.T) {
	for _, odd := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		d := mustNew(t, Config{Window: 6, MinPoints: 3}.WithDefaults())
		ring := []float64{1, 2, 1, 2, 2, odd}
		if err := d.SetWindow(ring); err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(d.sorted)
		for i, x := range []float64{1, 2, 1, 2, 2, 1, 1, 2, 1, 2, 2, 2} {
			got := d.Score(x)
			// The reference: the same window searched afresh, then replaceSorted.
			ref := &Detector{cfg: d.cfg, sorted: slices.Clone(sorted), n: len(sorted), hint: d.hint}
			want := ref.score(x)
			if !sameScore(got, want) {
				t.Fatalf("%v, point %d: %+v, afresh %+v", odd, i, got, want)
			}
			replaceSorted(sorted, ring[i%6], x)
			ring[i%6] = x
			d.Add(x)
			for j := range sorted {
				if math.Float64bits(d.sorted[j]) != math.Float64bits(sorted[j]) {
					t.Fatalf("%v, point %d: sorted %v, want %v", odd, i, d.sorted, sorted)
				}
			}
		}
	}
}

// sameScore reports whether a and b are the same bits.
func sameScore(a, b Score) bool {
	return a.WarmedUp == b.WarmedUp && math.Float64bits(a.Z) == math.Float64bits(b.Z) &&
		math.Float64bits(a.Median) == math.Float64bits(b.Median) && math.Float64bits(a.Sigma) == math.Float64bits(b.Sigma)
}

// TestLowerBound2: both searches give the first index whose value is at or
// above the key, as a linear scan does, on every length up to 130, with
// ties, and with keys below, between, equal to and above the values.
func TestLowerBound2(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	linear := func(s []float64, x float64) int {
		for i, v := range s {
			if v >= x {
				return i
			}
		}
		return len(s)
	}
	for n := 0; n <= 130; n++ {
		for range 50 {
			s := make([]float64, n)
			for i := range s {
				s[i] = float64(rng.IntN(n/2 + 2)) // ties
			}
			slices.Sort(s)
			for range 20 {
				x, y := float64(rng.IntN(n/2+4))-1.5, float64(rng.IntN(n/2+4))-1
				gx, gy := lowerBound2(s, x, y)
				if wx, wy := linear(s, x), linear(s, y); gx != wx || gy != wy {
					t.Fatalf("n %d, %v: lowerBound2(%v, %v) = %d, %d, want %d, %d", n, s, x, y, gx, gy, wx, wy)
				}
			}
		}
	}
	// lowerBound2Pos: values and keys of +0 and up, from the smallest
	// subnormal to the largest float.
	pos := []float64{0, math.SmallestNonzeroFloat64, 1e-300, 0.25, 1, 1.5, 2, 3, 1e6, 1e300, math.MaxFloat64}
	for n := 0; n <= 130; n++ {
		for range 50 {
			s := make([]float64, n)
			for i := range s {
				s[i] = pos[rng.IntN(len(pos))]
			}
			slices.Sort(s)
			for range 20 {
				x, y := pos[rng.IntN(len(pos))], pos[rng.IntN(len(pos))]
				gx, gy := lowerBound2Pos(s, x, y)
				if wx, wy := linear(s, x), linear(s, y); gx != wx || gy != wy {
					t.Fatalf("n %d, %v: lowerBound2Pos(%v, %v) = %d, %d, want %d, %d", n, s, x, y, gx, gy, wx, wy)
				}
			}
		}
	}
}

// TestScoreThenAddSameBits: Add after Score (which finds where Add will
// move the values) leaves the sorted window as replaceSorted does, bit for
// bit, whether Add's value is the one scored, another, an equal zero of
// the other sign, or comes after a SetWindow of another window or a second
// Score.
func TestScoreThenAddSameBits(t *testing.T) {
	negZero := math.Copysign(0, -1)
	rng := rand.New(rand.NewPCG(9, 10))
	d := mustNew(t, Config{Window: 7, MinPoints: 3}.WithDefaults())
	var ring, sorted []float64 // the reference, oldest first
	pick := func() float64 {
		switch rng.IntN(5) {
		case 0:
			return negZero
		case 1:
			return 0
		case 2:
			return float64(rng.IntN(3))
		}
		return rng.NormFloat64()
	}
	for i := 0; i < 20000; i++ {
		x := pick()
		switch rng.IntN(6) {
		case 0:
			d.Score(pick())
		case 1:
			d.Score(x)
			d.Score(pick())
		case 2:
			d.Score(x)
			if len(ring) > 0 {
				ring[rng.IntN(len(ring))] = pick()
			}
			if err := d.SetWindow(ring); err != nil {
				t.Fatal(err)
			}
			sorted = slices.Clone(d.sorted)
		case 3:
			if x == 0 {
				d.Score(-x) // the other zero
			}
		default:
			d.Score(x)
		}
		if len(ring) < 7 {
			sorted = insertSorted(append(make([]float64, 0, 7), sorted...), x)
			ring = append(ring, x)
		} else {
			replaceSorted(sorted, ring[0], x)
			ring = append(ring[1:], x)
		}
		d.Add(x)
		for j := range sorted {
			if math.Float64bits(d.sorted[j]) != math.Float64bits(sorted[j]) {
				t.Fatalf("add %d: sorted %v, want %v", i, d.sorted, sorted)
			}
		}
	}
}
