package ewma

import (
	"math"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

func run(t testing.TB, xs []float64) []Score {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Score, len(xs))
	for i, x := range xs {
		out[i] = d.Update(x)
	}
	return out
}

func maxAbsZ(s []Score) float64 {
	m := 0.0
	for _, x := range s {
		m = math.Max(m, math.Abs(x.Z))
	}
	return m
}

func TestAnomalies(t *testing.T) {
	const at = 1000
	_, clean := synth.Series(1, 1200, 0, synth.None, at)
	if m := maxAbsZ(run(t, clean)[100:]); m > 5.5 {
		t.Errorf("noise scored |z| up to %.1f", m)
	}
	for _, tc := range []struct {
		kind synth.Kind
		want float64 // signed z at least this far out, at or after at
	}{{synth.Spike, 8}, {synth.Dip, -8}, {synth.LevelShift, 2.5}, {synth.VarianceRatio, 6}} {
		_, xs := synth.Series(1, 1200, 0, tc.kind, at)
		s := run(t, xs)
		best := 0.0
		for _, x := range s[at : at+20] {
			if math.Abs(x.Z) > math.Abs(best) && (x.Z > 0) == (tc.want > 0) || tc.kind == synth.VarianceRatio && math.Abs(x.Z) > math.Abs(best) {
				best = x.Z
			}
		}
		if math.Abs(best) < math.Abs(tc.want) {
			t.Errorf("kind %d: best z %.2f within 20 points, want beyond %.1f", tc.kind, best, tc.want)
		}
	}
}

func TestNoLookAhead(t *testing.T) {
	_, xs := synth.Series(2, 600, 10, synth.Spike, 400)
	full := run(t, xs)
	for _, n := range []int{1, 50, 399, 401} {
		for i, s := range run(t, xs[:n]) {
			if s != full[i] {
				t.Fatalf("prefix %d: point %d scored %+v, with more data %+v", n, i, s, full[i])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	_, xs := synth.Series(3, 500, 0, synth.None, 0)
	a, _ := New(Config{})
	for _, x := range xs[:300] {
		a.Update(x)
	}
	b, _ := New(Config{})
	st, _ := a.MarshalBinary()
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for _, x := range xs[300:] {
		if sa, sb := a.Update(x), b.Update(x); sa != sb {
			t.Fatalf("restored %+v, original %+v", sb, sa)
		}
	}
	st[1] = 99
	if err := b.UnmarshalBinary(st); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, xs := synth.Series(4, 4096, 10, synth.None, 0)
	d, _ := New(Config{})
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(xs[i&4095])
		i++
	}
}
