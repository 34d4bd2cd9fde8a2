package robustz

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

func TestLevelShiftAndRoundTrip(t *testing.T) {
	_, xs := synth.Series(5, 800, 0, synth.LevelShift, 500)
	d := mustNew(t, Config{Window: 120}.WithDefaults())
	var at Score
	for i, x := range xs {
		s := d.Update(x)
		if i == 505 {
			at = s
		}
	}
	if at.Z < 2 {
		t.Errorf("level shift of 3 sigma scored z %.2f five points in", at.Z)
	}
	a := mustNew(t, Config{Window: 60}.WithDefaults())
	for _, x := range xs[:200] {
		a.Update(x)
	}
	st, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := mustNew(t, Config{Window: 60}.WithDefaults())
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for _, x := range xs[200:400] {
		if sa, sb := a.Update(x), b.Update(x); sa != sb {
			t.Fatalf("restored %+v, original %+v", sb, sa)
		}
	}
	st[1] = 2
	if err := b.UnmarshalBinary(st); err == nil {
		t.Fatal("unknown version accepted")
	}
}

// BenchmarkUpdateSynth scores a noisy series, and (sparse) the rate of
// an error counter: 0 on most points, a few errors now and then.
func BenchmarkUpdateSynth(b *testing.B) {
	_, xs := synth.Series(6, 4096, 10, synth.None, 0)
	rng := rand.New(rand.NewPCG(6, 7))
	sparse := make([]float64, len(xs))
	for i := range sparse {
		if rng.IntN(8) == 0 {
			sparse[i] = float64(1 + rng.IntN(3))
		}
	}
	for _, c := range []struct {
		name string
		w    int
		xs   []float64
	}{{"window=60", 60, xs}, {"window=480", 480, xs}, {"window=60/sparse", 60, sparse}} {
		w, xs := c.w, c.xs
		b.Run(c.name, func(b *testing.B) {
			d := mustNew(b, Config{Window: w}.WithDefaults())
			for _, x := range xs[:w] {
				d.Add(x)
			}
			b.ReportAllocs()
			b.SetBytes(8)
			b.ReportMetric(float64(d.StateBytes()), "state-bytes")
			i := 0
			sink := 0.0
			for b.Loop() {
				sink += d.Update(xs[i&4095]).Z
				i++
			}
			if math.IsNaN(sink) {
				b.Fatal("nan")
			}
		})
	}
}
