package likelihood

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRecord(t *testing.T) {
	r, err := NewRecord(RecordConfig{MinPoints: 10})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	maxRatio := 0.0
	for i := range 3000 {
		if x := r.Update(math.Abs(rng.NormFloat64())); i > 1000 {
			maxRatio = math.Max(maxRatio, x)
		}
	}
	if maxRatio > 1.3 {
		t.Errorf("noise reached %.2f × its record", maxRatio)
	}
	if got := r.Update(50); got < 1.5 {
		t.Errorf("a 50-sigma raw score is %.2f × the record, want > 1.5", got)
	}
	st, _ := r.MarshalBinary()
	r2, _ := NewRecord(RecordConfig{MinPoints: 10})
	if err := r2.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	if a, b := r.Update(3), r2.Update(3); a != b {
		t.Fatalf("restored %v, original %v", b, a)
	}
}

func TestCalibrator(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for range 1000 {
		c.Update(math.Abs(rng.NormFloat64()))
	}
	if l := c.Update(20); LogScale(l) < 0.5 {
		t.Errorf("likelihood of a 20-sigma score %v (log scale %v), want log scale > 0.5", l, LogScale(l))
	}
	st, _ := c.MarshalBinary()
	c2, _ := New(Config{})
	if err := c2.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	if a, b := c.Update(1), c2.Update(1); a != b {
		t.Fatalf("restored %v, original %v", b, a)
	}
}

func BenchmarkRecord(b *testing.B) {
	r, _ := NewRecord(RecordConfig{})
	b.ReportAllocs()
	i := 0.0
	for b.Loop() {
		r.Update(i)
		i += 0.001
	}
}

// TestRecordHeldScores: a skipped score counts towards the warm-up and
// lets the record decay but does not raise it until Raise.
func TestRecordHeldScores(t *testing.T) {
	r, _ := NewRecord(RecordConfig{MinPoints: 3, Decay: 0.5})
	f := func(step string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: %v, want %v", step, got, want)
		}
	}
	f("warming up", r.Ratio(10), 0)
	r.Add(3)    // record log 4, 1 score
	r.Skip(100) // record log 4 · 0.5, 2 scores
	f("a skipped score does not raise it", r.Max(), math.Log(4)/2)
	r.Raise(math.Log(8))
	f("raised", r.Max(), math.Log(8))
	r.Add(0) // zero does not count: 2 scores
	f("still warming up", r.Ratio(7), 0)
	r.Add(1) // 3 scores: warm; record max(log 8 · 0.25, log 2) = log 2
	f("warm", r.Ratio(7), 3)
}

// TestAddQuiet: AddQuiet and SkipQuiet leave a record bit for bit as Add
// and Skip do, on scores of every size (zero, NaN, negative, subnormal,
// huge) and on scores within a few units in the last place of the
// decayed record, the ones a wrong limit would misjudge; with Raise and
// restores of a lower record in between, for decays from none to nearly
// all.
func TestAddQuiet(t *testing.T) {
	for _, decay := range []float64{0, 0.0002, 0.01, 0.3, 0.999} {
		cfg := RecordConfig{Decay: decay, MinPoints: 1}
		exact, _ := NewRecord(cfg)
		quiet, _ := NewRecord(cfg)
		rng := rand.New(rand.NewPCG(7, uint64(decay*1e6)))
		near := 0
		for i := range 200_000 {
			var raw float64
			switch k := rng.IntN(16); {
			case k < 6:
				raw = math.Abs(rng.NormFloat64())
			case k < 8:
				raw = math.Exp(rng.NormFloat64() * 20) // heavy tail
			case k == 8:
				raw = []float64{0, math.NaN(), -1, 5e-324, 1e-300, 1e308, math.Inf(1)}[rng.IntN(7)]
			default: // at the decayed record, give or take a few ulps
				raw = math.Expm1(exact.Max() * (1 - decay))
				for range rng.IntN(7) - 3 {
					raw = math.Nextafter(raw, math.Inf(1))
				}
				for range 3 - rng.IntN(7) {
					raw = math.Nextafter(raw, 0)
				}
				near++
			}
			switch op := rng.IntN(20); {
			case op == 0:
				exact.Skip(raw)
				quiet.SkipQuiet(raw)
			case op == 1:
				g := Log(raw * 2)
				exact.Raise(g)
				quiet.Raise(g)
			case op == 2 && i%100 == 0:
				// A restore into records in use, of a record far below
				// theirs: a limit kept from before would be too high.
				low, _ := NewRecord(cfg)
				low.Add(rng.Float64())
				st, _ := low.MarshalBinary()
				if err := exact.UnmarshalBinary(st); err != nil {
					t.Fatal(err)
				}
				if err := quiet.UnmarshalBinary(st); err != nil {
					t.Fatal(err)
				}
			default:
				exact.Add(raw)
				quiet.AddQuiet(raw)
			}
			if math.Float64bits(exact.max) != math.Float64bits(quiet.max) || exact.n != quiet.n {
				t.Fatalf("decay %v, step %d, raw %v: quiet record %v (%d scores), exact %v (%d)", decay, i, raw, quiet.max, quiet.n, exact.max, exact.n)
			}
		}
		if near < 50_000 {
			t.Fatalf("decay %v: only %d scores near the record", decay, near)
		}
	}
}

// BenchmarkRecordQuiet compares Add and AddQuiet on noise scores.
func BenchmarkRecordQuiet(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	raws := make([]float64, 4096)
	for i := range raws {
		raws[i] = math.Abs(rng.NormFloat64())
	}
	for _, quiet := range []bool{false, true} {
		b.Run(map[bool]string{false: "add", true: "quiet"}[quiet], func(b *testing.B) {
			r, _ := NewRecord(RecordConfig{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if quiet {
					r.AddQuiet(raws[i&4095])
				} else {
					r.Add(raws[i&4095])
				}
				i++
			}
		})
	}
}

// TestQuietLimit: no raw score at most the quiet limit of a record m has
// a log(1 + raw) at or above m decayed over the limit's points, for
// records from about 1e-295 to the largest (a limit of expm1 of the
// decayed record itself would fail: log1p(expm1(m)) rounds above m for
// some m).
func TestQuietLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, decay := range []float64{0, 0.0002, 0.3} {
		for range 200_000 {
			m := math.Exp(rng.Float64()*700 - 680) // up to log(1 + 1e300) ≈ 690.8
			m = min(m, Log(1e300))
			lim := quietLimit(m, decay)
			low := m
			for range quietPoints - 1 {
				low *= 1 - decay
			}
			if lim > 0 && !(Log(lim) < low) {
				t.Fatalf("decay %v, record %v: limit %v has log %v, not below %v", decay, m, lim, Log(lim), low)
			}
		}
	}
}

// TestRecordRestoreRejects: a state whose record is negative, NaN or
// infinite is refused (no Add leaves one); a −0 is restored as the +0 an
// Add would leave.
func TestRecordRestoreRejects(t *testing.T) {
	for _, m := range []float64{-1, math.NaN(), math.Inf(1)} {
		r := Record{max: m}
		st, _ := r.MarshalBinary()
		if err := new(Record).UnmarshalBinary(st); err == nil {
			t.Errorf("record %v restored", m)
		}
	}
	r := Record{max: math.Copysign(0, -1)}
	st, _ := r.MarshalBinary()
	var got Record
	if err := got.UnmarshalBinary(st); err != nil || math.Signbit(got.max) {
		t.Errorf("−0 restored as %v (err %v), want +0", got.max, err)
	}
}
