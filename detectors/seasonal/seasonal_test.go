package seasonal

import (
	"math"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

const day = 288 // points of five minutes

func run(t testing.TB, ts []int64, xs []float64) []Score {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Score, len(xs))
	for i, x := range xs {
		out[i] = d.Update(ts[i], x)
	}
	return out
}

// TestSeasonalBreak: the daily cycle (amplitude 20 sigma) stops at a peak.
// The value stays inside the series' overall range, so a plain z-score
// misses it, but it is far from what this time of day expects.
func TestSeasonalBreak(t *testing.T) {
	at := 4*day + day/4 // the top of the sine
	ts, clean := synth.Series(7, 5*day, 20, synth.None, at)
	s := run(t, ts, clean)
	maxNoise := 0.0
	for _, x := range s[2*day:] {
		maxNoise = math.Max(maxNoise, math.Abs(x.Z))
	}
	if maxNoise > 6 {
		t.Errorf("clean seasonal series scored |z| up to %.1f", maxNoise)
	}
	ts, xs := synth.Series(7, 5*day, 20, synth.SeasonalBreak, at)
	s = run(t, ts, xs)
	if s[at+3].Z > -8 {
		t.Errorf("seasonal break scored %+v, want z < -8", s[at+3])
	}
	if math.Abs(s[at].Expected-120) > 3 {
		t.Errorf("expected %.1f at the peak, want about 120", s[at].Expected)
	}
	d, _ := New(Config{})
	for i := range 3 * day {
		d.Add(ts[i], clean[i])
	}
	if st := d.Strength(ts[3*day]); st < 0.9 {
		t.Errorf("strength of a strong daily cycle %.2f, want > 0.9", st)
	}
	ts2, flat := synth.Series(8, 3*day, 0, synth.None, 0)
	d2, _ := New(Config{})
	for i := range flat {
		d2.Add(ts2[i], flat[i])
	}
	if st := d2.Strength(ts2[len(ts2)-1]); st > 0.5 {
		t.Errorf("strength of noise without a cycle %.2f, want < 0.5", st)
	}
}

func TestSpikeAndDip(t *testing.T) {
	for _, k := range []synth.Kind{synth.Spike, synth.Dip} {
		ts, xs := synth.Series(9, 3*day, 20, k, 2*day+100)
		s := run(t, ts, xs)
		if z := s[2*day+100].Z; math.Abs(z) < 6 {
			t.Errorf("kind %d scored z %.1f", k, z)
		}
	}
}

func TestNoLookAhead(t *testing.T) {
	ts, xs := synth.Series(10, 3*day, 20, synth.Spike, 2*day)
	full := run(t, ts, xs)
	for _, n := range []int{1, day, 2 * day, 2*day + 1} {
		for i, s := range run(t, ts[:n], xs[:n]) {
			if s != full[i] {
				t.Fatalf("prefix %d: point %d scored %+v, with more data %+v", n, i, s, full[i])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ts, xs := synth.Series(11, 3*day, 20, synth.None, 0)
	a, _ := New(Config{})
	for i := range 2 * day {
		a.Update(ts[i], xs[i])
	}
	st, _ := a.MarshalBinary()
	b, _ := New(Config{})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 2 * day; i < len(xs); i++ {
		sa, sb := a.Update(ts[i], xs[i]), b.Update(ts[i], xs[i])
		if sa != sb {
			t.Fatalf("restored %+v, original %+v", sb, sa)
		}
	}
	c, _ := New(Config{Bins: 24})
	if err := c.UnmarshalBinary(st); err == nil {
		t.Fatal("state of 288 bins restored into 24")
	}
}

func BenchmarkUpdate(b *testing.B) {
	ts, xs := synth.Series(12, 4096, 20, synth.None, 0)
	d, _ := New(Config{})
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(ts[i&4095]+int64(i>>12)*4096*synth.Step, xs[i&4095])
		i++
	}
}
