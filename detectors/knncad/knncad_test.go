package knncad

import (
	"math"
	"math/rand/v2"
	"testing"
)

func series(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = 10 + math.Sin(float64(i)/8) + 0.05*rng.NormFloat64()
	}
	return xs
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Dim: -1}, {Dim: 300}, {Train: -1}, {Calib: -1}, {K: 500}, {Gap: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
}

// A spike is stranger than every recent shape; ordinary points are not.
func TestSpike(t *testing.T) {
	d, _ := New(Config{})
	xs := series(3000)
	xs[2500] += 5
	over := 0
	for i, x := range xs {
		s := d.Update(x)
		if i == 2500 {
			if !s.WarmedUp || s.Excess <= 1.5 || s.Score != 1 {
				t.Fatalf("spike: %+v", s)
			}
		} else if i > 1000 && i < 2500 && s.Excess > 1 {
			over++
		}
	}
	if over > 15 {
		t.Errorf("%d ordinary points above every recent nonconformity", over)
	}
}

// Scores of a prefix do not change when more points follow; NaN is ignored.
func TestPrefix(t *testing.T) {
	xs := series(1500)
	a, _ := New(Config{Dim: 5, Train: 100, Calib: 50})
	b, _ := New(Config{Dim: 5, Train: 100, Calib: 50})
	want := make([]Score, 1000)
	for i, x := range xs[:1000] {
		want[i] = a.Update(x)
	}
	for i, x := range xs {
		if i == 700 {
			if s := b.Update(math.NaN()); s != (Score{}) {
				t.Fatalf("NaN scored %+v", s)
			}
		}
		s := b.Update(x)
		if i < 1000 && s != want[i] {
			t.Fatalf("point %d: %+v, alone %+v", i, s, want[i])
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	d, _ := New(Config{Dim: 20})
	xs := series(4096)
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(xs[i&4095])
		i++
	}
}
