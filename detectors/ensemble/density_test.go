package ensemble

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// burstDays is four days of a link's input-error rate read every 10 s:
// 0, with a burst of errors (one reading, 20 to 60 errors/s) every 2 to 4
// hours at random; from 80 h on, an optic wearing out, a burst at 80 h
// and then every 2 to 6 minutes, of the same sizes. It returns the points and when the wear
// began.
func burstDays() (ts []int64, xs []float64, wear int64) {
	const step = 10 * time.Second
	n := int(96 * time.Hour / step)
	rng := rand.New(rand.NewPCG(5, 11))
	ts, xs = make([]int64, n), make([]float64, n)
	next := time.Duration(rng.Int64N(int64(2 * time.Hour)))
	for i := range n {
		t := time.Duration(i) * step
		ts[i] = int64(t)
		if t == 80*time.Hour {
			next = t // the first burst of the wear
		}
		if t < next {
			continue
		}
		xs[i] = float64(20 + rng.IntN(41))
		if t < 80*time.Hour {
			next = t + 2*time.Hour + time.Duration(rng.Int64N(int64(2*time.Hour)))
		} else {
			next = t + 2*time.Minute + time.Duration(rng.Int64N(int64(4*time.Minute)))
		}
	}
	return ts, xs, int64(80 * time.Hour)
}

// TestDensityFires: the error bursts of a link, a few a day for three
// days and then every few minutes, fire one alert when they come closer
// together, caused by density, within four bursts of the change, and
// none between the first day and then: each burst is no larger than the
// ones before. Without the density member the change fires nothing. An
// ensemble restored before every point does the same.
func TestDensityFires(t *testing.T) {
	ts, xs, wear := burstDays()
	cfg := detectLike // density among its members
	cfg.Direction = DirectionUp
	sh, err := NewShared(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, rs := restoreEveryPoint(t, sh, ts, xs)
	var fired []int
	for i, r := range rs {
		if r.Transition == Fired && ts[i] >= int64(24*time.Hour) {
			fired = append(fired, i)
		}
	}
	if len(fired) != 1 || !rs[fired[0]].Cause.Has(Density) || rs[fired[0]].CauseTop != Density {
		for _, i := range fired {
			t.Logf("fired at %v: %v", time.Duration(ts[i]), rs[i].Cause.Names(nil))
		}
		t.Fatalf("%d alerts after the first day, want one of density's", len(fired))
	}
	at := time.Duration(ts[fired[0]])
	if w := time.Duration(wear); at < w || at > w+4*6*time.Minute {
		t.Fatalf("fired at %v, want within four bursts of %v", at, w)
	}

	// Without the member, nothing after the first day.
	off, _ := NewShared(without(cfg, "density"))
	e := off.New()
	for i := range xs {
		if r := e.Update(ts[i], xs[i]); r.Transition == Fired && ts[i] >= int64(24*time.Hour) {
			t.Fatalf("without density: fired at %v", time.Duration(ts[i]))
		}
	}
}

// TestDensityRestoresOlderRecords: a record written without the density
// member (an older build, or a configuration without it) restores into an
// ensemble with it, the member cold; so does one written with density and
// without range_break into an ensemble with both (range_break cold). Both
// go on to fire density's alert at the wear.
func TestDensityRestoresOlderRecords(t *testing.T) {
	ts, xs, wear := burstDays()
	base := without(detectLike, "density")
	base.Direction = DirectionUp
	with := func(members ...string) *Shared {
		c := base
		c.Detectors = append(slices.Clone(base.Detectors), members...)
		sh, err := NewShared(c)
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	for _, tc := range []struct {
		name     string
		from, to *Shared
	}{
		{"without density", with(), with("range_break", "density")},
		{"density without range_break", with("density"), with("range_break", "density")},
	} {
		a := tc.from.New()
		cut := int(24 * time.Hour / (10 * time.Second))
		for i := range cut {
			a.Update(ts[i], xs[i])
		}
		rec, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b := tc.to.New()
		if err := b.UnmarshalBinary(rec); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var fired []int64
		for i := cut; i < len(xs); i++ {
			if r := b.Update(ts[i], xs[i]); r.Transition == Fired && r.CauseTop == Density {
				fired = append(fired, ts[i])
			}
		}
		if len(fired) != 1 || fired[0] < wear {
			t.Errorf("%s: density fired at %v, want once after %v", tc.name, fired, time.Duration(wear))
		}
	}
}

// without returns c without the member named m.
func without(c Config, m string) Config {
	c.Detectors = slices.DeleteFunc(slices.Clone(c.Detectors), func(d string) bool { return d == m })
	return c
}
