package binenc

import (
	"math"
	"testing"
)

// BenchmarkReader reads a record of the mix a detector's state holds:
// varints, signed varints, floats, a float slice and flags.
func BenchmarkReader(b *testing.B) {
	var rec []byte
	rec = AppendHeader(rec, 7, 1)
	for i := range 64 {
		rec = AppendU(rec, uint64(i)*1_000_003)
		rec = AppendI(rec, -int64(i)*977)
		rec = AppendF64(rec, math.Sqrt(float64(i)))
		rec = AppendBool(rec, i%2 == 0)
	}
	rec = AppendF64s(rec, make([]float64, 32))
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	fs := make([]float64, 32)
	var sink float64
	for b.Loop() {
		r := Reader{B: rec}
		r.Header(7, 1)
		for range 64 {
			sink += float64(r.U()) + float64(r.I()) + r.F64()
			if r.Bool() {
				sink++
			}
		}
		fs = r.F64s(fs, 32)
		if err := r.Done(); err != nil {
			b.Fatal(err)
		}
	}
	if math.IsNaN(sink) {
		b.Fatal("NaN")
	}
}
