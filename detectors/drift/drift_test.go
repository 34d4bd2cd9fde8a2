package drift

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

func newDrift(t testing.TB) *Drift {
	t.Helper()
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// feed feeds n points of f(i) and returns the index of every event.
func feed(d *Drift, from, n int, f func(i int) float64) (fired, resolved []int) {
	for i := from; i < from+n; i++ {
		switch d.Update(f(i)) {
		case Fired:
			fired = append(fired, i)
		case Resolved:
			resolved = append(resolved, i)
		}
	}
	return fired, resolved
}

// simOptic is the simulator's receive power: uniform noise of ±0.05 dB,
// rounded to 0.01 dB (σ 0.029 dB).
func simOptic(rng *rand.Rand, base float64) float64 {
	return math.Round((base+0.05*(2*rng.Float64()-1))*100) / 100
}

// TestDriftFiresOnDecay: a receive power losing 6 dB over 720 points
// (the simulator's 2 h at 10 s) after 1000 healthy points, on 100 noise
// seeds: never fires before the decay, fires once, within 6 points of the
// first point at which the decay reaches 3 σ of the noise (sim.Config.
// FirstSymptom) and within 3 points on at least 85 of the 100 (measured:
// 92), and resolves on the point
// after the optic is replaced (the step back up, confirmed).
func TestDriftFiresOnDecay(t *testing.T) {
	const start, span, loss, seeds = 1000, 720, 6.0, 100
	sigma := 0.05 / math.Sqrt(3)
	symptom := start + int(math.Ceil(3*sigma/loss*span))
	inTime := 0
	for seed := range uint64(seeds) {
		d := newDrift(t)
		rng := rand.New(rand.NewPCG(seed, 1))
		level := func(i int) float64 {
			if i < start || i >= start+span {
				return -3
			}
			return -3 - loss*float64(i-start)/span
		}
		fired, resolved := feed(d, 0, 2000, func(i int) float64 { return simOptic(rng, level(i)) })
		if len(fired) != 1 || fired[0] < start || fired[0] > symptom+6 || len(resolved) != 1 || resolved[0] != start+span+1 {
			t.Fatalf("seed %d: fired at %v, resolved at %v; want one firing in [%d, %d] and a resolution at %d", seed, fired, resolved, start, symptom+6, start+span+1)
		}
		if fired[0] <= symptom+3 {
			inTime++
		}
	}
	t.Logf("%d of %d fired within 3 points of the first symptom", inTime, seeds)
	if inTime < 85 {
		t.Errorf("%d of %d fired within 3 points of the first symptom, want at least 85", inTime, seeds)
	}
}

// TestDriftQuietOnNoise: Gaussian noise (1 M points), a daily swing ten
// times the noise (three days at 10 s), a random walk far slower than
// the noise and noise with a spike of 20 σ every 500 points never fire.
func TestDriftQuietOnNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cases := map[string]func(i int) float64{
		"gaussian": func(int) float64 { return -5 + 0.03*rng.NormFloat64() },
		"daily swing": func(i int) float64 {
			return -5 + 0.3*math.Sin(2*math.Pi*float64(i)/8640) + 0.03*rng.NormFloat64()
		},
		"spikes": func(i int) float64 {
			if i%500 == 499 {
				return -5 - 0.6
			}
			return -5 + 0.03*rng.NormFloat64()
		},
		"slow walk": func() func(int) float64 {
			w := 0.0
			return func(int) float64 { w += 0.0005 * rng.NormFloat64(); return -5 + w + 0.03*rng.NormFloat64() }
		}(),
	}
	n := map[string]int{"gaussian": 1_000_000, "daily swing": 3 * 8640, "slow walk": 3 * 8640, "spikes": 100_000}
	for name, f := range cases {
		d := newDrift(t)
		if fired, _ := feed(d, 0, n[name], f); len(fired) != 0 {
			t.Errorf("%s: fired at %v", name, fired)
		}
	}
}

// TestDriftStepRelearns: an optic re-seated at a new stable level (a step
// of 2 dB, either way) does not fire; the rule then watches the new level
// and still fires on a decay there.
func TestDriftStepRelearns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, step := range []float64{-2, 2} {
		d := newDrift(t)
		level := func(i int) float64 {
			switch {
			case i < 1000:
				return -4
			case i < 3000:
				return -4 + step
			}
			return -4 + step - 0.01*float64(i-3000)
		}
		fired, _ := feed(d, 0, 3100, func(i int) float64 { return simOptic(rng, level(i)) })
		if len(fired) != 1 || fired[0] < 3000 || fired[0] > 3020 {
			t.Errorf("step %v: fired at %v, want once on the decay after 3000", step, fired)
		}
	}
}

// TestDriftFiresAbove: a rise beyond the envelope (a transmit power
// creeping up) fires above, and Dir says so; a return inside resolves.
func TestDriftFiresAbove(t *testing.T) {
	d := newDrift(t)
	rng := rand.New(rand.NewPCG(5, 6))
	level := func(i int) float64 {
		if i >= 500 && i < 600 {
			return 1 + 0.005*float64(i-500)
		}
		return 1
	}
	var fired, resolved []int
	for i := range 1000 {
		switch d.Update(simOptic(rng, level(i))) {
		case Fired:
			fired = append(fired, i)
			if d.Dir() != 1 || !d.Firing() {
				t.Errorf("fired with dir %d, firing %v", d.Dir(), d.Firing())
			}
			if s := d.Describe(level(i) + 0.2); !strings.Contains(s, "above") {
				t.Errorf("description %q", s)
			}
		case Resolved:
			resolved = append(resolved, i)
			// A step resolved it: the envelope is learned again from
			// the new level, which holds the point.
			x := d.last
			if lo, hi, _, _ := d.Envelope(); x < lo || x > hi || d.Firing() {
				t.Errorf("resolved at %d with %v outside the new envelope [%v, %v]", i, x, lo, hi)
			}
		}
	}
	// The rise reaches 0.5 dB at 600 and falls back in one step of 0.5
	// dB, 17 σ: a step, confirmed by the next point, resolves.
	if len(fired) != 1 || fired[0] > 540 || len(resolved) != 1 || resolved[0] != 601 {
		t.Fatalf("fired at %v, resolved at %v", fired, resolved)
	}
}

// TestDriftRoundTrip: a restored rule continues exactly, a record with
// trailing bytes returns them, and a cut or corrupt record is refused.
func TestDriftRoundTrip(t *testing.T) {
	a := newDrift(t)
	rng := rand.New(rand.NewPCG(9, 10))
	level := func(i int) float64 { return -3 - 0.01*float64(max(0, i-1000)) }
	feed(a, 0, 1005, func(i int) float64 { return simOptic(rng, level(i)) })
	rec, _ := a.AppendBinary([]byte("x"))
	b := newDrift(t)
	rest, err := b.Decode(append(rec[1:], 'y'))
	if err != nil || !bytes.Equal(rest, []byte("y")) {
		t.Fatalf("decode: %v, rest %q", err, rest)
	}
	if len(rec)-1 > StateBytes {
		t.Errorf("record of %d bytes, more than StateBytes %d", len(rec)-1, StateBytes)
	}
	for i := 1005; i < 2000; i++ {
		x := simOptic(rng, level(i))
		if ea, eb := a.Update(x), b.Update(x); ea != eb {
			t.Fatalf("point %d: %d before the restore, %d after", i, ea, eb)
		}
	}
	for n := range len(rec) - 1 {
		if _, err := b.Decode(rec[1 : 1+n]); err == nil {
			t.Fatalf("a record cut to %d bytes decoded", n)
		}
	}
	bad := bytes.Clone(rec[1:])
	bad[0] = 0x65
	if _, err := b.Decode(bad); err == nil {
		t.Error("a record of another tag decoded")
	}
}

func TestWatches(t *testing.T) {
	f := func(metric string, want bool) {
		t.Helper()
		if got := Watches(metric); got != want {
			t.Errorf("%s: %v, want %v", metric, got, want)
		}
	}
	f(schemas.MetricOpticInputPower, true)
	f(schemas.MetricOpticOutputPower, true)
	f(schemas.MetricLaneInputPower, true)
	f(schemas.MetricLaneOutputPower, true)
	f(schemas.MetricOpticLaserBias, false)
	f(schemas.MetricOpticSupplyVolts, false)
	f(schemas.MetricTemperature, false)
}

func TestConfigValidate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.WithDefaults().Validate()
		if (err == nil) != (want == "") || (err != nil && !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("%+v: %v, want %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{Warmup: 10}, "warmup:")
	f(Config{Margin: -1}, "margin:")
	f(Config{Run: -1}, "run:")
	f(Config{Clear: -1}, "clear:")
	f(Config{Step: 0.5}, "step:")
	f(Config{Follow: -1}, "follow:")
	f(Config{Memory: -1}, "memory:")
}

func BenchmarkDrift(b *testing.B) {
	d := newDrift(b)
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = -3 + 0.03*rng.NormFloat64()
	}
	b.ReportAllocs()
	for i := range b.N {
		d.Update(xs[i%len(xs)])
	}
}
