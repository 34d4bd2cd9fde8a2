package levelshift

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBurstOfAnIdleSeries: a series idle for Accept points or more (a
// backup port idle for days) that carries traffic for fewer than Accept
// points is idle again when the traffic stops: nothing fires, and the
// next burst is a burst too. Traffic held for Accept points is the
// series' own level, and its failure fires; so does the failure of
// traffic after an idle stretch shorter than Accept (a cold start, in
// TestShifts). The idle count survives a restore. Before, the zeros
// before the first positive point were not counted, so the drop at the
// end of a five-minute burst after a week idle fired a shift that stayed
// on until traffic came back, hours or days later.
func TestBurstOfAnIdleSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	week := 7 * 8640
	f := func(name string, xs []float64, wantFired []int) {
		t.Helper()
		if fired, _ := events(t, xs); !slices.Equal(fired, wantFired) {
			t.Errorf("%s: fired at %v, want %v", name, fired, wantFired)
		}
	}
	f("a week idle, a 5-minute burst, idle", slices.Concat(repeat(0, week), traffic(rng, 30, 1e6), repeat(0, 3000)), nil)
	f("two bursts", slices.Concat(repeat(0, week), traffic(rng, 30, 1e6), repeat(0, 600), traffic(rng, 100, 5e7), repeat(0, 600)), nil)
	f("a week idle, traffic for an hour, a failure", slices.Concat(repeat(0, week), traffic(rng, 400, 1e6), repeat(0, 10)), []int{week + 401})

	// Restored between the burst's last point and the drop: the same.
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range slices.Concat(repeat(0, 400), traffic(rng, 30, 1e6)) {
		d.Update(x)
	}
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := New(Config{})
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if s := r.Update(0); s.Fire {
			t.Fatalf("restored: the drop after the burst fired at its point %d", i)
		}
	}
}
