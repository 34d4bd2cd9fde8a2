package nab

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// weeklySeries is 8 weeks of 30-minute points with a daily cycle on
// weekdays and a lower, flatter weekend; with holiday ≥ 0, that day
// (counted from the start, a Thursday) looks like a Sunday.
func weeklySeries(seed uint64, holiday int) (ts []int64, xs []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	for i := range 8 * 7 * 48 {
		t := t0.Add(time.Duration(i) * 30 * time.Minute)
		day, h := i/48, float64(i%48)/2
		x := 100 + 40*math.Sin(math.Pi*(h-6)/12) // weekday
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday || day == holiday {
			x = 70 + 10*math.Sin(math.Pi*(h-9)/12)
		}
		ts = append(ts, t.UnixNano())
		xs = append(xs, x+3*rng.NormFloat64())
	}
	return ts, xs
}

// TestWeeklySource: a weekday that looks like a Sunday (a public holiday)
// stays inside the series' range, yet the weekly source fires within its
// first 12 hours; the same series without the holiday does not fire then,
// and white noise (no weekly pattern: below WeeklyStrength) never fires.
// (On a clean weekly series the source still sets a record of its noise
// now and then, 3–6 onsets in 8 weeks here, at WeeklyValue: the source
// is one member of the onset output, not an alert on its own.)
func TestWeeklySource(t *testing.T) {
	const holiday = 6*7 + 3 // the Thursday of the 7th week
	from, to := holiday*48, holiday*48+24
	onsets := func(ts []int64, xs []float64) (in int, all []int) {
		w := newWeeklySource(*defaultWeekly())
		for i := range ts {
			if w.Update(ts[i], xs[i]) > 0 {
				all = append(all, i)
				if i >= from && i < to {
					in++
				}
			}
		}
		return in, all
	}
	for seed := uint64(1); seed <= 4; seed++ {
		ts, xs := weeklySeries(seed, holiday)
		if in, all := onsets(ts, xs); in != 1 {
			t.Errorf("seed %d: %d onsets in the holiday's first 12 hours (points %d–%d), want 1; onsets at %v", seed, in, from, to-1, all)
		}
		ts, xs = weeklySeries(seed, -1)
		if in, all := onsets(ts, xs); in != 0 {
			t.Errorf("seed %d, no holiday: %d onsets at points %d–%d; onsets at %v", seed, in, from, to-1, all)
		}
		rng := rand.New(rand.NewPCG(seed, 4))
		for i := range xs {
			xs[i] = 100 + 3*rng.NormFloat64()
		}
		if _, all := onsets(ts, xs); len(all) > 0 {
			t.Errorf("seed %d, white noise: onsets at %v", seed, all)
		}
	}
}

func BenchmarkWeeklySource(b *testing.B) {
	ts, xs := weeklySeries(1, 6*7+3)
	b.ReportAllocs()
	b.SetBytes(16)
	w := newWeeklySource(*defaultWeekly())
	i := 0
	for b.Loop() {
		if i == len(ts) {
			w, i = newWeeklySource(*defaultWeekly()), 0
		}
		w.Update(ts[i], xs[i])
		i++
	}
}
