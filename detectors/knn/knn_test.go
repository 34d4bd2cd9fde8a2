package knn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		if want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{Dim: -1}, "dim: -1 must be in [1, 64]")
	f(Config{History: 2000}, "history: 2000 must be in [1, 1024]")
	f(Config{Calib: -3}, "calib: -3 must be in [1, 1024]")
	f(Config{K: 9, History: 8}, "k: 9 must be in [1, min(history, 16)]")
	if _, err := New(Config{Dim: 100}); err == nil || !strings.HasPrefix(err.Error(), "knn: dim:") {
		t.Errorf("New: error %v", err)
	}
}

// wave is a noisy sine of period 20 points.
func wave(rng *rand.Rand, i int) float64 {
	return 10*math.Sin(2*math.Pi*float64(i)/20) + rng.NormFloat64()*0.3
}

// TestStrangeShape: a shape the series has not shown recently (the sine
// flattened for a few points, within its usual range, so no extreme)
// scores an Excess well above 1 and the top rank; the clean wave's points
// stay at most a little above the recent largest nonconformity.
func TestStrangeShape(t *testing.T) {
	d, _ := New(Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	cleanMax := 0.0
	for i := range 1000 {
		s := d.Update(wave(rng, i))
		if i > 200 && s.WarmedUp {
			cleanMax = max(cleanMax, s.Excess)
		}
	}
	if cleanMax > 1.5 {
		t.Errorf("clean wave: largest excess %v, want at most 1.5", cleanMax)
	}
	var strange Score
	for i := 1000; i < 1006; i++ {
		if s := d.Update(2 + rng.NormFloat64()*0.3); s.Excess > strange.Excess {
			strange = s
		}
	}
	if !strange.WarmedUp || strange.Excess < 2 || strange.Rank != 1 {
		t.Errorf("flattened wave: %+v, want warmed up, excess ≥ 2, rank 1 (clean max %v)", strange, cleanMax)
	}
}

// TestWarmUpAndBadValues: nothing is scored before K shapes are held,
// WarmedUp waits for Calib nonconformities, and NaN or infinite values
// change nothing.
func TestWarmUpAndBadValues(t *testing.T) {
	c := Config{Dim: 4, History: 10, Calib: 5, K: 2}
	d, _ := New(c)
	for i := range 20 {
		before, _ := d.MarshalBinary()
		for _, bad := range []float64{math.NaN(), math.Inf(1)} {
			if s := d.Update(bad); s != (Score{}) {
				t.Fatalf("point %d: %v scored %+v", i, bad, s)
			}
		}
		if after, _ := d.MarshalBinary(); !bytes.Equal(before, after) {
			t.Fatalf("point %d: a bad value changed the state", i)
		}
		s := d.Update(float64(i % 3))
		scored := i+1 >= c.Dim+c.K // K past shapes
		if (s.NCM != 0 || s.Rank != 0) && !scored {
			t.Errorf("point %d scored %+v before K shapes", i, s)
		}
		if want := i+1 >= c.Dim+c.K+c.Calib; s.WarmedUp != want {
			t.Errorf("point %d: warmed up %v, want %v", i, s.WarmedUp, want)
		}
	}
}

// TestState: a detector restored from its record at any point scores the
// rest of the series bit for bit as the original, and writes the same
// records; a record of another configuration or a cut one is refused.
func TestState(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = wave(rng, i) * math.Pow(10, float64(i/100))
	}
	for _, cut := range []int{0, 1, 5, 30, 72, 140, 399} {
		a, _ := New(Config{})
		for _, x := range xs[:cut] {
			a.Update(x)
		}
		rec, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(Config{})
		if err := b.UnmarshalBinary(rec); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		for i, x := range xs[cut:] {
			sa, sb := a.Update(x), b.Update(x)
			if math.Float64bits(sa.NCM) != math.Float64bits(sb.NCM) || math.Float64bits(sa.Excess) != math.Float64bits(sb.Excess) || sa.Rank != sb.Rank || sa.WarmedUp != sb.WarmedUp {
				t.Fatalf("cut %d, point %d: restored %+v, original %+v", cut, cut+i, sb, sa)
			}
		}
		ra, _ := a.MarshalBinary()
		rb, _ := b.MarshalBinary()
		if !bytes.Equal(ra, rb) {
			t.Fatalf("cut %d: records differ after the rest", cut)
		}
		other, _ := New(Config{Dim: 6})
		if err := other.UnmarshalBinary(rec); err == nil {
			t.Errorf("cut %d: a record of dim 8 restored into dim 6", cut)
		}
		if len(rec) > 2 {
			if err := b.UnmarshalBinary(rec[:len(rec)-1]); err == nil {
				t.Errorf("cut %d: a cut record restored", cut)
			}
		}
	}
}

// TestStateBytes: the default detector keeps at most 640 bytes, and its
// record once full is about as large.
func TestStateBytes(t *testing.T) {
	d, _ := New(Config{})
	for i := range 500 {
		d.Update(float64(i))
	}
	rec, _ := d.MarshalBinary()
	if d.StateBytes() > 640 || len(rec) > 640 {
		t.Errorf("state %d B, record %d B, want at most 640 each", d.StateBytes(), len(rec))
	}
	t.Logf("state %d B, record %d B", d.StateBytes(), len(rec))
}
