package levelshift

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A series' first reading is not its level until MinPoints readings
// agree with it: a first reading far above or below the traffic that
// follows (a spike, a partial first interval) does not hide the next drop
// to zero behind a level the series never carried. Readings at zero do
// not restart the candidate (the idle-then-traffic case of TestShifts).
func TestFirstReadingNotLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		name  string
		first float64
	}{
		{"spike first", 1e11},
		{"partial first interval", 1e7},
	} {
		xs := slices.Concat([]float64{c.first}, traffic(rng, 15, 5e9), repeat(0, 5), traffic(rng, 10, 5e9))
		fired, back := events(t, xs)
		if !slices.Equal(fired, []int{17}) || !slices.Equal(back, []int{22}) {
			t.Errorf("%s: fired at %v and back at %v, want [17] and [22]", c.name, fired, back)
		}
	}
	// The candidate restarts only before the level is established: once
	// it is, a reading an order of magnitude off is a shift.
	d, _ := New(Config{})
	for _, x := range traffic(rng, 10, 5e9) {
		d.Update(x)
	}
	if !d.Established() {
		t.Fatal("not established after 10 agreeing readings")
	}
	d.Update(1e11)
	if s := d.Update(1e11); !s.Fire {
		t.Errorf("a jump ×20 after the level was established: %+v, want a shift", s)
	}
}
