package knn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkUpdate is the cost of one point at the defaults on a noisy wave.
func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = wave(rng, i)
	}
	d, _ := New(Config{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.Update(xs[i%len(xs)])
	}
}
