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
