package density

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// feed runs d over n points that are off at the given points (1-based, as
// d counts them) and returns the points whose onset fired.
func feed(t *testing.T, d *Detector, n int, off []int) []int {
	t.Helper()
	var fired []int
	for i := 1; i <= n; i++ {
		if d.Update(slices.Contains(off, i)) {
			fired = append(fired, i)
		}
	}
	return fired
}

// spikes returns the points of a spike at each of at plus every period
// from start to n.
func spikes(n, period int, at ...int) []int {
	var off []int
	for p := 0; p < n; p += period {
		for _, a := range at {
			if p+a <= n {
				off = append(off, p+a)
			}
		}
	}
	return off
}

// TestCloser: spikes twice every 100 points (at 1 and 7 of each hundred),
// then three more among them (2006, 2011, 2016; 2006 and 2007 are one
// run): the last four onsets span 15 points against a record of 104, and
// the fourth fires, once. Spikes every 5 points from then on are the same
// episode and fire nothing more.
func TestCloser(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	off := append(spikes(2100, 100, 1, 7), 2006, 2011, 2016)
	slices.Sort(off)
	if got := feed(t, d, 2100, off); !slices.Equal(got, []int{2016}) {
		t.Fatalf("fired at %v, want [2016]", got)
	}
	var got []int
	for i := 2101; i <= 4000; i++ {
		if d.Update(i%5 == 0) {
			got = append(got, i)
		}
	}
	if got != nil {
		t.Fatalf("spikes every 5 points after the alert: fired at %v", got)
	}
}

// TestRunIsOneOnset: a run of points off is one onset, so an incident
// that stays off for a while is not a burst of excursions.
func TestRunIsOneOnset(t *testing.T) {
	d, _ := New(Config{})
	off := spikes(1700, 100, 100) // 17 onsets, 100 apart
	for i := 2000; i < 2050; i++ {
		off = append(off, i) // one long run
	}
	if got := feed(t, d, 2100, off); got != nil {
		t.Fatalf("fired at %v", got)
	}
}

// TestWarm: nothing fires before Warm onsets, however tight. Seven
// onsets 100 apart make a record of 300; the 8th (702) and 9th (704)
// span 302 and 104, the 10th (706) 6, which fires with Warm 8 and not
// with Warm 20.
func TestWarm(t *testing.T) {
	off := []int{100, 200, 300, 400, 500, 600, 700, 702, 704, 706}
	d, _ := New(Config{Warm: 8})
	if got := feed(t, d, 800, off); !slices.Equal(got, []int{706}) {
		t.Fatalf("warm 8: fired at %v, want [706]", got)
	}
	d, _ = New(Config{Warm: 20})
	if got := feed(t, d, 800, off); got != nil {
		t.Fatalf("within warm-up: fired at %v", got)
	}
}

// TestRandomRarely: excursions at random (one point in 50 on average)
// over a million points fire at most 3 times (none with this seed).
func TestRandomRarely(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d, _ := New(Config{})
	var fired []int
	for i := 1; i <= 1_000_000; i++ {
		if d.Update(rng.IntN(50) == 0) {
			fired = append(fired, i)
		}
	}
	if len(fired) > 3 {
		t.Fatalf("random excursions fired %d times in 1e6 points (onsets ~2e4): %v", len(fired), fired)
	}
	t.Logf("fired at %v", fired)
}

// TestState: a restored detector goes on exactly as the original,
// whatever point it was saved at; a record of another configuration or a
// malformed one is refused.
func TestState(t *testing.T) {
	off := spikes(3000, 100, 1, 7)
	off = append(off, 2006, 2011, 2016)
	a, _ := New(Config{})
	for i := 1; i <= 3000; i++ {
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(Config{})
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatalf("point %d: %v", i, err)
		}
		x := slices.Contains(off, i)
		if fa, fc := a.Update(x), c.Update(x); fa != fc || a.Span() != c.Span() || a.Record() != c.Record() {
			t.Fatalf("point %d: restored fires %v, span %d, record %d; original %v, %d, %d", i, fc, c.Span(), c.Record(), fa, a.Span(), a.Record())
		}
	}
	b, _ := a.MarshalBinary()
	other, _ := New(Config{Onsets: 5})
	if err := other.UnmarshalBinary(b); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Fatalf("another configuration: %v", err)
	}
	if err := a.UnmarshalBinary(b[:len(b)-3]); err == nil {
		t.Fatal("a short record restored")
	}
}

// TestValidate names the field.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Onsets: 1}, "onsets: 1"},
		{Config{Onsets: 9}, "onsets: 9"},
		{Config{Tighter: 0.5}, "tighter: 0.5"},
		{Config{Onsets: 6, Warm: 5}, "warm: 5"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q…", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestWrap: the ring keeps points modulo 2^32, so a series whose point
// count crosses 2^32 in the middle of its spikes fires where one that
// starts at 0 does.
func TestWrap(t *testing.T) {
	off := append(spikes(2100, 100, 1, 7), 2006, 2011, 2016)
	slices.Sort(off)
	d, _ := New(Config{})
	d.n = 1<<32 - 1500 // its point 1 is 2^32 − 1499
	if got := feed(t, d, 2100, off); !slices.Equal(got, []int{2016}) {
		t.Fatalf("across 2^32: fired at %v, want [2016]", got)
	}
	if d.Span() != 15 || d.Record() != 104 {
		t.Fatalf("span %d, record %d; want 15 and 104 (1906 to 2010)", d.Span(), d.Record())
	}
}

// TestSize: the detector keeps 64 bytes.
func TestSize(t *testing.T) {
	d, _ := New(Config{})
	if n := d.StateBytes(); n != 64 {
		t.Fatalf("%d bytes, want 64", n)
	}
}

// TestAgain: the same three extra spikes a second time, after the spikes
// went back to twice every 100 points (the part replaced, then wearing
// out again), fire again: the episode's spans set no record.
func TestAgain(t *testing.T) {
	off := append(spikes(4100, 100, 1, 7), 2006, 2011, 2016, 4006, 4011, 4016)
	slices.Sort(off)
	d, _ := New(Config{})
	if got := feed(t, d, 4100, off); !slices.Equal(got, []int{2016, 4016}) {
		t.Fatalf("fired at %v, want [2016 4016]", got)
	}
}
