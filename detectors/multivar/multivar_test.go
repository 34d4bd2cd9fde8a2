package multivar

import (
	"math"
	"math/rand/v2"
	"testing"
)

// port makes vectors (in rate, out rate, temperature): out follows in,
// temperature is independent.
func port(rng *rand.Rand) []float64 {
	in := 1000 + 100*rng.NormFloat64()
	return []float64{in, 0.9*in + 5*rng.NormFloat64(), 40 + rng.NormFloat64()}
}

func TestBrokenRelationship(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d, err := New(Config{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	maxZ := 0.0
	for i := range 2000 {
		s, err := d.Update(port(rng))
		if err != nil {
			t.Fatal(err)
		}
		if i > 200 {
			maxZ = math.Max(maxZ, s.Z)
		}
	}
	if maxZ > 5.5 {
		t.Errorf("normal vectors scored z up to %.1f", maxZ)
	}
	// In and out are each within 1.5 sigma of their means, but out is far
	// from 0.9 × in.
	s, err := d.Update([]float64{1150, 0.9 * 850, 40})
	if err != nil {
		t.Fatal(err)
	}
	if s.Z < 8 {
		t.Errorf("broken relationship scored z %.1f (D2 %.1f), want > 8", s.Z, s.D2)
	}
	if s.Top != 1 && s.Top != 0 {
		t.Errorf("top contributor %d, want in (0) or out (1)", s.Top)
	}
	sum := 0.0
	for _, c := range s.Contrib {
		sum += c
	}
	if math.Abs(sum-s.D2) > 1e-9*s.D2 {
		t.Errorf("contributions sum to %v, D2 %v", sum, s.D2)
	}
	if s.Contrib[2] > 0.05*s.D2 {
		t.Errorf("temperature contributed %.2f of %.2f", s.Contrib[2], s.D2)
	}
}

func TestNoLookAheadAndRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([][]float64, 600)
	for i := range xs {
		xs[i] = port(rng)
	}
	full := make([]float64, len(xs))
	a, _ := New(Config{}, 3)
	for i, x := range xs {
		s, _ := a.Update(x)
		full[i] = s.D2
	}
	b, _ := New(Config{}, 3)
	for i, x := range xs[:300] {
		if s, _ := b.Update(x); s.D2 != full[i] {
			t.Fatalf("prefix score differs at %d", i)
		}
	}
	st, _ := b.MarshalBinary()
	c, _ := New(Config{}, 3)
	if err := c.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 300; i < len(xs); i++ {
		if s, _ := c.Update(xs[i]); s.D2 != full[i] {
			t.Fatalf("restored detector scored %v at %d, original %v", s.D2, i, full[i])
		}
	}
	if err := (&Detector{dims: 2}).UnmarshalBinary(st); err == nil {
		t.Fatal("3-dim state restored into 2 dims")
	}
}

func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([][]float64, 1024)
	for i := range xs {
		xs[i] = port(rng)
	}
	d, _ := New(Config{}, 3)
	b.ReportAllocs()
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(xs[i&1023])
		i++
	}
}
