package robustz

import (
	"math/rand/v2"
	"testing"
)

func TestWindowRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{0, 5, 10, 11, 37} {
		a := mustNew(t, Config{Window: 10, MinPoints: 5}.WithDefaults())
		for i := 0; i < n; i++ {
			a.Add(rng.NormFloat64())
		}
		b := mustNew(t, Config{Window: 10, MinPoints: 5}.WithDefaults())
		if err := b.SetWindow(a.AppendWindow(nil)); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 30; i++ {
			x := rng.NormFloat64() * 3
			if sa, sb := a.Update(x), b.Update(x); sa != sb {
				t.Fatalf("after %d values, point %d: restored detector scored %+v, original %+v", n, i, sb, sa)
			}
		}
	}
	if err := mustNew(t, Config{Window: 3, MinPoints: 3}).SetWindow(make([]float64, 4)); err == nil {
		t.Fatal("an oversized window was accepted")
	}
}
