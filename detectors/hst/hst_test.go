package hst

import (
	"sort"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

func TestSpikeStandsOut(t *testing.T) {
	f, err := NewForest(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const at = 3000
	for _, k := range []synth.Kind{synth.Spike, synth.Dip} {
		_, xs := synth.Series(16, 3200, 0, k, at)
		d := f.NewDetector()
		var normal []float64
		var spike float64
		for i, x := range xs {
			s := d.Update(x)
			if i == at {
				spike = s.Raw
			} else if i > 600 && s.WarmedUp {
				normal = append(normal, s.Raw)
			}
		}
		sort.Float64s(normal)
		p99 := normal[len(normal)*99/100]
		if spike <= p99 {
			t.Errorf("kind %d: spike scored %.3f, not above the 99th percentile of normal points %.3f", k, spike, p99)
		}
	}
}

func TestNoLookAheadAndRoundTrip(t *testing.T) {
	f, _ := NewForest(Config{Window: 64})
	_, xs := synth.Series(17, 1000, 10, synth.Spike, 700)
	full := make([]Score, len(xs))
	a := f.NewDetector()
	for i, x := range xs {
		full[i] = a.Update(x)
	}
	b := f.NewDetector()
	for i, x := range xs[:500] {
		if s := b.Update(x); s != full[i] {
			t.Fatalf("prefix score differs at %d", i)
		}
	}
	st, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := f.NewDetector()
	if err := c.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 500; i < len(xs); i++ {
		if s := c.Update(xs[i]); s != full[i] {
			t.Fatalf("restored detector scored %+v at %d, original %+v", s, i, full[i])
		}
	}
	g, _ := NewForest(Config{Trees: 3})
	if err := g.NewDetector().UnmarshalBinary(st); err == nil {
		t.Fatal("state restored into a forest of another shape")
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, xs := synth.Series(18, 4096, 10, synth.None, 0)
	f, _ := NewForest(Config{})
	d := f.NewDetector()
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(xs[i&4095])
		i++
	}
}
